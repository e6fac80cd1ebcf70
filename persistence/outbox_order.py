"""Outbox order and the after-commit hook, for every session of the process.

Two session events, so that no writer has to remember anything beyond
`OutboxRepository.record` (and writers that commit a plain session, such as `notify()`
callers, are covered as well as the UnitOfWork):

- **Seq order is commit order.** On PostgreSQL `seq` comes from a sequence at INSERT time,
  so two concurrent transactions may commit out of seq order (seq 10 commits after 11). A
  subscriber that resumes "after 11" would then never see 10. To rule that out, the flush
  that writes outbox rows first takes a transaction-scoped advisory lock: outbox writers
  commit one at a time from that point, and a reader that sees seq N committed knows every
  seq below N is committed or rolled back. The lock is held from the outbox flush (normally
  the commit's own flush, as sessions do not autoflush) to the end of the commit: a few
  milliseconds. SQLite has a single writer anyway (the write lock is held from the first
  write to the commit), so nothing is needed there.
- **After commit, kick the publisher** registered for the session's engine (if any), so a
  committed event is published at once; the publisher's periodic drain covers everything
  else (other processes, a broker that was down).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, UOWTransaction

from persistence import models as m

# Advisory lock keys (any 64-bit integers no other code uses): outbox writers, and drainers.
OUTBOX_WRITERS_LOCK = 7_034_906_661_001
OUTBOX_DRAIN_LOCK = 7_034_906_661_002

_WROTE = "outbox_written"
_hooks: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


def on_commit(engine: AsyncEngine, callback: Callable[[], None] | None) -> None:
    """Call `callback` after each commit, through `engine`, that wrote outbox rows (None: stop).

    It runs inside the commit, on the event loop's thread: it must only schedule work.
    """
    if callback is None:
        _hooks.pop(engine.sync_engine, None)
    else:
        _hooks[engine.sync_engine] = callback


@event.listens_for(Session, "before_flush")
def _serialize_outbox_writers(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if not any(isinstance(obj, m.OutboxEvent) for obj in session.new):
        return
    session.info[_WROTE] = True
    if session.get_bind().dialect.name == "postgresql":
        # Re-taking it in the same transaction is immediate; it is released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_WRITERS_LOCK})


@event.listens_for(Session, "after_commit")
def _kick_publisher(session: Session) -> None:
    if not session.info.pop(_WROTE, False):
        return
    bind = session.get_bind()
    hook = _hooks.get(bind) if isinstance(bind, Engine) else None
    if hook is not None:
        hook()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_WROTE, None)
