"""The periodic announcement of health maintenance topics that became due with time alone.

The EHR feed tells a topic that is due when an update arrives (persistence/ehr_maintenance.py);
a topic sent months ahead becomes due later, with no update. This job, run by the app every
`health_maintenance_interval_seconds` and by `portal announce-due-topics`, finds those topics
and tells each due date once through notify() (preferences honoured, the same generic text:
no topic named). The marker is the topic's `notified_for` (the due date told), set by a
conditional UPDATE in the transaction that adds the notifications: a second run, a restart or
a second instance finds nothing left, and a topic the feed already told is not told again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain import ehr
from domain.access import AgePolicy
from domain.health_maintenance import HealthMaintenancePolicy
from domain.scopes import RecordArea
from persistence import ehr_maintenance as topics
from persistence.uow import UnitOfWork
from usecases.ehr_maintenance import NOTICE_KIND
from usecases.ehr_ports import tell


@dataclass(frozen=True)
class AnnounceDueTopics:
    now: datetime


@dataclass(frozen=True)
class Announced:
    patients: int  # told (one notice each, whatever number of topics)
    topics: int

    def __str__(self) -> str:
        return f"announced {self.topics} due topic(s) to {self.patients} patient(s)"


async def announce_due_topics(
    command: AnnounceDueTopics,
    uow: UnitOfWork,
    ages: AgePolicy,
    policy: HealthMaintenancePolicy | None = None,
) -> Announced:
    policy = policy or HealthMaintenancePolicy()
    told: dict[str, int] = {}  # patient id -> topics, in patient order
    async with uow:
        for due in await topics.unannounced_due(uow.session, ages.today(command.now), policy):
            if await topics.mark_announced(uow.session, due):
                told[due.patient_id] = told.get(due.patient_id, 0) + 1
        text, area = ehr.maintenance_notice(), RecordArea.HEALTH_MAINTENANCE
        for patient_id in told:  # one generic notice each: it never names a topic
            await tell(uow, patient_id, NOTICE_KIND, area, text, patient_id, command.now, ages)
        await uow.commit()
    return Announced(len(told), sum(told.values()))
