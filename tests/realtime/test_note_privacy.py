"""The patient's privacy choices about clinical notes reach streams that are already open:
a note hidden mid-stream is no longer delivered to a proxy, a category opened mid-stream
is. Real servers, real WebSockets; "not delivered" is proven by order (see
test_delivery.py): the proxy's next event is the one written after the withheld one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from persistence import models as m
from persistence.db import create_engine, session_factory
from schema.base import to_global_id
from tests.conftest import Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import ACCOUNTS, Client, Family, token_for

NOTES = """subscription($patientId: ID, $afterSeq: ID) {
  noteSigned(patientId: $patientId, afterSeq: $afterSeq) { seq note { id title text } }
}"""
HIDE = """mutation($id: ID!) { setNoteHiddenFromProxies(input: {noteId: $id, hidden: true}) {
  errors { code } } }"""
OPEN = """mutation($grant: ID!) { setProxyNoteCategory(input: {grantId: $grant,
  category: BEHAVIORAL_HEALTH, open: true}) { errors { code } } }"""
GRANT = "pxg-live-susan"


def note_signed(patient_id: str, note_id: str, **data: Any) -> dict[str, Any]:
    body = {
        "noteId": note_id,
        "patientId": patient_id,
        "kind": "PROGRESS_NOTE",
        "title": note_id,
        "text": "Note text.",
        "authorName": "Dr. Live",
    }
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "NOTE_SIGNED",
        "occurredAt": datetime.now(UTC).isoformat(),
        "data": body | data,
    }


async def _susan_may_read_alex(database_url: str, alex: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                insert(m.ProxyGrant),
                [
                    {
                        "id": GRANT,
                        "patient_id": alex,
                        "proxy_account_id": ACCOUNTS["susan"],
                        "relationship": "caregiver",
                        "scopes": ["appointments", "clinical_notes"],
                        "status": "active",
                        "starts_at": datetime.now(UTC) - timedelta(days=1),
                        "ends_at": None,
                        "invitee_email": None,
                        "revoked_at": None,
                        "opened_note_categories": [],
                    }
                ],
            )
    finally:
        await engine.dispose()


async def _title(client: Client, op: str) -> str:
    data = await client.data(op)
    title: str = data["noteSigned"]["note"]["title"]
    return title


async def test_privacy_choices_take_effect_on_open_streams(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    await _susan_may_read_alex(live_db.url, people.alex)
    server = await start_server()
    since = await server.seq()
    alex_token, susan_token = token_for(ACCOUNTS["alex"]), token_for(ACCOUNTS["susan"])
    susan = await Client.connect(server, susan_token)
    susan_op = await susan.subscribe(NOTES, {"patientId": patient_gid(people.alex)}, after=since)
    alex = await Client.connect(server, alex_token)
    alex_op = await alex.subscribe(NOTES, after=since)

    await server.post_event(note_signed(people.alex, "nte-live-1"))
    assert await _title(susan, susan_op) == "nte-live-1"

    # Hidden mid-stream: its amendment (hidden too) is not delivered to the proxy.
    hidden = await server.gql(HIDE, {"id": to_global_id("ClinicalNote", "nte-live-1")}, alex_token)
    assert hidden["data"]["setNoteHiddenFromProxies"]["errors"] == []
    await server.post_event(note_signed(people.alex, "nte-live-2", amendsNoteId="nte-live-1"))
    # A sensitive note is not delivered either, until the category is opened to her.
    await server.post_event(
        note_signed(people.alex, "nte-live-3", sensitiveCategory="BEHAVIORAL_HEALTH")
    )
    opened = await server.gql(OPEN, {"grant": to_global_id("ProxyGrant", GRANT)}, alex_token)
    assert opened["data"]["setProxyNoteCategory"]["errors"] == []
    await server.post_event(
        note_signed(people.alex, "nte-live-4", sensitiveCategory="BEHAVIORAL_HEALTH")
    )
    assert await _title(susan, susan_op) == "nte-live-4"  # 2 and 3 were skipped

    # The patient's own stream had every one of them.
    titles = [await _title(alex, alex_op) for _ in range(4)]
    assert titles == ["nte-live-1", "nte-live-2", "nte-live-3", "nte-live-4"]
    await susan.close()
    await alex.close()
