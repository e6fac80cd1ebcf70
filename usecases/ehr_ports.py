"""What every EHR feed use case (usecases/ehr*.py) shares: the ports it is given, the
outcome it returns, and how it tells a patient's readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.access import AgePolicy
from domain.clock import Clock
from domain.results import ReleasePolicy
from domain.scopes import RecordArea
from persistence.notify import Notice, notify
from persistence.uow import UnitOfWork


class Text(Protocol):
    """A notice's in-app words (domain/ehr.py NoticeText and its kin)."""

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...


@dataclass(frozen=True)
class Ports:
    clock: Clock
    release: ReleasePolicy
    ages: AgePolicy  # who is told (readers_of) and the dates they see


@dataclass(frozen=True)
class Applied:
    patient_id: str | None  # None: reference data, no patient's record (an explanation)
    object_id: str
    changed: bool = True


async def tell(
    uow: UnitOfWork,
    patient_id: str,
    kind: str,
    area: RecordArea,
    text: Text,
    object_id: str,
    now: datetime,
    ages: AgePolicy,
) -> None:
    """Notify everyone who may read `area` of the patient (persistence/notify.py decides who:
    a parent of an adolescent hears nothing of his results or messages), in the feed's
    transaction."""
    notice = Notice(kind, area, text.title, text.body, object_id)
    await notify(uow.session, patient_id, notice, now, ages)
