"""Health summary, care team, billing, and the self-only proxy grants and access log.

Expected values are computed from the database (the seeded 60-patient dataset), never
written in as numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from strawberry.types.base import get_object_definition

from domain.appointments import ACTIVE_STATUSES
from persistence import models as m
from schema.base import from_global_id, to_global_id
from schema.patients import SELF_ONLY_FIELDS, Patient
from tests.conftest import ALEX, DANIEL, JORDAN, LEO_ACCOUNT, Portal, errors_of, patient_gid

ALEX_ID, LEO_ID = "pat-0000001", "pat-0000004"

SUMMARY = """
query Summary($id: ID!) {
  patient(id: $id) {
    medications { id name status prescriber { name } }
    activeMedications: medications(status: ACTIVE) { id status }
    allergies { id substance category severity }
    problems { id name icd10 status }
    immunizations { id vaccine cvx administeredOn }
    careTeam { id name }
  }
}
"""

MIXED = """
query Mixed($id: ID!) {
  patient(id: $id) {
    allergies { id }
    immunizations { id }
    problems { id }
    medications { id }
    careTeam { id }
    statements { nodes { id } }
    balance { amountCents }
  }
}
"""

BILLING = """
query Billing($id: ID!, $first: Int, $after: String, $status: StatementStatus) {
  patient(id: $id) {
    balance { amountCents currency formatted }
    statements(first: $first, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id accountNumber statementDate status
        amountDue { amountCents currency formatted }
        lineItems {
          serviceDate code patientName
          charge { amountCents } insurancePaid { amountCents } adjustment { amountCents }
          patientResponsibility { amountCents }
        }
        payments { amount { amountCents } paidAt method }
      }
    }
  }
}
"""

STATEMENT_IDS = """
query StatementIds($id: ID!, $first: Int, $after: String, $status: StatementStatus) {
  patient(id: $id) {
    statements(first: $first, after: $after, status: $status) {
      pageInfo { hasNextPage endCursor }
      nodes { id }
    }
  }
}
"""

FAMILY_BASE = """
query Family { viewer { patients { patient { id } } } }
"""

FAMILY_SUMMARY = """
query FamilySummary {
  viewer { patients { patient {
    id
    medications { id prescriber { id } }
    allergies { id }
    problems { id }
    immunizations { id }
    careTeam { id }
  } } }
}
"""

STATEMENTS_DEEP = """
query StatementsDeep($id: ID!, $first: Int) {
  patient(id: $id) {
    statements(first: $first) {
      nodes { id amountDue { amountCents } lineItems { code } payments { method } }
    }
    balance { amountCents }
  }
}
"""

PATIENT_ONLY = """
query PatientOnly($id: ID!) { patient(id: $id) { id } }
"""

PROXY_GRANTS = """
query ProxyGrants($id: ID!) {
  patient(id: $id) {
    proxyGrants { id relationship scopes status startsAt endsAt proxy { displayName } }
  }
}
"""

ACCESS_LOG = """
query AccessLog($id: ID!, $first: Int, $after: String) {
  patient(id: $id) {
    accessLog(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { at actorName actingAs action operation objectTypes clientAddress }
    }
  }
}
"""

JORDAN_READS_LEO = """
query JordanReadsLeo($id: ID!) { patient(id: $id) { allergies { id } immunizations { id } } }
"""

ALEX_READS_LEO = """
query AlexReadsLeo($id: ID!) { patient(id: $id) { statements { nodes { id } } } }
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Medication { name }
    ... on Allergy { substance }
    ... on Problem { icd10 }
    ... on Immunization { cvx }
    ... on Statement { accountNumber amountDue { amountCents } }
    ... on ProxyGrant { status proxy { displayName } }
  }
}
"""


# -- helpers: the database as the independent source of truth ----------------------------
async def scalars(portal: Portal, stmt: Any) -> list[Any]:
    async with portal.services.session() as session:
        return list((await session.scalars(stmt)).all())


async def rows(portal: Portal, stmt: Any) -> list[Any]:
    async with portal.services.session() as session:
        return list((await session.execute(stmt)).all())


def owned_ids(model: Any, patient_id: str) -> Any:
    """Ids of a patient's rows of one summary kind."""
    return select(model.id).where(model.patient_id == patient_id)


async def token_for(portal: Portal, account_id: str) -> str:
    return await portal.token_for_account(account_id)


async def account_of(portal: Portal, patient_id: str) -> str:
    found = await scalars(portal, select(m.Account.id).where(m.Account.patient_id == patient_id))
    assert found, patient_id
    return str(found[0])


def ids_of(items: list[dict[str, Any]] | None) -> list[str]:
    assert items is not None
    return [from_global_id(item["id"])[1] for item in items]


def effective(grant: m.ProxyGrant, portal: Portal) -> bool:
    now = portal.clock.now()
    return (
        grant.status == "active"
        and grant.starts_at <= now
        and (grant.ends_at is None or grant.ends_at > now)
    )


def display_name(patient: m.Patient) -> str:
    return f"{patient.preferred_name or patient.given_name} {patient.family_name}"


async def care_team_of(portal: Portal, patient_id: str) -> tuple[str | None, set[str]]:
    patient = (await scalars(portal, select(m.Patient).where(m.Patient.id == patient_id)))[0]
    seen = await scalars(
        portal,
        select(m.Appointment.provider_id).where(
            m.Appointment.patient_id == patient_id,
            m.Appointment.status.in_({"completed", *ACTIVE_STATUSES}),
        ),
    )
    team = set(seen) | ({patient.pcp_provider_id} if patient.pcp_provider_id else set())
    return patient.pcp_provider_id, team


async def statements_of(portal: Portal, guarantor: str) -> list[m.Statement]:
    stmt = (
        select(m.Statement)
        .where(m.Statement.guarantor_patient_id == guarantor)
        .order_by(m.Statement.statement_date.desc(), m.Statement.id.desc())
    )
    return await scalars(portal, stmt)


async def amounts_due(portal: Portal, guarantor: str) -> dict[str, int]:
    """patient_cents of the lines minus payments, per statement, summed in Python."""
    due: dict[str, int] = defaultdict(int)
    lines = await rows(
        portal,
        select(m.StatementLineItem.statement_id, m.StatementLineItem.patient_cents)
        .join(m.Statement, m.Statement.id == m.StatementLineItem.statement_id)
        .where(m.Statement.guarantor_patient_id == guarantor),
    )
    for statement_id, cents in lines:
        due[statement_id] += cents
    paid = await rows(
        portal,
        select(m.Payment.statement_id, m.Payment.amount_cents)
        .join(m.Statement, m.Statement.id == m.Payment.statement_id)
        .where(m.Statement.guarantor_patient_id == guarantor),
    )
    for statement_id, cents in paid:
        due[statement_id] -= cents
    return dict(due)


async def busiest_guarantor(portal: Portal) -> str:
    """The guarantor with an account and the most statements (several pages' worth)."""
    with_account = set(
        await scalars(portal, select(m.Account.patient_id).where(m.Account.patient_id.isnot(None)))
    )
    counts: dict[str, int] = defaultdict(int)
    for guarantor in await scalars(portal, select(m.Statement.guarantor_patient_id)):
        if guarantor in with_account:
            counts[guarantor] += 1
    return max(counts, key=lambda g: (counts[g], g))


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


# -- health summary ------------------------------------------------------------------------
async def test_patient_sees_each_summary_list_with_the_data_counts(portal: Portal) -> None:
    result = await portal.gql(SUMMARY, {"id": patient_gid(ALEX_ID)}, as_user=ALEX)
    assert "errors" not in result
    data = result["data"]["patient"]
    for key, model in [
        ("medications", m.Medication),
        ("allergies", m.Allergy),
        ("problems", m.Problem),
        ("immunizations", m.Immunization),
    ]:
        expected = await scalars(portal, owned_ids(model, ALEX_ID))
        assert sorted(ids_of(data[key])) == sorted(expected), key
    active = await scalars(
        portal,
        select(m.Medication.id).where(
            m.Medication.patient_id == ALEX_ID, m.Medication.status == "active"
        ),
    )
    assert sorted(ids_of(data["activeMedications"])) == sorted(active)
    assert {med["status"] for med in data["activeMedications"]} <= {"ACTIVE"}


async def test_immunizations_are_newest_first(portal: Portal) -> None:
    result = await portal.gql(SUMMARY, {"id": patient_gid(LEO_ID)}, as_user=LEO_ACCOUNT)
    dates = [i["administeredOn"] for i in result["data"]["patient"]["immunizations"]]
    assert len(dates) > 1
    assert dates == sorted(dates, reverse=True)


async def test_care_team_is_pcp_first_then_providers_seen_or_booked(portal: Portal) -> None:
    result = await portal.gql(SUMMARY, {"id": patient_gid(ALEX_ID)}, as_user=ALEX)
    team = ids_of(result["data"]["patient"]["careTeam"])
    pcp, expected = await care_team_of(portal, ALEX_ID)
    assert pcp is not None
    assert len(expected) > 1
    assert team[0] == pcp
    assert sorted(team) == sorted(expected)  # each provider once


async def test_proxy_without_billing_scope_gets_null_billing_and_the_other_lists(
    portal: Portal,
) -> None:
    grants = await scalars(portal, select(m.ProxyGrant))
    grant = next(
        g
        for g in grants
        if effective(g, portal)
        and g.relationship in ("caregiver", "spouse")  # no age rules in play
        and "billing" not in g.scopes
        and "health_summary" in g.scopes
    )
    result = await portal.gql(
        MIXED,
        {"id": patient_gid(grant.patient_id)},
        token=await token_for(portal, grant.proxy_account_id),
    )
    data = result["data"]["patient"]
    assert data["statements"] is None
    assert data["balance"] is None
    billing_errors = {
        tuple(e["path"]): (
            e["extensions"]["code"],
            e["extensions"]["reason"],
            e["extensions"]["area"],
        )
        for e in result["errors"]
        if e["extensions"]["area"] == "BILLING"
    }
    assert billing_errors == {
        ("patient", "statements"): ("FORBIDDEN", "PROXY_SCOPE", "BILLING"),
        ("patient", "balance"): ("FORBIDDEN", "PROXY_SCOPE", "BILLING"),
    }
    for key, model in [
        ("allergies", m.Allergy),
        ("immunizations", m.Immunization),
        ("problems", m.Problem),
    ]:
        ids = await scalars(portal, owned_ids(model, grant.patient_id))
        assert sorted(ids_of(data[key])) == sorted(ids), key
    # The patient themself, same query: billing answers.
    owner = await account_of(portal, grant.patient_id)
    own = await portal.gql(
        MIXED, {"id": patient_gid(grant.patient_id)}, token=await token_for(portal, owner)
    )
    assert "errors" not in own
    assert own["data"]["patient"]["statements"] is not None


async def test_grant_with_only_health_summary_withholds_medications_and_care_team(
    fresh_portal: Portal,
) -> None:
    portal = fresh_portal
    async with portal.services.session() as session, session.begin():
        session.add(
            m.ProxyGrant(
                id=m.new_id("pxg"),
                patient_id=ALEX_ID,
                proxy_account_id="acc-0000005",  # daniel.chen, proxy only
                relationship="caregiver",
                scopes=["health_summary"],
                status="active",
                starts_at=portal.clock.now() - timedelta(days=1),
                ends_at=None,
            )
        )
    result = await portal.gql(MIXED, {"id": patient_gid(ALEX_ID)}, as_user=DANIEL)
    data = result["data"]["patient"]
    reasons = {
        e["path"][-1]: (e["extensions"]["reason"], e["extensions"]["area"])
        for e in result["errors"]
    }
    assert reasons == {
        "medications": ("PROXY_SCOPE", "MEDICATIONS"),
        "careTeam": ("PROXY_SCOPE", "APPOINTMENTS"),
        "statements": ("PROXY_SCOPE", "BILLING"),
        "balance": ("PROXY_SCOPE", "BILLING"),
    }
    assert [data[k] for k in reasons] == [None, None, None, None]
    allergies = await scalars(portal, select(m.Allergy.id).where(m.Allergy.patient_id == ALEX_ID))
    assert sorted(ids_of(data["allergies"])) == sorted(allergies)
    assert data["problems"] is not None
    assert data["immunizations"] is not None


async def test_parent_of_adolescent_sees_allergies_immunizations_billing_only(
    portal: Portal,
) -> None:
    result = await portal.gql(MIXED, {"id": patient_gid(LEO_ID)}, as_user=ALEX)
    data = result["data"]["patient"]
    withheld = {
        e["path"][-1]: (e["extensions"]["code"], e["extensions"]["reason"])
        for e in result["errors"]
    }
    assert withheld == {
        "problems": ("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL"),
        "medications": ("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL"),
    }
    assert data["problems"] is None
    assert data["medications"] is None
    immunizations = await scalars(
        portal, select(m.Immunization.id).where(m.Immunization.patient_id == LEO_ID)
    )
    assert sorted(ids_of(data["immunizations"])) == sorted(immunizations)
    assert data["allergies"] is not None
    assert data["statements"] is not None
    assert data["balance"] is not None
    assert data["careTeam"] is not None


async def test_adolescent_himself_sees_his_problems_and_medications(portal: Portal) -> None:
    result = await portal.gql(MIXED, {"id": patient_gid(LEO_ID)}, as_user=LEO_ACCOUNT)
    assert "errors" not in result
    data = result["data"]["patient"]
    for key, model in [("problems", m.Problem), ("medications", m.Medication)]:
        expected = await scalars(portal, owned_ids(model, LEO_ID))
        assert expected
        assert sorted(ids_of(data[key])) == sorted(expected), key


async def test_summary_lists_load_in_one_statement_each_for_all_patients(portal: Portal) -> None:
    portal.statements = 0
    base = await portal.gql(FAMILY_BASE, as_user=JORDAN)
    baseline = portal.statements
    assert len(base["data"]["viewer"]["patients"]) == 3
    portal.statements = 0
    result = await portal.gql(FAMILY_SUMMARY, as_user=JORDAN)
    # medications, prescribers, allergies, problems, immunizations, care team: one each.
    assert portal.statements - baseline == 6
    assert {e["extensions"]["reason"] for e in result["errors"]} == {"ADOLESCENT_CONFIDENTIAL"}


# -- billing -------------------------------------------------------------------------------
async def test_amount_due_and_balance_match_the_lines_and_payments(portal: Portal) -> None:
    guarantor = await busiest_guarantor(portal)
    token = await token_for(portal, await account_of(portal, guarantor))
    result = await portal.gql(BILLING, {"id": patient_gid(guarantor), "first": 100}, token=token)
    assert "errors" not in result
    data = result["data"]["patient"]
    due = await amounts_due(portal, guarantor)
    statements = {s.id: s for s in await statements_of(portal, guarantor)}
    got = {from_global_id(n["id"])[1]: n for n in data["statements"]["nodes"]}
    assert set(got) == set(statements)
    for statement_id, node in got.items():
        cents = due[statement_id]
        assert node["amountDue"] == {
            "amountCents": cents,
            "currency": "USD",
            "formatted": dollars(cents),
        }
        lines = sum(li["patientResponsibility"]["amountCents"] for li in node["lineItems"])
        paid = sum(p["amount"]["amountCents"] for p in node["payments"])
        assert lines - paid == cents
        assert node["status"] == statements[statement_id].status.upper()
        for li in node["lineItems"]:
            parts = li["insurancePaid"], li["adjustment"], li["patientResponsibility"]
            assert li["charge"]["amountCents"] == sum(p["amountCents"] for p in parts)
    balance = sum(due[s.id] for s in statements.values() if s.status == "open")
    assert balance > 0
    assert data["balance"] == {
        "amountCents": balance,
        "currency": "USD",
        "formatted": dollars(balance),
    }


async def test_parent_sees_a_childs_charges_on_their_own_statements(portal: Portal) -> None:
    result = await portal.gql(BILLING, {"id": patient_gid(ALEX_ID), "first": 100}, as_user=ALEX)
    names = {
        li["patientName"]
        for node in result["data"]["patient"]["statements"]["nodes"]
        for li in node["lineItems"]
    }
    served = await scalars(
        portal,
        select(m.Patient)
        .join(m.StatementLineItem, m.StatementLineItem.patient_id == m.Patient.id)
        .join(m.Statement, m.Statement.id == m.StatementLineItem.statement_id)
        .where(m.Statement.guarantor_patient_id == ALEX_ID),
    )
    assert names == {display_name(p) for p in served}
    assert any(p.id != ALEX_ID for p in served)  # a dependent's visit, billed to Alex


async def test_statements_paginate_newest_first(portal: Portal) -> None:
    guarantor = await busiest_guarantor(portal)
    token = await token_for(portal, await account_of(portal, guarantor))
    expected = [s.id for s in await statements_of(portal, guarantor)]
    assert len(expected) > 4
    seen: list[str] = []
    after = None
    for _ in expected:
        variables = {"id": patient_gid(guarantor), "first": 2, "after": after}
        result = await portal.gql(STATEMENT_IDS, variables, token=token)
        connection = result["data"]["patient"]["statements"]
        seen += ids_of(connection["nodes"])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert seen == expected


async def test_statements_filter_by_status(portal: Portal) -> None:
    guarantor = await busiest_guarantor(portal)
    token = await token_for(portal, await account_of(portal, guarantor))
    statements = await statements_of(portal, guarantor)
    for status in ("open", "paid"):
        variables = {"id": patient_gid(guarantor), "first": 100, "status": status.upper()}
        result = await portal.gql(STATEMENT_IDS, variables, token=token)
        got = ids_of(result["data"]["patient"]["statements"]["nodes"])
        assert got == [s.id for s in statements if s.status == status]


async def test_bad_cursor_and_page_size_are_bad_user_input(portal: Portal) -> None:
    for variables in ({"after": "not-a-cursor"}, {"first": 1000}):
        result = await portal.gql(
            STATEMENT_IDS, {"id": patient_gid(ALEX_ID), **variables}, as_user=ALEX
        )
        assert result["data"]["patient"]["statements"] is None
        assert errors_of(result) == [("BAD_USER_INPUT", None)]


async def test_statement_lists_cost_the_same_statements_for_1_or_many(portal: Portal) -> None:
    guarantor = await busiest_guarantor(portal)
    token = await token_for(portal, await account_of(portal, guarantor))
    portal.statements = 0
    await portal.gql(PATIENT_ONLY, {"id": patient_gid(guarantor)}, token=token)
    baseline = portal.statements
    counts = []
    for first in (1, 100):
        portal.statements = 0
        result = await portal.gql(
            STATEMENTS_DEEP, {"id": patient_gid(guarantor), "first": first}, token=token
        )
        assert "errors" not in result
        counts.append(portal.statements - baseline)
    # statement page with its line items, payments, balance; on PostgreSQL the page and
    # the balance, dispatched together, are one statement (persistence/together.py).
    together = portal.services.engine.dialect.name == "postgresql"
    assert counts == ([2, 2] if together else [3, 3])


# -- self only: proxy grants and the access log --------------------------------------------
def test_self_only_fields_are_listed_and_carry_no_scope() -> None:
    fields = {
        f.graphql_name or strawberry_name(f.python_name): f
        for f in get_object_definition(Patient, strict=True).fields
    }
    assert {"proxyGrants", "accessLog"} <= set(SELF_ONLY_FIELDS)
    for name in SELF_ONLY_FIELDS:
        assert "requires_scope" not in (fields[name].metadata or {})


def strawberry_name(python_name: str) -> str:
    head, *rest = python_name.split("_")
    return head + "".join(part.title() for part in rest)


async def test_patient_sees_the_proxy_grants_they_gave(portal: Portal) -> None:
    result = await portal.gql(PROXY_GRANTS, {"id": patient_gid(LEO_ID)}, as_user=LEO_ACCOUNT)
    assert "errors" not in result
    got = result["data"]["patient"]["proxyGrants"]
    grants = await scalars(portal, select(m.ProxyGrant).where(m.ProxyGrant.patient_id == LEO_ID))
    assert sorted(ids_of(got)) == sorted(g.id for g in grants)
    names = dict(await rows(portal, select(m.Account.id, m.Account.display_name)))
    by_id = {g.id: g for g in grants}
    for item in got:
        grant = by_id[from_global_id(item["id"])[1]]
        assert item["proxy"] == {"displayName": names[grant.proxy_account_id]}
        assert item["status"] == grant.status.upper()
        assert item["relationship"] == grant.relationship.upper()
        assert sorted(item["scopes"]) == sorted(s.upper() for s in grant.scopes)


async def test_proxy_may_not_see_proxy_grants_or_access_log(portal: Portal) -> None:
    for query in (PROXY_GRANTS, ACCESS_LOG):
        result = await portal.gql(query, {"id": patient_gid(LEO_ID)}, as_user=ALEX)
        assert result["data"]["patient"] is not None
        assert set(result["data"]["patient"].values()) == {None}
        assert errors_of(result) == [("FORBIDDEN", "SELF_ONLY")]


async def test_access_log_shows_earlier_reads_newest_first(fresh_portal: Portal) -> None:
    portal = fresh_portal
    leo = {"id": patient_gid(LEO_ID)}
    assert "errors" not in await portal.gql(JORDAN_READS_LEO, leo, as_user=JORDAN)
    portal.clock.advance(timedelta(minutes=1))
    assert "errors" not in await portal.gql(ALEX_READS_LEO, leo, as_user=ALEX)
    await portal.services.audit.flush()

    result = await portal.gql(ACCESS_LOG, {**leo, "first": 1}, as_user=LEO_ACCOUNT)
    connection = result["data"]["patient"]["accessLog"]
    [latest] = connection["nodes"]
    assert connection["pageInfo"]["hasNextPage"]
    assert latest["actorName"] == "Alexandra Rivera"
    assert latest["actingAs"] == "PARENT"
    assert latest["action"] == "READ"
    assert latest["operation"] == "AlexReadsLeo"
    assert set(latest["objectTypes"]) == {"Patient", "Statement"}

    after = connection["pageInfo"]["endCursor"]
    result = await portal.gql(ACCESS_LOG, {**leo, "first": 1, "after": after}, as_user=LEO_ACCOUNT)
    [earlier] = result["data"]["patient"]["accessLog"]["nodes"]
    assert earlier["actorName"] == "Jordan Rivera"
    assert earlier["operation"] == "JordanReadsLeo"
    assert set(earlier["objectTypes"]) == {"Patient", "Allergy", "Immunization"}
    assert earlier["at"] < latest["at"]


async def test_access_log_of_another_patient_is_not_in_mine(fresh_portal: Portal) -> None:
    portal = fresh_portal
    await portal.gql(JORDAN_READS_LEO, {"id": patient_gid(LEO_ID)}, as_user=JORDAN)
    await portal.services.audit.flush()
    result = await portal.gql(ACCESS_LOG, {"id": patient_gid(ALEX_ID)}, as_user=ALEX)
    operations = [n["operation"] for n in result["data"]["patient"]["accessLog"]["nodes"]]
    assert "JordanReadsLeo" not in operations


# -- node(id) ------------------------------------------------------------------------------
async def test_node_fetches_each_summary_and_billing_type_for_the_patient(portal: Portal) -> None:
    for type_name, model in [
        ("Medication", m.Medication),
        ("Allergy", m.Allergy),
        ("Problem", m.Problem),
        ("Immunization", m.Immunization),
    ]:
        [row_id] = (await scalars(portal, owned_ids(model, ALEX_ID)))[:1]
        result = await portal.gql(NODE, {"id": to_global_id(type_name, row_id)}, as_user=ALEX)
        assert result["data"]["node"]["__typename"] == type_name
    [statement] = (await statements_of(portal, ALEX_ID))[:1]
    result = await portal.gql(NODE, {"id": to_global_id("Statement", statement.id)}, as_user=ALEX)
    due = await amounts_due(portal, ALEX_ID)
    assert result["data"]["node"]["amountDue"] == {"amountCents": due[statement.id]}


async def test_node_applies_the_same_rules_as_the_lists(portal: Portal) -> None:
    [medication] = await scalars(
        portal, select(m.Medication.id).where(m.Medication.patient_id == LEO_ID).limit(1)
    )
    gid = to_global_id("Medication", medication)
    leo = await portal.gql(NODE, {"id": gid}, as_user=LEO_ACCOUNT)
    assert leo["data"]["node"]["__typename"] == "Medication"
    parent = await portal.gql(NODE, {"id": gid}, as_user=ALEX)
    assert parent["data"]["node"] is None
    assert errors_of(parent) == [("FORBIDDEN", "ADOLESCENT_CONFIDENTIAL")]
    # Someone else's statement and an unknown one answer alike.
    [statement] = (await statements_of(portal, ALEX_ID))[:1]
    other = await portal.gql(
        NODE, {"id": to_global_id("Statement", statement.id)}, as_user=LEO_ACCOUNT
    )
    unknown = await portal.gql(
        NODE, {"id": to_global_id("Statement", "stm-nope")}, as_user=LEO_ACCOUNT
    )
    assert other["data"]["node"] is None
    assert errors_of(other) == errors_of(unknown) == [("FORBIDDEN", "NOT_A_PATIENT")]


async def test_proxy_grant_node_is_self_only(portal: Portal) -> None:
    [grant] = await scalars(
        portal, select(m.ProxyGrant.id).where(m.ProxyGrant.patient_id == LEO_ID).limit(1)
    )
    gid = to_global_id("ProxyGrant", grant)
    own = await portal.gql(NODE, {"id": gid}, as_user=LEO_ACCOUNT)
    assert own["data"]["node"]["__typename"] == "ProxyGrant"
    proxy = await portal.gql(NODE, {"id": gid}, as_user=ALEX)
    unknown = await portal.gql(
        NODE, {"id": to_global_id("ProxyGrant", "pxg-nope")}, as_user=LEO_ACCOUNT
    )
    assert proxy["data"]["node"] is None
    assert unknown["data"]["node"] is None
    assert errors_of(proxy) == errors_of(unknown) == [("FORBIDDEN", "SELF_ONLY")]
