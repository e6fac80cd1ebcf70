"""The default payment gateway: a sandbox that approves and declines by test token, as a
payment provider's test mode does. A real provider implements domain.billing.PaymentGateway
the same way (the client tokenizes the card with the provider; we never see card numbers).
"""

from __future__ import annotations

import uuid

from domain.billing import ChargeOutcome, ChargeRequest, GatewayUnavailable

# Test tokens and what they do; any other token is declined as not recognized.
APPROVE = "tok_approve"
DECLINE_REASONS = {
    "tok_decline": "The card was declined.",
    "tok_insufficient_funds": "The card has insufficient funds.",
    "tok_expired_card": "The card has expired.",
}
UNAVAILABLE = "tok_gateway_unavailable"  # the gateway does not answer


class SandboxGateway:
    """Keeps what it was asked (`calls`) and charged (`charges`), like a test dashboard.

    As real providers do, a charge repeated with the same `reference` is not charged again:
    it gets the first answer back.
    """

    def __init__(self) -> None:
        self.calls: list[ChargeRequest] = []
        self.charges: dict[str, ChargeRequest] = {}
        self._answers: dict[str, ChargeOutcome] = {}

    async def charge(self, request: ChargeRequest) -> ChargeOutcome:
        self.calls.append(request)
        if request.token == UNAVAILABLE:
            raise GatewayUnavailable("sandbox: gateway unavailable")
        if request.reference in self._answers:
            return self._answers[request.reference]
        if request.token == APPROVE:
            outcome = ChargeOutcome(approved=True, reference=f"ch_{uuid.uuid4().hex[:24]}")
            self.charges[outcome.reference or ""] = request
        else:
            reason = DECLINE_REASONS.get(request.token, "The card was not recognized.")
            outcome = ChargeOutcome(approved=False, decline_reason=reason)
        self._answers[request.reference] = outcome
        return outcome
