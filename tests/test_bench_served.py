"""bench/served.py's pieces: the server's CPU read from /proc, and the peer bench's queries
sent with the same accounts' tokens as bench.http's own scenarios."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.http import Request
from bench.served import cpu_seconds, peer_scenarios


def test_cpu_seconds_counts_this_process_time() -> None:
    before = cpu_seconds(os.getpid())
    started = time.process_time()
    while time.process_time() - started < 0.05:
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.03  # ticks of 10 ms


def test_peer_scenarios_reuse_the_accounts_and_their_tokens(tmp_path: Path) -> None:
    (tmp_path / "dashboard.graphql").write_text("query D($id: ID!) { patient(id: $id) { id } }")
    (tmp_path / "proxy_home.graphql").write_text("query P { viewer { patients { relationship } } }")
    scenarios = {
        "dashboard": [Request("t1", {"query": "q", "variables": {"id": "UGF0", "n": 10}})],
        "proxy": [Request("t2", {"query": "q"})],
    }
    peer = peer_scenarios(scenarios, tmp_path)
    [dashboard] = peer["peer-dashboard"]
    assert dashboard.token == "t1"
    assert dashboard.body["variables"] == {"id": "UGF0"}
    assert dashboard.body["query"].startswith("query D")
    [proxy] = peer["peer-proxy"]
    assert (proxy.token, proxy.body["query"][:7]) == ("t2", "query P")
    assert peer_scenarios(scenarios, tmp_path / "missing") == {}


def test_the_benches_run_on_the_loop_production_serves_on() -> None:
    """bench.edge and bench.served measure on uvloop when installed, as `portal serve`
    runs uvicorn (portal/cli.py), and on asyncio's own loop when asked."""
    import asyncio
    import importlib.util

    from bench.edge import production_loop, run_on

    seen: list[str] = []

    async def which() -> None:
        seen.append(type(asyncio.get_running_loop()).__module__.split(".")[0])

    installed = importlib.util.find_spec("uvloop") is not None
    assert production_loop() == ("uvloop" if installed else "asyncio")
    run_on("asyncio", which())
    if installed:
        run_on("uvloop", which())
    assert seen == ["asyncio", "uvloop"][: 1 + installed]
