"""Background jobs: the due-appointment reminders (run by `portal remind` and, every
`reminder_interval_seconds`, by the app itself)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from domain.appointments import reminder_text
from domain.scopes import RecordArea
from persistence.notify import Notice, notify
from persistence.uow import UnitOfWork
from portal.services import Services

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


async def remind_periodically(services: Services, interval_seconds: float) -> None:
    """Run `send_due_reminders` every `interval_seconds` until cancelled; a failed run is
    logged and retried at the next tick."""
    while True:
        try:
            sent = await send_due_reminders(services, services.clock.now())
            if sent:
                log.info("sent %d appointment reminders", sent)
        except Exception:
            log.exception("appointment reminders failed; retrying in %.0fs", interval_seconds)
        await asyncio.sleep(interval_seconds)


def start_reminders(services: Services) -> asyncio.Task[None] | None:
    """The app's reminder loop, or None when `reminder_interval_seconds` is 0 (tests)."""
    interval = services.settings.reminder_interval_seconds
    if interval <= 0:
        return None
    return asyncio.create_task(remind_periodically(services, interval), name="reminders")


async def stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
