"""updateContactInfo, confirmEmailChange: a patient keeps their own contact details current.

Self only (the grant is the patient's own). Everything is checked before anything is
written, so a bad phone number leaves the address untouched too. A new email address
replaces the old one only once the code sent to the new address comes back; the old address
is told of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from domain import account_mail
from domain import accounts as codes
from domain import contact as rules
from domain.access import PatientGrant, Principal
from domain.errors import Collector
from persistence.lifecycle import mails_to_since
from usecases.accounts import Ports, mail, refuse


@dataclass(frozen=True)
class NewAddress:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class UpdateContactInfo:
    patient_id: str
    address: NewAddress | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ConfirmEmailChange:
    patient_id: str
    code: str


async def update_contact_info(
    command: UpdateContactInfo, grant: PatientGrant, principal: Principal, ports: Ports
) -> str | None:
    """`grant`: the patient's own. The new email waiting for its code, if one was asked."""
    uow, now, ttl = ports.uow, ports.now, ports.lifecycle.verification_ttl
    values, new_email = _changes(command)
    if not values and new_email is None:
        raise rules.NothingToChange()
    pending = None
    async with uow:
        current_email, _account_id = await uow.contact.current(grant)
        if values:
            await uow.contact.update(grant, values)
        if new_email is not None and not rules.same_email(new_email, current_email):
            await _may_mail(ports, new_email)
            code = codes.new_numeric_code()
            await uow.contact.request_email_change(
                grant,
                account_id=principal.account_id,
                new_email=new_email,
                code=code,
                now=now,
                ttl=ttl,
            )
            mail(ports, new_email, *account_mail.email_change_code(code, ttl))
            pending = new_email
        await uow.commit()
    return pending


async def confirm_email_change(
    command: ConfirmEmailChange, grant: PatientGrant, ports: Ports
) -> None:
    """`grant`: the patient's own."""
    uow, now = ports.uow, ports.now
    async with uow:
        change = await uow.contact.pending_email_change(grant)
        if change is None:
            raise rules.NoEmailChangePending()
        refuse(codes.code_problem(change.state, now, ports.lifecycle))
        if not codes.codes_match(change.code_hash, f"{change.id}:{command.code.strip()}"):
            await uow.contact.count_attempt(change.id)
            await uow.commit()
            raise codes.InvalidCode(field="code")
        old_email, account_id = await uow.contact.current(grant)
        if await uow.accounts.email_taken(change.new_email, other_than=account_id):
            raise codes.EmailInUse(field="code")
        if not await uow.contact.use_email_change(change.id, now):
            raise rules.NoEmailChangePending()  # a concurrent confirmation won
        await uow.contact.update(grant, {"email": change.new_email})
        if account_id is not None:
            await uow.accounts.set_email(account_id, change.new_email)
        if old_email is not None:
            mail(ports, old_email, *account_mail.email_changed(change.new_email))
        try:
            await uow.commit()
        except IntegrityError:  # another account took the address a moment ago
            raise codes.EmailInUse(field="code") from None


def _changes(command: UpdateContactInfo) -> tuple[dict[str, Any], str | None]:
    """The new address and phone, and the new email; every invalid field is reported."""
    found = Collector()
    values: dict[str, Any] = {}
    if command.address is not None:
        a = command.address
        address = found.check(
            rules.postal_address, a.line1, a.line2, a.city, a.state, a.postal_code
        )
        if address is not None:
            values["address"] = address.as_json()
    if command.phone is not None:
        values["phone"] = found.check(rules.phone_number, command.phone)
    email = found.check(rules.email_address, command.email) if command.email is not None else None
    found.raise_any()
    return values, email


async def _may_mail(ports: Ports, address: str) -> None:
    recent = await mails_to_since(ports.uow.session, address, ports.now - timedelta(hours=1))
    if not codes.may_send_another(recent, ports.lifecycle):
        raise rules.TooManyCodes()
