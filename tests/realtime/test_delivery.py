"""Who receives what: patient, parent, caregiver, adolescent and an unrelated account, over
a real server, with events caused through the EHR feed and through a mutation.

"Nothing else arrived" is proven by order, not by waiting: each subscription receives its
events in commit order, so when a client's next event is the one written after a forbidden
one, the forbidden one was not delivered to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import update

from persistence import models as m
from persistence.db import create_engine, session_factory
from tests.conftest import Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    Server,
    appointment_changed,
    provider_reply,
    result_finalized,
    stranger,
    thread_of,
)

MESSAGES = """subscription($patientId: ID, $afterSeq: ID) {
  messageReceived(patientId: $patientId, afterSeq: $afterSeq) {
    seq message { body sender { kind } } thread { patient { id } }
  }
}"""
RESULTS = """subscription($patientId: ID, $afterSeq: ID) {
  resultReleased(patientId: $patientId, afterSeq: $afterSeq) {
    seq result { id name releaseStatus components { value } }
  }
}"""
APPOINTMENTS = """subscription($patientId: ID, $afterSeq: ID) {
  appointmentChanged(patientId: $patientId, afterSeq: $afterSeq) {
    seq patient { id } appointment { id status }
  }
}"""
NOTIFICATIONS = """subscription($afterSeq: ID) {
  notificationAdded(afterSeq: $afterSeq) { seq notification { kind patient { id } } }
}"""
SEND_MESSAGE = """mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { errors { code message } }
}"""


async def _bodies(client: Client, op: str, count: int) -> list[str]:
    bodies = []
    for _ in range(count):
        data = await client.data(op)
        bodies.append(data["messageReceived"]["message"]["body"])
    return bodies


async def test_each_account_receives_exactly_the_messages_it_may_read(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    clients: dict[str, tuple[Client, str]] = {}
    since = await server.seq()
    for who in ("alex", "jordan", "leo", "susan", "daniel"):
        client = await Client.connect(server, await server.token(ACCOUNTS[who]))
        clients[who] = (client, await client.subscribe(MESSAGES, after=since))
    threads = {
        p: await thread_of(live_db.url, p) for p in (people.mia, people.leo, people.margaret)
    }

    async def reply(patient: str, body: str) -> None:
        thread, provider = threads[patient]
        await server.post_event(provider_reply(thread, provider, body))

    # A subscription is live once its first event arrives: prime them all in one go.
    await reply(people.mia, "m0")
    await reply(people.leo, "l0")
    await reply(people.margaret, "g0")
    for who, expected in (("alex", "m0"), ("jordan", "m0"), ("leo", "l0"), ("susan", "g0")):
        client, op = clients[who]
        assert await _bodies(client, op, 1) == [expected], who

    await reply(people.margaret, "g1")
    await reply(people.leo, "l1")
    await reply(people.mia, "m1")
    # A proxy's own message through the mutation: the other parent's session sees it too.
    sent = await server.gql(
        SEND_MESSAGE,
        {
            "input": {
                "patientId": patient_gid(people.mia),
                "threadId": _thread_gid(threads[people.mia][0]),
                "body": "from alex",
            }
        },
        await server.token(ACCOUNTS["alex"]),
    )
    assert sent.get("errors") is None, sent
    assert sent["data"]["sendMessage"]["errors"] == [], sent
    await reply(people.margaret, "g2")
    await reply(people.leo, "l2")
    await reply(people.mia, "m2")
    await reply(people.leo, "l3")
    await reply(people.margaret, "g3")

    alex, jordan, leo, susan = (clients[w] for w in ("alex", "jordan", "leo", "susan"))
    assert await _bodies(*alex, 3) == ["m1", "from alex", "m2"]
    assert await _bodies(*jordan, 3) == ["m1", "from alex", "m2"]
    assert await _bodies(*leo, 3) == ["l1", "l2", "l3"]
    assert await _bodies(*susan, 3) == ["g1", "g2", "g3"]
    daniel, _op = clients["daniel"]
    await daniel.silent(0.5)  # every event was delivered to the others by now


def _thread_gid(thread_id: str) -> str:
    from schema.base import to_global_id

    return str(to_global_id("MessageThread", thread_id))


async def test_a_parent_never_receives_an_adolescents_results(
    start_server: StartServer, people: Family
) -> None:
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    since = await server.seq()
    alex_results = await alex.subscribe(RESULTS, after=since)
    alex_visits = await alex.subscribe(APPOINTMENTS, after=since)
    alex_notes = await alex.subscribe(NOTIFICATIONS, after=since)
    leo_only = await alex.subscribe(RESULTS, {"patientId": patient_gid(people.leo)})
    refused = await alex.next(leo_only)
    assert refused["type"] == "next"
    (error,) = refused["payload"]["errors"]
    assert error["extensions"] == {
        "code": "FORBIDDEN",
        "reason": "ADOLESCENT_CONFIDENTIAL",
        "area": "RESULTS",
    }
    assert (await alex.next(leo_only))["type"] == "complete"
    leo = await Client.connect(server, await server.token(ACCOUNTS["leo"]))
    leo_results = await leo.subscribe(RESULTS, after=since)

    # Prime: a result for Mia reaches Alex's subscriptions, one for Leo reaches Leo.
    await server.post_event(result_finalized(people.mia, "res-prime-mia"))
    assert _result_id(await alex.data(alex_results)) == _gid("Result", "res-prime-mia")
    assert (await alex.data(alex_notes))["notificationAdded"]["notification"]["kind"] == (
        "RESULT_RELEASED"
    )
    await server.post_event(result_finalized(people.leo, "res-prime-leo"))
    assert _result_id(await leo.data(leo_results)) == _gid("Result", "res-prime-leo")

    await server.post_event(result_finalized(people.leo, "res-leo-1"))
    await server.post_event(result_finalized(people.mia, "res-mia-1"))
    visit = await _appointment_of(server, people.leo)
    await server.post_event(visit)

    results = await alex.data(alex_results)
    assert _result_id(results) == _gid("Result", "res-mia-1")  # Leo's came first, and not here
    assert results["resultReleased"]["result"]["components"] == [{"value": 92.0}]
    changed = (await alex.data(alex_visits))["appointmentChanged"]
    assert changed["patient"]["id"] == patient_gid(people.leo)  # appointments: a parent area
    notes = [(await alex.data(alex_notes))["notificationAdded"]["notification"] for _ in (1, 2)]
    assert [(n["kind"], n["patient"]["id"]) for n in notes] == [
        ("RESULT_RELEASED", patient_gid(people.mia)),
        ("APPOINTMENT_CHANGED", patient_gid(people.leo)),
    ]
    assert _result_id(await leo.data(leo_results)) == _gid("Result", "res-leo-1")


def _gid(kind: str, row_id: str) -> str:
    from schema.base import to_global_id

    return str(to_global_id(kind, row_id))


def _result_id(data: dict[str, Any]) -> str:
    return str(data["resultReleased"]["result"]["id"])


async def _appointment_of(server: Any, patient_id: str) -> dict[str, Any]:
    from tests.realtime.harness import appointment_changed

    return await appointment_changed(server, patient_id)


async def test_a_proxys_message_reaches_the_patients_own_session(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """Jordan, Alex's spouse with a MESSAGES grant, writes in her thread: she sees it live."""
    engine = create_engine(live_db.url)
    async with session_factory(engine)() as session:
        await session.execute(
            update(m.ProxyGrant)
            .where(
                m.ProxyGrant.patient_id == people.alex,
                m.ProxyGrant.proxy_account_id == ACCOUNTS["jordan"],
            )
            .values(status="active", scopes=["appointments", "billing", "messages"])
        )
        await session.commit()
    await engine.dispose()
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await alex.subscribe(
        """subscription($afterSeq: ID) {
          messageReceived(afterSeq: $afterSeq) { message { body sender { kind name } } }
        }""",
        after=await server.seq(),
    )
    thread, _provider = await thread_of(live_db.url, people.alex)
    sent = await server.gql(
        SEND_MESSAGE,
        {
            "input": {
                "patientId": patient_gid(people.alex),
                "threadId": _thread_gid(thread),
                "body": "picked up your prescription",
            }
        },
        await server.token(ACCOUNTS["jordan"]),
    )
    assert sent["data"]["sendMessage"]["errors"] == [], sent
    message = (await alex.data(op))["messageReceived"]["message"]
    assert message["body"] == "picked up your prescription"
    assert message["sender"]["name"].startswith("Jordan")


# -- without afterSeq (what GraphiQL sends) ------------------------------------------------
class _Causes:
    """Events caused one at a time through the server; the rows of the n-th one have the
    seqs in (marks[n-1], marks[n]] (nothing else writes events on a test server)."""

    def __init__(self, server: Server, cause: Callable[[int], Awaitable[None]]) -> None:
        self.server, self.cause = server, cause
        self.marks: list[int] = []

    async def start(self) -> None:
        self.marks = [int(await self.server.seq())]

    async def one(self) -> None:
        await self.cause(len(self.marks))
        self.marks.append(int(await self.server.seq()))

    @property
    def count(self) -> int:
        return len(self.marks) - 1

    def which(self, data: dict[str, Any]) -> int:
        """The cause (1, 2, ...) an event's data came from; fails for anything older."""
        seq = int(next(iter(data.values()))["seq"])
        for n in range(1, len(self.marks)):
            if self.marks[n - 1] < seq <= self.marks[n]:
                return n
        raise AssertionError(f"seq {seq} was not caused after subscribing: {self.marks}")


async def _first_live(client: Client, op: str, causes: _Causes) -> int:
    """Neither protocol acknowledges a subscription, and one without afterSeq starts at the
    last event committed when the server registers it: cause events one at a time (the
    subscribe message already sent) until one arrives; which one it was."""
    for _ in range(20):
        await causes.one()
        try:
            return causes.which(await client.data(op, within=0.5))
        except TimeoutError:
            continue
    raise AssertionError("no live event reached a subscription without afterSeq")


async def test_a_subscription_without_after_seq_receives_events_caused_after_it(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    thread, provider = await thread_of(live_db.url, people.mia)
    await server.post_event(provider_reply(thread, provider, "before"))  # committed already

    async def reply(n: int) -> None:
        await server.post_event(provider_reply(thread, provider, f"live-{n}"))

    causes = _Causes(server, reply)
    await causes.start()
    # As GraphiQL sends them: no variables at all.
    messages = await alex.subscribe("subscription { messageReceived { seq message { body } } }")
    notes = await alex.subscribe(
        "subscription { notificationAdded { seq notification { kind patient { id } } } }"
    )
    firsts = {messages: await _first_live(alex, messages, causes)}
    firsts[notes] = await _first_live(alex, notes, causes)
    await causes.one()  # one more, once both are certainly live

    # From its first event on, each receives every later one once, in order ("before",
    # committed before subscribing, never).
    for op, first in firsts.items():
        for n in range(first + 1, causes.count + 1):
            data = await alex.data(op)
            assert causes.which(data) == n
            if op == messages:
                assert data["messageReceived"]["message"]["body"] == f"live-{n}"
            else:
                note = data["notificationAdded"]["notification"]
                assert note == {
                    "kind": "MESSAGE_RECEIVED",
                    "patient": {"id": patient_gid(people.mia)},
                }
    await alex.silent(0.3)


# -- someone else's patient ------------------------------------------------------------------
WHOLE_RECORD = [
    "messageReceived(afterSeq: $afterSeq) { seq patient { id } }",
    "resultReleased(afterSeq: $afterSeq) { seq patient { id } }",
    "appointmentChanged(afterSeq: $afterSeq) { seq patient { id } }",
    "notificationAdded(afterSeq: $afterSeq) { seq notification { patient { id } } }",
]


def _about(data: dict[str, Any]) -> str:
    event = next(iter(data.values()))
    return str((event.get("patient") or event["notification"]["patient"])["id"])


async def test_an_unrelated_patient_receives_nothing_of_another_patients_record(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    """All four subscriptions without patientId, for Alex and for an account with its own
    record and no tie to hers: Alex receives her events, the other account only its own."""
    server = await start_server()
    account, own = await stranger(live_db.url)
    since = await server.seq()
    alex = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    other = await Client.connect(server, await server.token(account))
    fields = [f"subscription($afterSeq: ID) {{ {field} }}" for field in WHOLE_RECORD]
    alex_ops = [await alex.subscribe(query, after=since) for query in fields]
    other_ops = [await other.subscribe(query, after=since) for query in fields]

    async def everything(patient_id: str) -> None:
        """A message, a released result and a changed appointment: a notification each."""
        thread, provider = await thread_of(live_db.url, patient_id)
        await server.post_event(provider_reply(thread, provider, "news"))
        await server.post_event(result_finalized(patient_id))
        await server.post_event(await appointment_changed(server, patient_id))

    await everything(people.alex)
    for op, count in zip(alex_ops, (1, 1, 1, 3), strict=True):
        assert [_about(await alex.data(op)) for _ in range(count)] == [
            patient_gid(people.alex)
        ] * count
    # In commit order: had any of Alex's reached the other account, it would come first.
    await everything(own)
    for op, count in zip(other_ops, (1, 1, 1, 3), strict=True):
        assert [_about(await other.data(op)) for _ in range(count)] == [patient_gid(own)] * count
    await other.silent(0.3)


# -- appointments changed through the API ----------------------------------------------------
UPCOMING = "query($id: ID!) { patient(id: $id) { appointments { nodes { id canCancel } } } }"
CANCEL = """mutation($input: CancelAppointmentInput!) {
  cancelAppointment(input: $input) { appointment { id status } errors { code message } }
}"""


async def test_a_cancellation_through_the_mutation_reaches_that_patients_subscription(
    start_server: StartServer, people: Family
) -> None:
    server = await start_server()
    token = await server.token(ACCOUNTS["alex"])
    alex = await Client.connect(server, token)
    since = await server.seq()
    hers = await alex.subscribe(APPOINTMENTS, {"patientId": patient_gid(people.alex)}, after=since)
    mias = await alex.subscribe(APPOINTMENTS, {"patientId": patient_gid(people.mia)}, after=since)
    listed = await server.gql(UPCOMING, {"id": patient_gid(people.alex)}, token)
    nodes = listed["data"]["patient"]["appointments"]["nodes"]
    appointment = next(a["id"] for a in nodes if a["canCancel"])

    cancelled = await server.gql(CANCEL, {"input": {"appointmentId": appointment}}, token)
    assert cancelled["data"]["cancelAppointment"]["errors"] == [], cancelled
    changed = (await alex.data(hers))["appointmentChanged"]
    assert changed["patient"] == {"id": patient_gid(people.alex)}
    assert changed["appointment"] == {"id": appointment, "status": "CANCELLED"}
    # Mia's subscription: the next event it gets is Mia's, so Alex's was not for it.
    await server.post_event(await appointment_changed(server, people.mia))
    assert (await alex.data(mias))["appointmentChanged"]["patient"] == {
        "id": patient_gid(people.mia)
    }
