"""Messages and notifications: threads per patient, the family inbox, per-reader unread
counts, node(id), and a notification feed that shows only what the viewer may still read.

Expected threads and unread counts are computed here from the database rows, by a rule
written out independently of the application's SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from domain.scopes import Scope
from persistence import models as m
from schema.base import to_global_id
from tests.conftest import (
    ACCOUNT_IDS,
    ALEX,
    DANIEL,
    GRACE,
    JORDAN,
    LEO_ACCOUNT,
    NOW,
    SUSAN,
    Portal,
    errors_of,
    patient_gid,
)

ALEX_PATIENT, MIA, LEO, MARGARET = "pat-0000001", "pat-0000003", "pat-0000004", "pat-0000005"

THREAD_FIELDS = """
  id subject category careTeam createdAt lastMessageAt unreadCount
  provider { name }
  patient { id }
  messages(first: 100) {
    nodes { id body sentAt sender { kind name } readByMe }
    pageInfo { hasNextPage }
  }
"""

PATIENT_THREADS = """
query PatientThreads($id: ID!, $unreadOnly: Boolean, $first: Int, $after: String) {
  patient(id: $id) {
    unreadMessageCount
    messageThreads(unreadOnly: $unreadOnly, first: $first, after: $after) {
      nodes { THREAD_FIELDS }
      pageInfo { hasNextPage endCursor }
    }
  }
}
""".replace("THREAD_FIELDS", THREAD_FIELDS)

INBOX = """
query Inbox($unreadOnly: Boolean, $first: Int, $after: String) {
  viewer {
    inbox(unreadOnly: $unreadOnly, first: $first, after: $after) {
      nodes { id unreadCount patient { id name { display } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

FULL_INBOX = """
query FullInbox($first: Int) {
  viewer { inbox(first: $first) { nodes { THREAD_FIELDS } } }
}
""".replace("THREAD_FIELDS", THREAD_FIELDS)

THREAD_MESSAGES = """
query ThreadMessages($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on MessageThread {
      messages(first: $first, after: $after) {
        edges { cursor node { id } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on MessageThread { subject unreadCount patient { id } }
    ... on Message { body readByMe sender { kind } }
    ... on Notification { kind title patient { id } }
  }
}
"""

NOTIFICATIONS = """
query Notifications($unreadOnly: Boolean, $first: Int, $after: String) {
  viewer {
    notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
      nodes { id kind title body createdAt readAt patient { id } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


def gid(type_name: str, internal_id: str) -> str:
    return str(to_global_id(type_name, internal_id))


# A parent (not a showcase account) whose own thread thr-0000127 holds the one provider reply
# of the dataset nobody has read yet; they may read messages of two children too.
READER = "acc-0000030"
READER_PATIENT, READER_CHILDREN = "pat-0000045", ["pat-0000046", "pat-0000047"]
ADA = "pat-0000007"  # Grace Mensah is her guardian


async def ask(portal: Portal, query: str, variables: dict[str, Any], who: str) -> dict[str, Any]:
    """`who` is a showcase username or any account id."""
    if who in ACCOUNT_IDS:
        return await portal.gql(query, variables, as_user=who)
    return await portal.gql(query, variables, token=await portal.token_for_account(who))


# -- what the data says ---------------------------------------------------------------------
@dataclass
class Expected:
    threads: list[str]  # global ids, newest activity first
    unread: dict[str, int]  # global thread id -> the reader's unread count
    read_by_me: dict[str, bool]  # global message id -> read by the reader
    messages: dict[str, list[str]]  # global thread id -> message global ids, newest first

    @property
    def total_unread(self) -> int:
        return sum(self.unread.values())

    @property
    def unread_threads(self) -> list[str]:
        return [t for t in self.threads if self.unread[t]]


async def expected(portal: Portal, patients: list[str], who: str) -> Expected:
    """Unread = provider messages after the reader's read_through (all, without a row)."""
    account_id = ACCOUNT_IDS.get(who, who)
    async with portal.services.session() as session:
        threads = list(
            (
                await session.scalars(
                    select(m.MessageThread).where(m.MessageThread.patient_id.in_(patients))
                )
            ).all()
        )
        ids = [t.id for t in threads]
        messages = list(
            (await session.scalars(select(m.Message).where(m.Message.thread_id.in_(ids)))).all()
        )
        reads = {
            r.thread_id: r.read_through
            for r in (
                await session.scalars(
                    select(m.ThreadRead).where(m.ThreadRead.account_id == account_id)
                )
            ).all()
        }
    threads.sort(key=lambda t: (t.last_message_at, t.id), reverse=True)
    messages.sort(key=lambda msg: (msg.sent_at, msg.id), reverse=True)
    read_by_me = {
        msg.id: msg.sender_kind != "provider"
        or (msg.thread_id in reads and msg.sent_at <= reads[msg.thread_id])
        for msg in messages
    }
    return Expected(
        threads=[gid("MessageThread", t.id) for t in threads],
        unread={
            gid("MessageThread", t.id): sum(
                1 for msg in messages if msg.thread_id == t.id and not read_by_me[msg.id]
            )
            for t in threads
        },
        read_by_me={gid("Message", k): v for k, v in read_by_me.items()},
        messages={
            gid("MessageThread", t.id): [
                gid("Message", msg.id) for msg in messages if msg.thread_id == t.id
            ]
            for t in threads
        },
    )


async def patient_threads(
    portal: Portal, patient_id: str, who: str, **variables: Any
) -> dict[str, Any]:
    return await ask(portal, PATIENT_THREADS, {"id": patient_gid(patient_id), **variables}, who)


async def inbox_of(portal: Portal, who: str, **variables: Any) -> dict[str, Any]:
    return await ask(portal, INBOX, {"first": 100, **variables}, who)


def assert_matches(threads: list[dict[str, Any]], want: Expected) -> None:
    assert [t["id"] for t in threads] == want.threads
    assert {t["id"]: t["unreadCount"] for t in threads} == want.unread
    for thread in threads:
        nodes = thread["messages"]["nodes"]
        assert [msg["id"] for msg in nodes] == want.messages[thread["id"]]
        assert {msg["id"]: msg["readByMe"] for msg in nodes} == {
            msg["id"]: want.read_by_me[msg["id"]] for msg in nodes
        }


# -- a patient's threads, for the patient and for proxies with the messages scope ---------
READS = [
    pytest.param(ALEX, ALEX_PATIENT, id="self"),
    pytest.param(READER, READER_PATIENT, id="self-with-unread"),
    pytest.param(LEO_ACCOUNT, LEO, id="adolescent-self"),
    pytest.param(ALEX, MIA, id="parent"),
    pytest.param(JORDAN, MIA, id="other-parent"),
    pytest.param(READER, READER_CHILDREN[0], id="parent-2"),
    pytest.param(GRACE, ADA, id="guardian"),
    pytest.param(SUSAN, MARGARET, id="caregiver-of-a-patient-without-threads"),
]


@pytest.mark.parametrize(("who", "patient_id"), READS)
async def test_threads_messages_and_unread_counts_match_the_data(
    portal: Portal, who: str, patient_id: str
) -> None:
    result = await patient_threads(portal, patient_id, who, first=100)
    assert "errors" not in result
    patient = result["data"]["patient"]
    want = await expected(portal, [patient_id], who)
    assert_matches(patient["messageThreads"]["nodes"], want)
    assert patient["unreadMessageCount"] == want.total_unread
    assert {t["patient"]["id"] for t in patient["messageThreads"]["nodes"]} <= {
        patient_gid(patient_id)
    }


async def test_unread_counts_count_unread_provider_messages(portal: Portal) -> None:
    result = await patient_threads(portal, READER_PATIENT, READER, first=100)
    threads = result["data"]["patient"]["messageThreads"]["nodes"]
    unread = [t for t in threads if t["unreadCount"]]
    assert [t["id"] for t in unread] == [gid("MessageThread", "thr-0000127")]
    assert result["data"]["patient"]["unreadMessageCount"] == unread[0]["unreadCount"] == 1
    not_read = [msg for msg in unread[0]["messages"]["nodes"] if not msg["readByMe"]]
    assert [msg["sender"]["kind"] for msg in not_read] == ["PROVIDER"]


async def test_thread_fields(portal: Portal) -> None:
    result = await patient_threads(portal, ALEX_PATIENT, ALEX, first=100)
    threads = result["data"]["patient"]["messageThreads"]["nodes"]
    # A thread goes to a provider or to a care-team pool.
    assert all((t["provider"] is None) != (t["careTeam"] is None) for t in threads)
    assert {t["careTeam"] for t in threads} == {None, "Scheduling - Access Center"}
    assert {t["category"] for t in threads} == {"MEDICAL_QUESTION", "REFILL", "SCHEDULING"}
    senders = {msg["sender"]["kind"] for t in threads for msg in t["messages"]["nodes"]}
    assert senders == {"PATIENT", "PROVIDER"}
    assert all(t["createdAt"] <= t["lastMessageAt"] for t in threads)


async def test_stranger_may_not_read_a_patient_s_messages(portal: Portal) -> None:
    result = await patient_threads(portal, MARGARET, ALEX)
    assert result["data"] == {"patient": None}
    assert errors_of(result) == [("FORBIDDEN", "NOT_A_PATIENT")]


# -- an adolescent's messages ---------------------------------------------------------------
async def add_messages_scope(portal: Portal, patient_id: str, username: str) -> None:
    """Give the proxy's grants for the patient every scope, MESSAGES included."""
    async with portal.services.session() as session:
        await session.execute(
            update(m.ProxyGrant)
            .where(
                m.ProxyGrant.patient_id == patient_id,
                m.ProxyGrant.proxy_account_id == ACCOUNT_IDS[username],
            )
            .values(scopes=[s.value for s in Scope])
        )
        await session.commit()


async def assert_leo_withheld_from_alex(portal: Portal, reason: str) -> None:
    result = await patient_threads(portal, LEO, ALEX)
    assert result["data"]["patient"] == {"unreadMessageCount": None, "messageThreads": None}
    assert errors_of(result) == [("FORBIDDEN", reason)] * 2
    assert {e["extensions"]["area"] for e in result["errors"]} == {"MESSAGES"}
    leo = await expected(portal, [LEO], LEO_ACCOUNT)
    assert leo.threads
    for node_id in (leo.threads[0], leo.messages[leo.threads[0]][0]):
        by_id = await portal.gql(NODE, {"id": node_id}, as_user=ALEX)
        assert by_id["data"] == {"node": None}
        assert errors_of(by_id) == [("FORBIDDEN", reason)]
        own = await portal.gql(NODE, {"id": node_id}, as_user=LEO_ACCOUNT)
        assert own["data"]["node"]["id"] == node_id
    inbox = await inbox_of(portal, ALEX)
    assert "errors" not in inbox
    inbox_ids = {t["id"] for t in inbox["data"]["viewer"]["inbox"]["nodes"]}
    assert inbox_ids == set((await expected(portal, [ALEX_PATIENT, MIA], ALEX)).threads)
    assert not inbox_ids & set(leo.threads)


async def test_parent_may_not_read_an_adolescent_s_messages(fresh_portal: Portal) -> None:
    # Alex's grant for Leo (14) was reissued without MESSAGES at his 12th birthday; the age
    # rule is the reason given all the same (a wider grant would not open them).
    await assert_leo_withheld_from_alex(fresh_portal, "ADOLESCENT_CONFIDENTIAL")
    # Even a grant that names MESSAGES does not open an adolescent's messages to a parent.
    await add_messages_scope(fresh_portal, LEO, ALEX)
    await assert_leo_withheld_from_alex(fresh_portal, "ADOLESCENT_CONFIDENTIAL")


# -- the family inbox ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "patients"),
    [
        pytest.param(ALEX, [ALEX_PATIENT, MIA], id="alex"),
        pytest.param(READER, [READER_PATIENT, *READER_CHILDREN], id="parent-of-two"),
        pytest.param(LEO_ACCOUNT, [LEO], id="adolescent"),
        pytest.param(GRACE, [ADA], id="guardian-without-own-record"),
    ],
)
async def test_family_inbox_is_one_list_across_the_patients(
    portal: Portal, who: str, patients: list[str]
) -> None:
    result = await inbox_of(portal, who)
    assert "errors" not in result
    inbox = result["data"]["viewer"]["inbox"]
    threads = inbox["nodes"]
    want = await expected(portal, patients, who)

    assert [t["id"] for t in threads] == want.threads  # newest activity first, all patients
    assert {t["id"]: t["unreadCount"] for t in threads} == want.unread
    assert {t["patient"]["id"] for t in threads} == {patient_gid(p) for p in patients}
    assert inbox["pageInfo"]["hasNextPage"] is False


async def test_proxy_only_account_without_effective_grants_has_an_empty_inbox(
    portal: Portal,
) -> None:
    result = await portal.gql(INBOX, as_user=DANIEL)
    assert result == {
        "data": {
            "viewer": {
                "inbox": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
            }
        }
    }


async def test_unread_only_keeps_threads_with_unread_messages(portal: Portal) -> None:
    family = await expected(portal, [READER_PATIENT, *READER_CHILDREN], READER)
    assert 0 < len(family.unread_threads) < len(family.threads)

    inbox = await inbox_of(portal, READER, unreadOnly=True)
    assert [t["id"] for t in inbox["data"]["viewer"]["inbox"]["nodes"]] == family.unread_threads
    everything = await inbox_of(portal, READER, unreadOnly=False)
    assert [t["id"] for t in everything["data"]["viewer"]["inbox"]["nodes"]] == family.threads

    for patient_id in (READER_PATIENT, READER_CHILDREN[0]):
        result = await patient_threads(portal, patient_id, READER, unreadOnly=True, first=100)
        mine = await expected(portal, [patient_id], READER)
        threads = result["data"]["patient"]["messageThreads"]["nodes"]
        assert [t["id"] for t in threads] == mine.unread_threads


# -- per-reader unread --------------------------------------------------------------------
async def add_reply(portal: Portal, thread_id: str, at: datetime) -> None:
    """The EHR's part: a provider replies in a thread."""
    async with portal.services.session() as session:
        session.add(
            m.Message(
                id="msg-reply",
                thread_id=thread_id,
                sender_kind="provider",
                sender_id="prv-00008",
                sender_name="A Provider, MD",
                body="Here is my answer.",
                sent_at=at,
            )
        )
        await session.execute(
            update(m.MessageThread)
            .where(m.MessageThread.id == thread_id)
            .values(last_message_at=at)
        )
        await session.commit()


async def mark_read(portal: Portal, thread_id: str, username: str, through: datetime) -> None:
    async with portal.services.session() as session:
        await session.merge(
            m.ThreadRead(
                thread_id=thread_id, account_id=ACCOUNT_IDS[username], read_through=through
            )
        )
        await session.commit()


async def test_reading_a_thread_changes_only_that_reader_s_counts(fresh_portal: Portal) -> None:
    thread_id, reply_at = "thr-0000012", NOW - timedelta(hours=1)
    thread = gid("MessageThread", thread_id)
    await add_reply(fresh_portal, thread_id, reply_at)
    for parent in (ALEX, JORDAN):
        want = await expected(fresh_portal, [MIA], parent)
        assert want.unread[thread] == 1
        result = await patient_threads(fresh_portal, MIA, parent, first=100)
        assert_matches(result["data"]["patient"]["messageThreads"]["nodes"], want)
        assert result["data"]["patient"]["unreadMessageCount"] == want.total_unread

    await mark_read(fresh_portal, thread_id, ALEX, reply_at)

    alex = await patient_threads(fresh_portal, MIA, ALEX, first=100)
    jordan = await patient_threads(fresh_portal, MIA, JORDAN, first=100)
    alex_thread = alex["data"]["patient"]["messageThreads"]["nodes"][0]
    jordan_thread = jordan["data"]["patient"]["messageThreads"]["nodes"][0]
    assert alex_thread["id"] == jordan_thread["id"] == thread  # newest activity first
    assert (alex_thread["unreadCount"], jordan_thread["unreadCount"]) == (0, 1)
    reply = gid("Message", "msg-reply")
    read_by = {
        who: next(msg["readByMe"] for msg in t["messages"]["nodes"] if msg["id"] == reply)
        for who, t in ((ALEX, alex_thread), (JORDAN, jordan_thread))
    }
    assert read_by == {ALEX: True, JORDAN: False}
    assert alex["data"]["patient"]["unreadMessageCount"] == 0
    assert jordan["data"]["patient"]["unreadMessageCount"] == 1
    # The same on every path: the family inbox and its unread filter.
    assert [
        t["id"]
        for t in (await inbox_of(fresh_portal, ALEX, unreadOnly=True))["data"]["viewer"]["inbox"][
            "nodes"
        ]
    ] == []
    assert [
        t["id"]
        for t in (await inbox_of(fresh_portal, JORDAN, unreadOnly=True))["data"]["viewer"]["inbox"][
            "nodes"
        ]
    ] == [thread]
    # And the independent computation agrees with what the API now says.
    assert_matches(
        alex["data"]["patient"]["messageThreads"]["nodes"],
        await expected(fresh_portal, [MIA], ALEX),
    )


# -- pagination ---------------------------------------------------------------------------
async def walk(
    portal: Portal, query: str, path: list[str], who: str, **variables: Any
) -> list[str]:
    """Every id of a connection, two at a time, following endCursor."""
    ids: list[str] = []
    after = None
    for _ in range(100):
        result = await ask(portal, query, {**variables, "first": 2, "after": after}, who)
        assert "errors" not in result, result
        connection = result["data"]
        for key in path:
            connection = connection[key]
        if "nodes" in connection:
            ids += [n["id"] for n in connection["nodes"]]
        else:
            ids += [e["node"]["id"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


async def test_threads_inbox_and_messages_paginate(portal: Portal) -> None:
    family = await expected(portal, [ALEX_PATIENT, MIA], ALEX)
    mia = await expected(portal, [MIA], ALEX)
    assert await walk(portal, INBOX, ["viewer", "inbox"], ALEX) == family.threads
    threads = await walk(
        portal, PATIENT_THREADS, ["patient", "messageThreads"], ALEX, id=patient_gid(MIA)
    )
    assert threads == mia.threads
    longest = max(mia.messages, key=lambda t: len(mia.messages[t]))
    assert len(mia.messages[longest]) > 2
    messages = await walk(portal, THREAD_MESSAGES, ["node", "messages"], ALEX, id=longest)
    assert messages == mia.messages[longest]


async def test_bad_page_arguments_are_bad_input(portal: Portal) -> None:
    result = await inbox_of(portal, ALEX, after="not-a-cursor")
    assert result["data"] == {"viewer": None}
    assert errors_of(result) == [("BAD_USER_INPUT", None)]
    result = await patient_threads(portal, MIA, ALEX, first=1000)
    assert result["data"]["patient"]["messageThreads"] is None
    assert errors_of(result) == [("BAD_USER_INPUT", None)]


async def test_statements_do_not_depend_on_the_number_of_threads(portal: Portal) -> None:
    async def run(first: int) -> tuple[int, list[dict[str, Any]]]:
        before = portal.statements
        result = await portal.gql(FULL_INBOX, {"first": first}, as_user=ALEX)
        assert "errors" not in result
        return portal.statements - before, result["data"]["viewer"]["inbox"]["nodes"]

    few, threads = await run(3)
    # The small page already has every kind of lazily loaded field in it.
    assert {t["provider"] is None for t in threads} == {True, False}
    assert any(
        msg["sender"]["kind"] == "PROVIDER" for t in threads for msg in t["messages"]["nodes"]
    )
    many, threads = await run(100)
    assert len(threads) > 10
    assert few == many


# -- node(id) -----------------------------------------------------------------------------
async def test_node_of_a_thread_and_a_message_for_owner_proxy_and_stranger(
    portal: Portal,
) -> None:
    mia = await expected(portal, [MIA], ALEX)
    thread = mia.threads[2]
    message = mia.messages[thread][0]

    for username in (ALEX, JORDAN):
        owner = await portal.gql(NODE, {"id": thread}, as_user=username)
        assert "errors" not in owner
        assert owner["data"]["node"]["patient"] == {"id": patient_gid(MIA)}
        want = await expected(portal, [MIA], username)
        assert owner["data"]["node"]["unreadCount"] == want.unread[thread]
        found = await portal.gql(NODE, {"id": message}, as_user=username)
        assert found["data"]["node"]["id"] == message
        assert found["data"]["node"]["readByMe"] == want.read_by_me[message]

    for node_id in (thread, message):
        stranger = await portal.gql(NODE, {"id": node_id}, as_user=SUSAN)
        assert stranger["data"] == {"node": None}
        assert errors_of(stranger) == [("FORBIDDEN", "NOT_A_PATIENT")]
    for unknown in (gid("MessageThread", "thr-9999999"), gid("Message", "msg-9999999")):
        answer = await portal.gql(NODE, {"id": unknown}, as_user=SUSAN)
        assert answer["data"] == {"node": None}
        assert errors_of(answer) == [("FORBIDDEN", "NOT_A_PATIENT")]


async def test_messages_by_id_cost_the_same_statements_for_one_or_many(portal: Portal) -> None:
    """node(id) of Messages reads their owners and rows through loaders: the ids of one
    request share one owner statement and one row statement."""
    mia = await expected(portal, [MIA], ALEX)
    ids = [message for thread in mia.threads for message in mia.messages[thread]][:6]
    assert len(ids) == 6

    async def cost(message_ids: list[str]) -> int:
        fields = " ".join(
            f'm{i}: node(id: "{message_id}") {{ id ... on Message {{ body }} }}'
            for i, message_id in enumerate(message_ids)
        )
        before = portal.statements
        result = await portal.gql(f"query {{ {fields} }}", as_user=ALEX)
        assert "errors" not in result
        assert [result["data"][f"m{i}"]["id"] for i in range(len(message_ids))] == message_ids
        return portal.statements - before

    assert await cost(ids[:1]) == await cost(ids)


# -- notifications ------------------------------------------------------------------------
def notification(
    notification_id: str,
    username: str,
    kind: str,
    area: str | None,
    patient_id: str | None,
    minutes_ago: int,
    read_at: datetime | None = None,
) -> m.Notification:
    return m.Notification(
        id=notification_id,
        account_id=ACCOUNT_IDS[username],
        patient_id=patient_id,
        kind=kind,
        area=area,
        title=f"title {notification_id}",
        body=f"body {notification_id}",
        object_id=None,
        created_at=NOW - timedelta(minutes=minutes_ago),
        read_at=read_at,
    )


def feed() -> list[m.Notification]:
    return [
        notification("ntf-mia-msg", ALEX, "MESSAGE_RECEIVED", "messages", MIA, 1),
        notification("ntf-leo-result", ALEX, "RESULT_RELEASED", "results", LEO, 2),
        notification("ntf-leo-visit", ALEX, "APPOINTMENT_REMINDER", "appointments", LEO, 3),
        notification("ntf-leo-msg", ALEX, "MESSAGE_RECEIVED", "messages", LEO, 4),
        notification("ntf-account", ALEX, "APPOINTMENT_CHANGED", None, None, 5),
        notification("ntf-own-bill", ALEX, "STATEMENT_ISSUED", "billing", ALEX_PATIENT, 6, NOW),
        notification("ntf-margaret", ALEX, "RESULT_RELEASED", "results", MARGARET, 7),
        notification("ntf-jordan", JORDAN, "RESULT_RELEASED", "results", MIA, 8),
        notification("ntf-mia-account", ALEX, "APPOINTMENT_CHANGED", None, MIA, 9),
        notification("ntf-margaret-account", ALEX, "APPOINTMENT_CHANGED", None, MARGARET, 10),
    ]


# What Alex may see of the feed, newest first: not Leo's results or messages (adolescent),
# not Margaret's (no grant), not Jordan's own notification.
ALEX_FEED = ["ntf-mia-msg", "ntf-leo-visit", "ntf-account", "ntf-own-bill", "ntf-mia-account"]


async def add_feed(portal: Portal) -> None:
    async with portal.services.session() as session:
        session.add_all(feed())
        await session.commit()


def feed_ids(result: dict[str, Any]) -> list[str]:
    assert "errors" not in result, result
    return [n["id"] for n in result["data"]["viewer"]["notifications"]["nodes"]]


def notification_gids(ids: list[str]) -> list[str]:
    return [gid("Notification", i) for i in ids]


async def test_notifications_show_only_what_the_viewer_may_read_now(fresh_portal: Portal) -> None:
    await add_feed(fresh_portal)
    result = await fresh_portal.gql(NOTIFICATIONS, {"first": 100}, as_user=ALEX)
    assert feed_ids(result) == notification_gids(ALEX_FEED)
    nodes = {n["id"]: n for n in result["data"]["viewer"]["notifications"]["nodes"]}
    mia_msg = nodes[gid("Notification", "ntf-mia-msg")]
    assert {k: mia_msg[k] for k in ("kind", "title", "body", "readAt", "patient")} == {
        "kind": "MESSAGE_RECEIVED",
        "title": "title ntf-mia-msg",
        "body": "body ntf-mia-msg",
        "readAt": None,
        "patient": {"id": patient_gid(MIA)},
    }
    assert nodes[gid("Notification", "ntf-account")]["patient"] is None
    assert nodes[gid("Notification", "ntf-own-bill")]["readAt"] is not None

    unread = await fresh_portal.gql(NOTIFICATIONS, {"unreadOnly": True}, as_user=ALEX)
    assert feed_ids(unread) == notification_gids([i for i in ALEX_FEED if i != "ntf-own-bill"])
    # The filter is in SQL: pages stay full and the walk finds every visible one.
    paged = await walk(fresh_portal, NOTIFICATIONS, ["viewer", "notifications"], ALEX)
    assert paged == notification_gids(ALEX_FEED)

    jordan = await fresh_portal.gql(NOTIFICATIONS, as_user=JORDAN)
    assert feed_ids(jordan) == notification_gids(["ntf-jordan"])

    # Access is checked now, not when the notification was written: a revoked grant hides it.
    async with fresh_portal.services.session() as session:
        await session.execute(
            update(m.ProxyGrant)
            .where(m.ProxyGrant.id == "pxg-0000001")  # Alex for Mia
            .values(status="revoked")
        )
        await session.commit()
    after = await fresh_portal.gql(NOTIFICATIONS, as_user=ALEX)
    assert feed_ids(after) == notification_gids(
        [i for i in ALEX_FEED if i not in ("ntf-mia-msg", "ntf-mia-account")]
    )


async def test_node_of_a_notification_is_own_and_visible_only(fresh_portal: Portal) -> None:
    await add_feed(fresh_portal)
    mine = await fresh_portal.gql(NODE, {"id": gid("Notification", "ntf-mia-msg")}, as_user=ALEX)
    assert mine["data"]["node"]["kind"] == "MESSAGE_RECEIVED"
    for hidden, username in [
        ("ntf-leo-result", ALEX),  # Alex's, but about what she may no longer read
        ("ntf-jordan", ALEX),  # someone else's
        ("ntf-mia-msg", JORDAN),  # someone else's
        ("ntf-unknown", ALEX),
    ]:
        answer = await fresh_portal.gql(NODE, {"id": gid("Notification", hidden)}, as_user=username)
        assert answer == {"data": {"node": None}}
