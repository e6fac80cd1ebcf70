"""registerDevice, unregisterDevice: the signed-in account's push devices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import devices as rules
from domain.access import Principal
from domain.devices import Platform
from persistence.devices import StoredDevice
from persistence.uow import UnitOfWork


@dataclass(frozen=True)
class RegisterDevice:
    platform: Platform
    name: str
    endpoint: str | None = None  # Web Push: the subscription's endpoint and keys
    p256dh: str | None = None
    auth: str | None = None
    token: str | None = None  # APNs and FCM


@dataclass(frozen=True)
class UnregisterDevice:
    device_id: str


async def register_device(
    command: RegisterDevice,
    principal: Principal,
    uow: UnitOfWork,
    now: datetime,
    allow_http: bool = False,
) -> StoredDevice:
    """Add the device to the account (or move it here, with its new keys, if it was
    registered before, by this account or another)."""
    name = rules.check_name(command.name)
    if command.platform is Platform.WEB_PUSH:
        target = rules.check_web_push(
            command.endpoint or "", command.p256dh or "", command.auth or "", allow_http=allow_http
        )
    else:
        target = rules.check_native(command.platform, command.token or "")
    async with uow:
        owned = {d.target.address for d in await uow.devices.of_account(principal.account_id)}
        if target.address not in owned and len(owned) >= rules.MAX_DEVICES_PER_ACCOUNT:
            raise rules.TooManyDevices()
        device = await uow.devices.register(principal.account_id, target, name, now)
        await uow.commit()
    return device


async def unregister_device(
    command: UnregisterDevice, principal: Principal, uow: UnitOfWork, now: datetime
) -> None:
    async with uow:
        if not await uow.devices.remove(principal.account_id, command.device_id, now):
            raise rules.DeviceNotFound(field="id")
        await uow.commit()
