"""The messaging use cases called as a job or the CLI would call them: no GraphQL, no HTTP,
a real database and file store, the access policy's grant (or its check) passed in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from domain import messages as rules
from domain.access import AccessDenied, PatientGrant, access_patient
from domain.attachments import AcceptedFile, accept_files
from domain.scopes import RecordArea
from persistence import models as m
from persistence.files import FileStore
from persistence.uow import UnitOfWork
from tests.conftest import ACCOUNT_IDS, ALEX, LEO_ACCOUNT, NOW, Portal
from usecases import attachments as attachments_uc
from usecases import messages as usecases

ALEX_PATIENT = "pat-0000001"


@dataclass
class File:
    """A file part as Starlette hands it over: a name and an async read."""

    filename: str | None
    content: bytes

    async def read(self, size: int = -1) -> bytes:
        return self.content if size < 0 else self.content[:size]


async def _principal(portal: Portal, username: str) -> usecases.Act:
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        principal, _ = await uow.accounts.principal(ACCOUNT_IDS[username], NOW)
    assert principal is not None
    ages = portal.services.settings.ages

    def act(patient_id: str, area: RecordArea, _object_type: str) -> PatientGrant:
        return access_patient(principal, patient_id, area, ages)

    return act


def _ports(portal: Portal) -> usecases.Ports:
    settings = portal.services.settings
    return usecases.Ports(settings.messaging, portal.services.files, NOW, NOW.date(), "Alex")


async def test_send_message_stores_thread_message_file_and_event(fresh_portal: Portal) -> None:
    act = await _principal(fresh_portal, ALEX)
    grant = act(ALEX_PATIENT, RecordArea.MESSAGES, "Message")
    command = usecases.SendMessage(
        patient_id=ALEX_PATIENT,
        body="  Can I move my visit?  ",
        category=rules.Category.SCHEDULING,
        subject="Moving my visit",
        attachments=[File("note.txt", b"Tuesdays are best")],
    )
    uow = UnitOfWork(fresh_portal.services.sessions)
    sent = await usecases.send_message(command, grant, uow, _ports(fresh_portal))

    assert sent.message.body == "Can I move my visit?"
    assert (sent.thread.subject, sent.thread.care_team) == (
        "Moving my visit",
        "Scheduling - Access Center",
    )
    async with uow:
        a, e = m.Attachment, m.OutboxEvent
        stored = (
            await uow.session.scalars(select(a.storage_key).where(a.message_id == sent.message.id))
        ).one()
        events = (
            await uow.session.execute(
                select(e.kind, e.patient_id).where(e.object_id == sent.message.id)
            )
        ).all()
    assert await fresh_portal.services.files.read(stored) == b"Tuesdays are best"
    assert [tuple(row) for row in events] == [("MESSAGE_RECEIVED", ALEX_PATIENT)]


async def test_a_refused_send_writes_no_row_and_no_file(fresh_portal: Portal) -> None:
    act = await _principal(fresh_portal, ALEX)
    grant = act(ALEX_PATIENT, RecordArea.MESSAGES, "Message")
    command = usecases.SendMessage(
        patient_id=ALEX_PATIENT,
        body="A reply",
        thread_id="thr-nope",
        attachments=[File("note.txt", b"text")],
    )
    uow = UnitOfWork(fresh_portal.services.sessions)
    before = await _written(fresh_portal)
    with pytest.raises(rules.ThreadNotFound):
        await usecases.send_message(command, grant, uow, _ports(fresh_portal))
    assert await _written(fresh_portal) == before


async def _written(portal: Portal) -> tuple[int, int, int]:
    """Messages, attachments and stored files."""
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        messages = len((await uow.session.scalars(select(m.Message.id))).all())
        attachments = len((await uow.session.scalars(select(m.Attachment.id))).all())
    root = portal.services.files.root
    files = sum(1 for path in root.rglob("*") if path.is_file()) if root.exists() else 0
    return messages, attachments, files


async def _store_then_fail(files: FileStore, accepted: list[AcceptedFile]) -> list[str]:
    stored: list[str] = []
    try:
        async with files.kept(accepted) as keys:
            stored = keys
            assert await files.exists(keys[0])
            raise RuntimeError("the transaction failed")
    except RuntimeError:
        return stored


async def test_files_stored_for_a_write_that_fails_are_removed(fresh_portal: Portal) -> None:
    files = fresh_portal.services.files
    policy = fresh_portal.services.settings.messaging.attachments
    accepted = accept_files(
        await attachments_uc.read_uploads([File("a.txt", b"one")], policy), policy
    )
    keys = await _store_then_fail(files, accepted)
    assert keys
    assert not await files.exists(keys[0])


async def test_mark_thread_read_checks_the_owner_before_writing(fresh_portal: Portal) -> None:
    """The thread's patient is read, then `act` decides: another family's thread is refused
    and no read mark is written."""
    act = await _principal(fresh_portal, ALEX)
    grant = act(ALEX_PATIENT, RecordArea.MESSAGES, "Message")
    new_thread = usecases.SendMessage(
        patient_id=ALEX_PATIENT,
        body="Hello",
        category=rules.Category.BILLING,
        subject="A bill",
    )
    uow = UnitOfWork(fresh_portal.services.sessions)
    sent = await usecases.send_message(new_thread, grant, uow, _ports(fresh_portal))

    someone_else = await _principal(fresh_portal, LEO_ACCOUNT)
    with pytest.raises(AccessDenied):
        await usecases.mark_thread_read(
            usecases.MarkThreadRead(sent.thread.id), someone_else, uow, NOW
        )
    read = select(m.ThreadRead.account_id, m.ThreadRead.read_through).where(
        m.ThreadRead.thread_id == sent.thread.id
    )
    async with uow:
        assert (await uow.session.execute(read)).all() == []

    thread, read_grant = await usecases.mark_thread_read(
        usecases.MarkThreadRead(sent.thread.id), act, uow, NOW
    )
    assert (thread.id, read_grant.patient_id) == (sent.thread.id, ALEX_PATIENT)
    async with uow:
        marks = (await uow.session.execute(read)).all()
    assert [tuple(row) for row in marks] == [(ACCOUNT_IDS[ALEX], NOW)]
