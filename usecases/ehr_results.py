"""RESULT_FINALIZED and RESULT_RELEASED: a result stored, and pushed and announced the
moment it can be read (domain/results.py decides when: on release by the provider, or when
its hold ends; a hold still running leaves the announcement to the release job)."""

from __future__ import annotations

from datetime import datetime

from domain import ehr
from domain.events import EventKind
from domain.results import Release, release_of_result
from domain.scopes import RecordArea
from persistence import models as m
from persistence.uow import UnitOfWork
from usecases.ehr_ports import Applied, Ports, tell


async def result_finalized(
    c: ehr.ResultFinalized, occurred_at: datetime, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    repo = uow.ehr
    await repo.require(m.Patient, c.patient_id, "data.patientId", "patient")
    await repo.require(m.Provider, c.ordering_provider_id, "data.orderingProviderId", "provider")
    row = await repo.result_for_update(c.result_id)
    if row is not None and row.patient_id != c.patient_id:
        raise ehr.InvalidEvent([ehr.Problem("data.resultId", "is a result of another patient")])
    was_visible = row is not None and (await _release(uow, row, now, ports)).released
    if row is None:
        row = await repo.add_result(c)
    else:
        await repo.replace_result(row, c)
    if c.released_by_provider and row.released_at is None:
        row.released_at = min(occurred_at, now)
    await repo.add_components(row, c.components)
    if (await _release(uow, row, now, ports)).released:
        await _visible(uow, row, was_visible, now, ports)
    return Applied(row.patient_id, row.id)


async def result_released(
    c: ehr.ResultReleased, uow: UnitOfWork, now: datetime, ports: Ports
) -> Applied:
    row = await uow.ehr.result_for_update(c.result_id)
    if row is None:
        raise ehr.unknown("data.resultId", "result")
    ehr.check_owner("data.patientId", c.patient_id, row.patient_id)
    if row.released_at is not None and row.released_at <= now:
        return Applied(row.patient_id, row.id, changed=False)  # the EHR released it before
    was_visible = (await _release(uow, row, now, ports)).released
    row.released_at = now
    if not was_visible:
        await _visible(uow, row, False, now, ports)
    return Applied(row.patient_id, row.id)


async def _release(uow: UnitOfWork, row: m.Result, now: datetime, ports: Ports) -> Release:
    held = await uow.ehr.held_by_patient(row.patient_id, row.kind)
    return release_of_result(row, held_by_patient=held, now=now, policy=ports.release)


async def _visible(
    uow: UnitOfWork, row: m.Result, updated: bool, now: datetime, ports: Ports
) -> None:
    """The result can be read now: push it and tell the patient and allowed proxies."""
    uow.outbox.record(
        EventKind.RESULT_RELEASED,
        object_id=row.id,
        patient_id=row.patient_id,
        now=now,
        payload={"resultId": row.id, "kind": row.kind},
    )
    text = ehr.result_notice(updated)
    await tell(
        uow, row.patient_id, "RESULT_RELEASED", RecordArea.RESULTS, text, row.id, now, ports.ages
    )
