"""payStatement (idempotent, partial, refused overpayments and declines), payment plans and
financial assistance, through real HTTP on every backend.

Every refusal is followed by proof that nothing changed: the statement's amount due, its
status and the payments and attempts stored.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from persistence import models as m
from runtime.payments import SandboxGateway
from schema.base import from_global_id
from tests.conftest import ACCOUNT_IDS, ALEX, DANIEL, SUSAN, Portal, errors_of, patient_gid

ALEX_ID, MARGARET_ID = "pat-0000001", "pat-0000005"

OPEN_STATEMENTS = """
query Open($id: ID!) {
  patient(id: $id) {
    statements(status: OPEN, first: 50) { nodes { id status amountDue { amountCents } } }
  }
}
"""

PAY = """
mutation Pay($input: PayStatementInput!) {
  payStatement(input: $input) {
    payment { confirmationNumber amount { amountCents currency } method }
    statement { id status amountDue { amountCents } payments { amount { amountCents } } }
    errors { code message field }
  }
}
"""

PLAN = """
mutation Plan($input: RequestPaymentPlanInput!) {
  requestPaymentPlan(input: $input) {
    paymentPlanRequest { months installment { amountCents } status requestedAt }
    statement { id paymentPlanRequest { months status } }
    errors { code message field }
  }
}
"""

ASSISTANCE = """
mutation Assistance($input: RequestFinancialAssistanceInput!) {
  requestFinancialAssistance(input: $input) {
    financialAssistanceRequest { householdSize annualIncome { amountCents } note status }
    statement { id financialAssistanceRequest { householdSize status } }
    errors { code message field }
  }
}
"""

STATEMENT_REQUESTS = """
query Requests($id: ID!) {
  node(id: $id) {
    ... on Statement {
      amountDue { amountCents }
      paymentPlanRequest { months installment { amountCents } status }
      financialAssistanceRequest { householdSize note status }
    }
  }
}
"""


async def open_statement(portal: Portal, user: str, patient_id: str) -> tuple[str, int]:
    """The open statement with the most due (id, cents) the user can see for the patient."""
    result = await portal.gql(OPEN_STATEMENTS, {"id": patient_gid(patient_id)}, as_user=user)
    nodes = result["data"]["patient"]["statements"]["nodes"]
    due = [(n["id"], n["amountDue"]["amountCents"]) for n in nodes]
    best = max(due, key=lambda pair: pair[1])
    assert best[1] >= 2000, "the showcase patient has an open statement worth paying"
    return best


def pay_input(
    statement_id: str,
    cents: int,
    key: str,
    token: str = "tok_approve",  # noqa: S107
) -> Any:
    return {
        "input": {
            "statementId": statement_id,
            "amountCents": cents,
            "paymentToken": token,
            "idempotencyKey": key,
        }
    }


async def pay(portal: Portal, user: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    result = await portal.gql(PAY, pay_input(*args, **kwargs), as_user=user)
    payload: dict[str, Any] = result["data"]["payStatement"]
    return payload


async def snapshot(portal: Portal, statement_gid: str) -> tuple[Any, ...]:
    """What a refusal must leave as it was."""
    statement_id = from_global_id(statement_gid)[1]
    async with portal.services.session() as session:
        status = await session.scalar(
            select(m.Statement.status).where(m.Statement.id == statement_id)
        )
        payments = (
            await session.scalars(
                select(m.Payment.id)
                .where(m.Payment.statement_id == statement_id)
                .order_by(m.Payment.id)
            )
        ).all()
        attempts = await session.scalar(select(func.count()).select_from(m.PaymentAttempt))
        plans = await session.scalar(select(func.count()).select_from(m.PaymentPlanRequest))
        aid = await session.scalar(select(func.count()).select_from(m.FinancialAssistanceRequest))
    return status, tuple(payments), attempts, plans, aid


def gateway(portal: Portal) -> SandboxGateway:
    gw = portal.services.gateway
    assert isinstance(gw, SandboxGateway)
    return gw


async def test_a_partial_payment_lowers_what_is_due(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    payload = await pay(portal, ALEX, statement, 1000, "key-1")
    assert payload["errors"] == []
    assert payload["payment"]["amount"] == {"amountCents": 1000, "currency": "USD"}
    assert payload["payment"]["confirmationNumber"]
    assert payload["statement"]["amountDue"]["amountCents"] == due - 1000
    assert payload["statement"]["status"] == "OPEN"
    assert len(gateway(portal).charges) == 1


async def test_paying_the_rest_marks_the_statement_paid_and_refuses_more(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    await pay(portal, ALEX, statement, 500, "first")
    payload = await pay(portal, ALEX, statement, due - 500, "rest")
    assert payload["errors"] == []
    assert payload["statement"]["status"] == "PAID"
    assert payload["statement"]["amountDue"]["amountCents"] == 0
    before = await snapshot(portal, statement)
    again = await pay(portal, ALEX, statement, 100, "more")
    assert [e["code"] for e in again["errors"]] == ["ALREADY_PAID"]
    assert again["payment"] is None
    assert await snapshot(portal, statement) == before


async def test_the_same_key_is_charged_once_and_answers_the_same(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    first = await pay(portal, ALEX, statement, 700, "retry-me")
    second = await pay(portal, ALEX, statement, 700, "retry-me")
    assert first["errors"] == second["errors"] == []
    assert first["payment"]["confirmationNumber"] == second["payment"]["confirmationNumber"]
    assert second["statement"]["amountDue"]["amountCents"] == due - 700
    assert len(gateway(portal).charges) == 1


async def test_concurrent_duplicates_are_charged_once(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    results = await asyncio.gather(
        *(pay(portal, ALEX, statement, 900, "double-click") for _ in range(10))
    )
    confirmations = {r["payment"]["confirmationNumber"] for r in results if not r["errors"]}
    assert len(confirmations) == 1
    assert all(r["errors"] == [] for r in results), [r["errors"] for r in results]
    # Charged once, and asked once: the duplicates never reached the gateway (its own
    # deduplication by reference is not what keeps them from being charged).
    assert len(gateway(portal).charges) == 1
    assert len(gateway(portal).calls) == 1
    status, payments, attempts, _, _ = await snapshot(portal, statement)
    assert (status, len(payments), attempts) == ("open", 1, 1)
    after = await portal.gql(OPEN_STATEMENTS, {"id": patient_gid(ALEX_ID)}, as_user=ALEX)
    amounts = {
        n["id"]: n["amountDue"]["amountCents"]
        for n in after["data"]["patient"]["statements"]["nodes"]
    }
    assert amounts[statement] == due - 900


async def test_concurrent_payments_never_pay_more_than_is_due(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    share = due // 2 + 1  # any two together are more than is due
    results = await asyncio.gather(
        *(pay(portal, ALEX, statement, share, f"key-{n}") for n in range(6))
    )
    succeeded = [r for r in results if not r["errors"]]
    refused = [r["errors"][0]["code"] for r in results if r["errors"]]
    assert len(succeeded) == 1
    assert refused == ["OVERPAYMENT"] * 5
    _, payments, _, _, _ = await snapshot(portal, statement)
    assert len(payments) == 1


async def test_a_declined_card_leaves_the_balance_alone(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    _, payments_before, *_ = await snapshot(portal, statement)
    payload = await pay(portal, ALEX, statement, 1000, "declined", token="tok_insufficient_funds")
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("PAYMENT_DECLINED", "paymentToken")
    ]
    assert "insufficient funds" in payload["errors"][0]["message"]
    status, payments_after, *_ = await snapshot(portal, statement)
    assert (status, payments_after) == ("open", payments_before)
    # The same key answers with the same decline; a new key with a good card pays.
    again = await pay(portal, ALEX, statement, 1000, "declined", token="tok_approve")
    assert [e["code"] for e in again["errors"]] == ["PAYMENT_DECLINED"]
    fresh = await pay(portal, ALEX, statement, 1000, "new-card")
    assert fresh["errors"] == []
    assert fresh["statement"]["amountDue"]["amountCents"] == due - 1000


async def test_an_unreachable_gateway_frees_the_key_for_a_retry(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    before = await snapshot(portal, statement)
    down = await pay(portal, ALEX, statement, 1200, "k", token="tok_gateway_unavailable")
    assert [e["code"] for e in down["errors"]] == ["PAYMENT_UNAVAILABLE"]
    assert await snapshot(portal, statement) == before
    retry = await pay(portal, ALEX, statement, 1200, "k")
    assert retry["errors"] == []
    assert retry["statement"]["amountDue"]["amountCents"] == due - 1200


async def test_bad_payment_input_is_refused_and_changes_nothing(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    await pay(portal, ALEX, statement, 300, "used")
    before = await snapshot(portal, statement)
    cases = [
        ((statement, 0, "zero"), "INVALID_AMOUNT", "amountCents"),
        ((statement, -5, "negative"), "INVALID_AMOUNT", "amountCents"),
        ((statement, due, "too-much"), "OVERPAYMENT", "amountCents"),
        ((statement, 100, "   "), "INVALID_IDEMPOTENCY_KEY", "idempotencyKey"),
        ((statement, 100, "x" * 101), "INVALID_IDEMPOTENCY_KEY", "idempotencyKey"),
        ((statement, 100, "used"), "IDEMPOTENCY_KEY_REUSED", "idempotencyKey"),
    ]
    for args, code, field in cases:
        payload = await pay(portal, ALEX, *args)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], args
    blank_token = await pay(portal, ALEX, statement, 100, "blank", token=" ")
    assert [e["code"] for e in blank_token["errors"]] == ["INVALID_PAYMENT_TOKEN"]
    assert await snapshot(portal, statement) == before


async def test_a_proxy_with_billing_pays_and_others_are_forbidden(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, SUSAN, MARGARET_ID)
    payload = await pay(portal, SUSAN, statement, 1000, "for-mom")
    assert payload["errors"] == []
    assert payload["statement"]["amountDue"]["amountCents"] == due - 1000
    before = await snapshot(portal, statement)
    for user in (DANIEL, ALEX):  # no effective grant / unrelated
        result = await portal.gql(PAY, pay_input(statement, 100, "nope"), as_user=user)
        assert result["data"] is None or result["data"]["payStatement"] is None
        assert errors_of(result)[0][0] == "FORBIDDEN"
    assert await snapshot(portal, statement) == before


async def test_a_proxy_whose_active_grant_lacks_billing_changes_nothing(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    statement, _ = await open_statement(portal, SUSAN, MARGARET_ID)
    async with portal.services.session() as session:
        grant = await session.scalar(
            select(m.ProxyGrant).where(
                m.ProxyGrant.patient_id == MARGARET_ID,
                m.ProxyGrant.proxy_account_id == ACCOUNT_IDS[SUSAN],
                m.ProxyGrant.status == "active",
            )
        )
        assert grant is not None
        assert "billing" in grant.scopes
        grant.scopes = [s for s in grant.scopes if s != "billing"]
        await session.commit()
    before = await snapshot(portal, statement)
    for query, field, variables in [
        (PAY, "payStatement", pay_input(statement, 100, "no-billing")),
        (PLAN, "requestPaymentPlan", {"input": {"statementId": statement, "months": 2}}),
        (
            ASSISTANCE,
            "requestFinancialAssistance",
            {"input": {"statementId": statement, "householdSize": 2, "annualIncomeCents": 1}},
        ),
    ]:
        result = await portal.gql(query, variables, as_user=SUSAN)
        assert errors_of(result) == [("FORBIDDEN", "PROXY_SCOPE")], field
        assert result["data"] is None or result["data"][field] is None, field
    assert await snapshot(portal, statement) == before
    assert gateway(portal).calls == []


async def test_an_unknown_statement_answers_like_a_forbidden_one(fresh_portal: Portal) -> None:
    portal = fresh_portal
    from schema.base import to_global_id

    missing = to_global_id("Statement", "stm-9999999")
    result = await portal.gql(PAY, pay_input(missing, 100, "k"), as_user=ALEX)
    assert errors_of(result)[0][0] == "FORBIDDEN"


async def test_a_payment_plan_is_recorded_on_the_statement(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, due = await open_statement(portal, ALEX, ALEX_ID)
    before = await snapshot(portal, statement)
    too_long = await portal.gql(
        PLAN, {"input": {"statementId": statement, "months": 99}}, as_user=ALEX
    )
    assert [e["code"] for e in too_long["data"]["requestPaymentPlan"]["errors"]] == [
        "INVALID_MONTHS"
    ]
    assert await snapshot(portal, statement) == before
    months = 2
    result = await portal.gql(
        PLAN, {"input": {"statementId": statement, "months": months}}, as_user=ALEX
    )
    payload = result["data"]["requestPaymentPlan"]
    assert payload["errors"] == []
    request = payload["paymentPlanRequest"]
    assert request["months"] == months
    assert request["installment"]["amountCents"] == -(-due // months)
    assert request["status"] == "REQUESTED"
    seen = await portal.gql(STATEMENT_REQUESTS, {"id": statement}, as_user=ALEX)
    assert seen["data"]["node"]["paymentPlanRequest"]["months"] == months
    twice = await portal.gql(
        PLAN, {"input": {"statementId": statement, "months": months}}, as_user=ALEX
    )
    assert [e["code"] for e in twice["data"]["requestPaymentPlan"]["errors"]] == [
        "ALREADY_REQUESTED"
    ]
    assert (await snapshot(portal, statement))[3] == before[3] + 1


async def test_financial_assistance_is_recorded_on_the_statement(fresh_portal: Portal) -> None:
    portal = fresh_portal
    statement, _ = await open_statement(portal, ALEX, ALEX_ID)
    before = await snapshot(portal, statement)
    base = {"statementId": statement, "householdSize": 3, "annualIncomeCents": 3_500_000}
    for bad, code in (
        ({"householdSize": 0}, "INVALID_HOUSEHOLD_SIZE"),
        ({"annualIncomeCents": -1}, "INVALID_INCOME"),
        ({"note": "x" * 2001}, "NOTE_TOO_LONG"),
    ):
        result = await portal.gql(ASSISTANCE, {"input": base | bad}, as_user=ALEX)
        errors = result["data"]["requestFinancialAssistance"]["errors"]
        assert [e["code"] for e in errors] == [code]
    assert await snapshot(portal, statement) == before
    result = await portal.gql(
        ASSISTANCE, {"input": base | {"note": "  Lost my job in May.  "}}, as_user=ALEX
    )
    payload = result["data"]["requestFinancialAssistance"]
    assert payload["errors"] == []
    assert payload["financialAssistanceRequest"] == {
        "householdSize": 3,
        "annualIncome": {"amountCents": 3_500_000},
        "note": "Lost my job in May.",
        "status": "REQUESTED",
    }
    seen = await portal.gql(STATEMENT_REQUESTS, {"id": statement}, as_user=ALEX)
    assert seen["data"]["node"]["financialAssistanceRequest"]["status"] == "REQUESTED"
