"""The context asks the access policy once per operation, principal, patient and area, and
still audits every read and refuses every field that asks for what is withheld."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import strawberry

from domain.access import AccessDenied, Principal
from domain.scopes import AccessReason, RecordArea
from domain.terms import TermsAcceptanceRequired
from runtime.context import Context, SocketContext, Unauthenticated
from runtime.services import Services, build_services
from schema.base import RequiresScope
from tests.conftest import NOW, settings_for

ME = Principal(account_id="acct-me", now=NOW, patient_id="pat-me")
OTHER = Principal(account_id="acct-other", now=NOW, patient_id="pat-other")


@pytest.fixture
async def services() -> AsyncIterator[Services]:
    built = build_services(settings_for("sqlite+aiosqlite://"))  # no query is made
    yield built
    await built.engine.dispose()


def context_of(services: Services, principal: Principal) -> Context:
    return Context(services=services, request=None, request_id="r1", now=NOW, principal=principal)


def read_types(context: Context) -> dict[str | None, str]:
    return {e.patient_id: e.object_types for e in context.audit_entries("Op")}


def test_one_decision_serves_every_field_of_a_patient_area(services: Services) -> None:
    context = context_of(services, ME)
    appointments = context.access("pat-me", RecordArea.APPOINTMENTS, "Appointment")
    providers = context.access("pat-me", RecordArea.APPOINTMENTS, "Provider")
    results = context.access("pat-me", RecordArea.RESULTS, "Result")
    patient = context.demographics("pat-me")

    assert providers is appointments  # decided once, the same grant handed out again
    assert results is not appointments
    assert results.area is RecordArea.RESULTS
    assert patient.area is None
    assert context.demographics("pat-me") is patient
    # Every read is audited, the repeated decision's too.
    assert read_types(context) == {"pat-me": "Appointment,Patient,Provider,Result"}


def test_a_refusal_is_raised_at_every_field_that_asks(services: Services) -> None:
    context = context_of(services, ME)
    refusals = []
    for object_type in ("Appointment", "Provider"):
        with pytest.raises(AccessDenied) as refused:
            context.access("pat-other", RecordArea.APPOINTMENTS, object_type)
        refusals.append(refused.value)
    with pytest.raises(AccessDenied):
        context.demographics("pat-other")

    assert refusals[0] is not refusals[1]  # each field gets its own error
    assert {r.reason for r in refusals} == {AccessReason.NOT_A_PATIENT}
    assert read_types(context) == {}  # nothing was read


def test_a_new_principal_is_decided_anew(services: Services) -> None:
    context = context_of(services, ME)
    mine = context.access("pat-me", RecordArea.BILLING, "Statement")
    with pytest.raises(AccessDenied):
        context.access("pat-other", RecordArea.BILLING, "Statement")

    context.signed_in(
        OTHER, "Other", "ses-other"
    )  # e.g. signIn, or a subscription event's principal

    theirs = context.access("pat-other", RecordArea.BILLING, "Statement")
    assert theirs.account_id == "acct-other"
    assert theirs is not mine
    with pytest.raises(AccessDenied):
        context.access("pat-me", RecordArea.BILLING, "Statement")


def test_a_grant_given_again_asks_nothing_and_its_read_stays_audited(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field asking again for the same patient, area and object type is handed the grant
    it was given, without the policy or the audit (its read is noted already); the audit
    still holds one object type per read, and a context whose audit was taken (a
    subscription's, between events) notes the next read again."""
    context = SocketContext.of(context_of(services, ME))
    first = context.access("pat-me", RecordArea.RESULTS, "Result")
    asked: list[str] = []
    monkeypatch.setattr(context, "_decided", lambda *a: asked.append("decided"))
    monkeypatch.setattr(context, "audit_read", lambda *a: asked.append("audited"))

    assert context.access("pat-me", RecordArea.RESULTS, "Result") is first
    assert asked == []  # read back
    monkeypatch.undo()
    assert context.access("pat-me", RecordArea.RESULTS, "ResultComponent") is first
    assert read_types(context) == {"pat-me": "Result,ResultComponent"}

    assert [e.object_types for e in context.take_audit("Op")] == ["Result,ResultComponent"]
    assert context.access("pat-me", RecordArea.RESULTS, "Result") is first
    assert read_types(context) == {"pat-me": "Result"}  # noted again after the take


def test_a_grant_given_is_not_handed_out_when_the_principal_may_no_longer_read(
    services: Services,
) -> None:
    context = context_of(services, ME)
    context.access("pat-me", RecordArea.RESULTS, "Result")
    context.terms_pending = True  # as an account with documents to accept
    with pytest.raises(TermsAcceptanceRequired):
        context.access("pat-me", RecordArea.RESULTS, "Result")
    context.terms_pending = False
    context.failure = RuntimeError("authentication could not run")
    with pytest.raises(RuntimeError):
        context.access("pat-me", RecordArea.RESULTS, "Result")
    context.failure, context.principal = None, None
    with pytest.raises(Unauthenticated):
        context.access("pat-me", RecordArea.RESULTS, "Result")


@strawberry.type
class Forgetful:
    patient_id: strawberry.Private[str]

    @strawberry.field(extensions=[RequiresScope(RecordArea.RESULTS, "Result")])
    def results(self) -> str | None:  # no `grant`: nothing to read with
        return None


@strawberry.type
class ForgetfulQuery:
    forgetful: Forgetful | None = None


def test_a_scoped_field_body_must_take_its_grant() -> None:
    with pytest.raises(TypeError, match="takes `grant`"):
        strawberry.Schema(query=ForgetfulQuery)
