"""The default payment gateway: a sandbox that approves and declines by test token, as a
payment provider's test mode does. A real provider implements domain.billing.PaymentGateway
the same way (the client tokenizes the card with the provider; we never see card numbers).

Like a provider, the sandbox remembers every answer it gave, by reference, so a process that
died between charging and recording the payment can ask afterwards what happened
(`lookup`, used by the reconciliation job, usecases/billing.py). With a `ledger` file
(SANDBOX_GATEWAY_LEDGER; `portal serve` keeps it in var/) each answer is appended and
fsynced before it is returned, so the record outlives the process, as a provider's would;
without one (tests) it lives in memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import uuid
from pathlib import Path

from domain.billing import ChargeOutcome, ChargeRequest, GatewayUnavailable

# Test tokens and what they do; any other token is declined as not recognized.
APPROVE = "tok_approve"
DECLINE_REASONS = {
    "tok_decline": "The card was declined.",
    "tok_insufficient_funds": "The card has insufficient funds.",
    "tok_expired_card": "The card has expired.",
}
UNAVAILABLE = "tok_gateway_unavailable"  # the gateway does not answer
# Charged, but the answer never comes back (the connection hangs): what a process sees when
# it dies, or the network fails, between the provider charging and us recording it.
APPROVE_THEN_HANG = "tok_approve_no_answer"
APPROVE_SLOWLY = "tok_approve_slow"  # approved after SLOW_SECONDS, as a slow provider does
SLOW_SECONDS = 2.0


class SandboxGateway:
    """Keeps what it was asked (`calls`) and charged (`charges`), like a test dashboard.

    As real providers do, a charge repeated with the same `reference` is not charged again:
    it gets the first answer back.
    """

    def __init__(self, ledger: str | os.PathLike[str] | None = None) -> None:
        self.calls: list[ChargeRequest] = []
        self.charges: dict[str, ChargeRequest] = {}
        self._answers: dict[str, ChargeOutcome] = {}
        self._ledger = Path(ledger) if ledger is not None else None
        self._lock = asyncio.Lock()

    async def charge(self, request: ChargeRequest) -> ChargeOutcome:
        self.calls.append(request)
        if request.token == UNAVAILABLE:
            raise GatewayUnavailable("sandbox: gateway unavailable")
        async with self._lock:
            known = await self.lookup(request.reference)
            if known is not None:
                return known
            if request.token == APPROVE_SLOWLY:
                await asyncio.sleep(SLOW_SECONDS)
            if request.token in (APPROVE, APPROVE_THEN_HANG, APPROVE_SLOWLY):
                outcome = ChargeOutcome(approved=True, reference=f"ch_{uuid.uuid4().hex[:24]}")
                self.charges[outcome.reference or ""] = request
            else:
                reason = DECLINE_REASONS.get(request.token, "The card was not recognized.")
                outcome = ChargeOutcome(approved=False, decline_reason=reason)
            await self._record(request.reference, outcome)
        if request.token == APPROVE_THEN_HANG:
            await asyncio.Event().wait()  # until the caller gives up or the process dies
        return outcome

    async def lookup(self, reference: str) -> ChargeOutcome | None:
        if reference not in self._answers and self._ledger is not None:
            # Another process (an instance that died, or runs beside us) may have charged it.
            self._answers.update(await asyncio.to_thread(_read, self._ledger))
        return self._answers.get(reference)

    async def _record(self, reference: str, outcome: ChargeOutcome) -> None:
        self._answers[reference] = outcome
        if self._ledger is not None:
            line = json.dumps({"request": reference, "outcome": dataclasses.asdict(outcome)}) + "\n"
            await asyncio.to_thread(_append, self._ledger, line)


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as ledger:
        ledger.write(line)
        ledger.flush()
        os.fsync(ledger.fileno())


def _read(path: Path) -> dict[str, ChargeOutcome]:
    answers: dict[str, ChargeOutcome] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return answers
    for line in lines:
        try:
            entry = json.loads(line)
            answers[entry["request"]] = ChargeOutcome(**entry["outcome"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash mid-write: that answer was never returned
    return answers
