"""A subscription without a patientId covers every patient the viewer may read that part
of, including one gained while it is open (an invitation accepted, a grant that began)."""

from __future__ import annotations

from tests.conftest import Database
from tests.realtime.conftest import StartServer
from tests.realtime.harness import (
    ACCOUNTS,
    Client,
    Family,
    provider_reply,
    thread_of,
)
from tests.realtime.test_ending import MESSAGES, _jordan_follows_alex


async def test_a_patient_gained_while_subscribed_joins_the_open_stream(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server(REALTIME_RECHECK_SECONDS="0.5")
    jordan = await Client.connect(server, await server.token(ACCOUNTS["jordan"]))
    everyone = await jordan.subscribe(MESSAGES, after=await server.seq())
    mia_thread, mia_provider = await thread_of(live_db.url, people.mia)
    await server.post_event(provider_reply(mia_thread, mia_provider, "about Mia"))
    assert (await jordan.data(everyone))["messageReceived"]["message"]["body"] == "about Mia"

    await _jordan_follows_alex(live_db.url)  # Alex's grant to Jordan becomes active
    thread, provider = await thread_of(live_db.url, people.alex)
    # Whether this commits before or after the stream's next recheck, it arrives: a patient
    # who joins brings her events since the last one delivered.
    await server.post_event(provider_reply(thread, provider, "about Alex"))
    event = (await jordan.data(everyone))["messageReceived"]
    assert event["message"]["body"] == "about Alex"
    await server.post_event(provider_reply(thread, provider, "and live"))
    assert (await jordan.data(everyone))["messageReceived"]["message"]["body"] == "and live"
    await jordan.silent(1.0)  # nothing twice
