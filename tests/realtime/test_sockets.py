"""Both WebSocket protocols: authentication in `connection_init`, close codes, caps."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from tests.conftest import Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    LEGACY_WS,
    TRANSPORT_WS,
    Client,
    Closed,
    Family,
    provider_reply,
    thread_of,
    token_for,
    token_of_no_session,
)

MESSAGES = (
    "subscription($afterSeq: ID) { messageReceived(afterSeq: $afterSeq) { seq message { body } } }"
)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_valid_token_gets_events_on_either_protocol(
    start_server: StartServer, people: Family, live_db: Database, protocol: str
) -> None:
    server = await start_server()
    client = await Client.open(server, protocol)
    ack = await client.init(await server.token(ACCOUNTS["alex"]))
    assert ack["payload"]["expiresAt"].endswith("Z")
    op = await client.subscribe(MESSAGES, after=await server.seq())
    thread, provider = await thread_of(live_db.url, people.alex)
    await server.post_event(provider_reply(thread, provider, "either protocol"))
    data = await client.data(op)
    assert data["messageReceived"]["message"]["body"] == "either protocol"
    assert int(data["messageReceived"]["seq"]) > 0


async def test_graphql_transport_ws_closes_4401_without_a_token_and_4403_with_a_bad_one(
    start_server: StartServer,
) -> None:
    server = await start_server()
    refused = {
        "missing": None,
        "forged": await server.token(ACCOUNTS["alex"]) + "x",
        "expired": await server.token(ACCOUNTS["alex"], ttl=timedelta(seconds=-60)),
        "unknown account": token_for("acc-nobody"),
        "no such session": token_of_no_session(ACCOUNTS["alex"]),
    }
    for why, token in refused.items():
        client = await Client.open(server, TRANSPORT_WS)
        with pytest.raises(Closed) as closed:
            await client.init(token)
        expected = 4401 if token is None else 4403
        assert closed.value.code == expected, why
        assert closed.value.reason.startswith("Unauthorized" if token is None else "Forbidden")

    # Subscribing before a successful connection_init: the protocol's 4401.
    client = await Client.open(server, TRANSPORT_WS)
    await client.subscribe(MESSAGES)
    with pytest.raises(Closed) as closed:
        await client.receive()
    assert closed.value.code == 4401


async def test_legacy_graphql_ws_answers_connection_error(start_server: StartServer) -> None:
    server = await start_server()
    for token in (None, "not-a-jwt"):
        client = await Client.open(server, LEGACY_WS)
        with pytest.raises(Closed) as refused:
            await client.init(token)
        assert "authorization" in refused.value.reason or "not valid" in refused.value.reason
        with pytest.raises(Closed):
            await client.receive()  # and the socket is closed


async def test_connections_per_account_and_subscriptions_per_connection_are_capped(
    start_server: StartServer,
) -> None:
    server = await start_server(
        WS_MAX_CONNECTIONS_PER_ACCOUNT="2", WS_MAX_SUBSCRIPTIONS_PER_CONNECTION="2"
    )
    token = await server.token(ACCOUNTS["susan"])
    first = await Client.connect(server, token)
    second = await Client.connect(server, token)
    third = await Client.open(server)
    with pytest.raises(Closed) as refused:
        await third.init(token)
    assert refused.value.code == 4403
    assert "too many open connections" in refused.value.reason
    other = await Client.connect(server, await server.token(ACCOUNTS["alex"]))  # per account
    await other.close()

    # A closed connection frees its place.
    await second.close()
    again = await _connect_eventually(server, token)

    ops = [await first.subscribe(MESSAGES) for _ in range(3)]
    over = await first.next(ops[2])
    assert over["type"] == "error"
    assert over["payload"][0]["message"] == "Subscription limit reached"
    await again.close()


async def _connect_eventually(server: object, token: str) -> Client:
    """The server notices the close a moment after the client sent it: retry, bounded."""
    import asyncio

    for _ in range(50):
        client = await Client.open(server)  # type: ignore[arg-type]
        try:
            await client.init(token)
        except Closed:
            await asyncio.sleep(0.05)
            continue
        return client
    raise AssertionError("the closed connection was never released")


async def test_queries_and_mutations_are_refused_over_the_websocket(
    start_server: StartServer,
) -> None:
    server = await start_server()
    client = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await client.subscribe("query { viewer { account { displayName } } }")
    answer = await client.next(op)
    errors = answer["payload"]["errors"] if answer["type"] == "next" else answer["payload"]
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST"
    assert "over HTTP" in errors[0]["message"]


MALFORMED: dict[str, object] = {
    "a list": [1, 2],
    "a number": 5,
    "no type": {"id": "1"},
    "a payload that is a list": {"id": "1", "type": "subscribe", "payload": []},
    "a query that is a number": {"id": "1", "type": "subscribe", "payload": {"query": 5}},
    "variables that are a list": {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": MESSAGES, "variables": []},
    },
    "an operationName that is a number": {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": MESSAGES, "operationName": 5},
    },
    "an id that is a number": {"id": 1, "type": "subscribe", "payload": {"query": MESSAGES}},
}


async def test_malformed_messages_close_with_4400_and_log_no_error(
    start_server: StartServer,
) -> None:
    """Each was a TypeError in the protocol handler (the socket dropped with 1011 and an
    ERROR with a traceback in the log) or an operation's INTERNAL_SERVER_ERROR."""
    server = await start_server()
    token = await server.token(ACCOUNTS["alex"])
    for why, message in MALFORMED.items():
        client = await Client.connect(server, token)
        await client.ws.send(json.dumps(message))
        with pytest.raises(Closed) as closed:
            await client.receive()
        assert closed.value.code == 4400, why
    client = await Client.connect(server, token)
    await client.send(
        {"id": "nope", "type": "subscribe", "payload": {"query": MESSAGES, "operationName": "Nope"}}
    )
    [error] = (await client.next("nope"))["payload"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in error["message"]
    # The legacy protocol ignores a malformed message; the socket still serves.
    legacy = await Client.connect(server, token, LEGACY_WS)
    await legacy.send({"id": "1", "type": "start", "payload": []})
    query = "query { viewer { account { displayName } } }"
    await legacy.send({"id": "q", "type": "start", "payload": {"query": query}})
    answer = await legacy.next("q")
    assert answer["type"] == "error", answer
    assert answer["payload"]["extensions"]["code"] == "BAD_REQUEST"
    assert "over HTTP" in answer["payload"]["message"]
    log = server.log_tail(10_000)
    assert "Traceback" not in log
    assert " ERROR " not in log


async def test_a_message_past_the_body_limit_closes_with_1009(start_server: StartServer) -> None:
    """As an HTTP body past HTTP_MAX_BODY_BYTES is a 413, unread: not parsed, not run."""
    server = await start_server(HTTP_MAX_BODY_BYTES="65536")
    client = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    await client.subscribe(MESSAGES, {"padding": "x" * 70_000})
    with pytest.raises(Closed) as closed:
        await client.receive()
    assert closed.value.code == 1009
    client = await Client.connect(server, await server.token(ACCOUNTS["alex"]))
    op = await client.subscribe(MESSAGES, {"padding": "x" * 60_000})
    await client.silent(0.5)  # within the limit: subscribed, nothing to deliver yet
    await client.send({"id": op, "type": "complete"})


async def test_browser_pages_of_other_origins_need_to_be_allowed(
    start_server: StartServer,
) -> None:
    server = await start_server(WS_ALLOWED_ORIGINS="https://app.example.org")
    token = await server.token(ACCOUNTS["alex"])
    protocols = [Subprotocol(TRANSPORT_WS)]
    allowed = await websockets.connect(
        server.ws_url, subprotocols=protocols, origin=Origin("https://app.example.org")
    )
    client = Client(allowed, TRANSPORT_WS)
    await client.init(token)
    await client.close()
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(
            server.ws_url, subprotocols=protocols, origin=Origin("https://elsewhere.example")
        )
