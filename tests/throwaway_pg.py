"""A PostgreSQL cluster of the test's own, on a free port, that the test may stop and start.

The fault tests (and `make chaos`) stop the database under a running app; the machine's
shared PostgreSQL on 5432 serves other people, so they never touch it: `initdb` makes a
throwaway cluster in a temp dir (as the `postgres` user when we run as root, since PostgreSQL
refuses to run as root), loopback only, durability off. `available()` says whether the
binaries are here; tests skip when they are not.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from tests.realtime.harness import free_port


def _bindir() -> Path | None:
    for candidate in (shutil.which("pg_ctl"), shutil.which("pg_config")):
        if candidate is None:
            continue
        if candidate.endswith("pg_config"):
            out = subprocess.run(  # noqa: S603 (a fixed local binary)
                [candidate, "--bindir"], capture_output=True, text=True, check=False
            ).stdout.strip()
            path = Path(out)
        else:
            path = Path(candidate).resolve().parent
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return versions[-1] if versions else None


def available() -> str | None:
    """None when a throwaway cluster can be made here, else why not."""
    if _bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a 'postgres' user to own a throwaway cluster"
        if shutil.which("runuser") is None:
            return "running as root needs runuser to start PostgreSQL as 'postgres'"
    return None


class ThrowawayPostgres:
    """`await start()`, then `url(db)`; `await stop()` / `await start()` as often as the test
    likes (the data survives: it is a restart); `await destroy()` at the end."""

    def __init__(self) -> None:
        bindir = _bindir()
        assert bindir is not None, available()
        self.bindir = bindir
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        self.data = self.tmp / "data"
        self.log = self.tmp / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.tmp, "postgres")
        self.initialized = False

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603

    def _init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-locale")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.tmp}'\nmax_connections = 100\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "timezone = 'UTC'\n"
            )
        self.initialized = True

    async def start(self) -> ThrowawayPostgres:
        if not self.initialized:
            await asyncio.to_thread(self._init)
        await asyncio.to_thread(
            self._run, "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "start"
        )
        return self

    async def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (what a restart or failover does to the app);
        `immediate` is a crash."""
        await asyncio.to_thread(self._run, "pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    async def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            await self.stop("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def accepting(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"
