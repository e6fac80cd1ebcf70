"""Background jobs: the due-appointment reminders (run by `portal remind` and, every
`reminder_interval_seconds`, by the app itself) and the reconciliation of payments left
pending (`portal reconcile-payments`, and every `payment_reconcile_interval_seconds`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from domain.appointments import reminder_text
from domain.scopes import RecordArea
from persistence.notify import Notice, notify
from persistence.uow import UnitOfWork
from runtime.services import Services
from usecases.billing import ReconcilePayments, Reconciliation, reconcile_payments

log = logging.getLogger("portal.jobs")


async def send_due_reminders(services: Services, now: datetime) -> int:
    """Notify the patient (and the proxies who may read their appointments) once per
    appointment starting within `reminder_lead` of `now`; returns how many were reminded.

    Idempotent: a reminder is recorded per appointment and start time in the transaction
    that adds its notifications, and an appointment with one is skipped, so running again,
    or two instances at once, adds nothing. A rescheduled appointment is reminded anew.
    """
    policy = services.settings.appointments
    uow = UnitOfWork(services.sessions)
    sent = 0
    async with uow:
        for due in await uow.appointments.due_reminders(now, now + policy.reminder_lead):
            if not await uow.appointments.mark_reminded(due.appointment_id, due.starts_at, now):
                continue  # another run reminded it meanwhile
            title, body = reminder_text(
                due.visit_type, due.starts_at, due.department_name, due.timezone
            )
            notice = Notice(
                "APPOINTMENT_REMINDER", RecordArea.APPOINTMENTS, title, body, due.appointment_id
            )
            await notify(uow.session, due.patient_id, notice, now, services.settings.ages)
            sent += 1
        await uow.commit()
    return sent


async def reconcile_pending_payments(services: Services, now: datetime) -> Reconciliation:
    """Settle or release the payments a dead process left pending (usecases/billing.py)."""
    command = ReconcilePayments(
        now=now, pending_before=now - services.settings.payment_reconcile_after
    )
    return await reconcile_payments(command, UnitOfWork(services.sessions), services.gateway)


async def run_periodically(
    name: str, interval_seconds: float, job: Callable[[], Awaitable[object]]
) -> None:
    """Run `job` now and every `interval_seconds` until cancelled; a failed run (the database
    away, say) is logged and retried at the next tick. Every job here is idempotent."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed; retrying in %.0fs", name, interval_seconds)
        await asyncio.sleep(interval_seconds)


async def _remind(services: Services) -> None:
    sent = await send_due_reminders(services, services.clock.now())
    if sent:
        log.info("sent %d appointment reminders", sent)


def start_reminders(services: Services) -> asyncio.Task[None] | None:
    """The app's reminder loop, or None when `reminder_interval_seconds` is 0 (tests)."""
    interval = services.settings.reminder_interval_seconds
    if interval <= 0:
        return None
    loop = run_periodically("appointment reminders", interval, lambda: _remind(services))
    return asyncio.create_task(loop, name="reminders")


def start_payment_reconciliation(services: Services) -> asyncio.Task[None] | None:
    """The app's reconciliation loop, or None when its interval is 0 (tests)."""
    interval = services.settings.payment_reconcile_interval_seconds
    if interval <= 0:
        return None
    loop = run_periodically(
        "payment reconciliation",
        interval,
        lambda: reconcile_pending_payments(services, services.clock.now()),
    )
    return asyncio.create_task(loop, name="payment-reconciliation")


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
