"""The eligibility rules as a table of cases (domain/eligibility.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.eligibility import (
    DEMO_RULES,
    DepartmentFacts,
    EligibilityPolicy,
    PatientFacts,
    eligibility_refusal,
    rules_from_json,
)

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
TODAY = date(2026, 11, 22)
PEDS = DepartmentFacts("dep-peds", "Pediatrics")
ADULT = DepartmentFacts("dep-im", "Internal Medicine")
FAMILY = DepartmentFacts("dep-fm", "Family Medicine")
GYN = DepartmentFacts("dep-gyn", "Obstetrics and Gynecology")
CARDIO = DepartmentFacts("dep-card", "Cardiology")


def patient(
    age: int, sex: str = "F", seen: dict[str, int] | None = None, pcp: str | None = None
) -> PatientFacts:
    birth = date(TODAY.year - age, TODAY.month, TODAY.day) - timedelta(days=1)
    last = {d: NOW - timedelta(days=30 * months) for d, months in (seen or {}).items()}
    return PatientFacts(birth, sex, pcp, last, {"prv-seen": NOW - timedelta(days=40)})


CASES = [
    (patient(84), "Well Child", PEDS, "NOT_ELIGIBLE_AGE"),
    (patient(84), "Well Child", FAMILY, "NOT_ELIGIBLE_AGE"),
    (patient(17), "Well Child", PEDS, None),
    (patient(18), "Sick Visit", PEDS, "NOT_ELIGIBLE_AGE"),
    (patient(7), "Office Visit", ADULT, "NOT_ELIGIBLE_AGE"),
    (patient(18), "Office Visit", ADULT, None),
    (patient(7), "Office Visit", FAMILY, None),
    (patient(40, "M"), "Follow-Up", GYN, "NOT_ELIGIBLE_SEX"),
    (patient(40, "F"), "Follow-Up", GYN, "ESTABLISHED_PATIENTS_ONLY"),
    (patient(40, "F", {"dep-gyn": 6}), "Follow-Up", GYN, None),
    (patient(40, seen={"dep-card": 23}), "Telehealth Visit", CARDIO, None),
    (patient(40, seen={"dep-card": 25}), "Telehealth Visit", CARDIO, "ESTABLISHED_PATIENTS_ONLY"),
    (patient(40, seen={"dep-other": 1}), "Follow-Up", CARDIO, "ESTABLISHED_PATIENTS_ONLY"),
]


@pytest.mark.parametrize(("facts", "visit_type", "department", "code"), CASES)
def test_demo_rules(
    facts: PatientFacts, visit_type: str, department: DepartmentFacts, code: str | None
) -> None:
    refusal = eligibility_refusal(
        facts, visit_type, department, "prv-open", True, TODAY, NOW, EligibilityPolicy()
    )
    assert (refusal.code if refusal else None) == code
    if refusal is not None:
        assert "appointment request" in refusal.message


@pytest.mark.parametrize(
    ("provider", "pcp", "code"),
    [
        ("prv-closed", None, "PROVIDER_NOT_ACCEPTING_NEW_PATIENTS"),
        ("prv-closed", "prv-closed", None),  # their own primary care patient
        ("prv-seen", None, None),  # seen 40 days ago: on the panel
    ],
)
def test_a_closed_panel_takes_its_own_patients_only(
    provider: str, pcp: str | None, code: str | None
) -> None:
    facts = patient(40, pcp=pcp)
    refusal = eligibility_refusal(
        facts, "Office Visit", FAMILY, provider, False, TODAY, NOW, EligibilityPolicy()
    )
    assert (refusal.code if refusal else None) == code


def test_rules_are_configuration() -> None:
    rules = rules_from_json([{"visitTypes": ["Sports Physical"], "minAge": 12, "maxAge": 19}])
    policy = EligibilityPolicy(rules=rules)
    args = (FAMILY, "prv-open", True, TODAY, NOW, policy)
    assert eligibility_refusal(patient(11), "Sports Physical", *args) is not None
    assert eligibility_refusal(patient(15), "Sports Physical", *args) is None
    assert eligibility_refusal(patient(84), "Well Child", *args) is None  # no demo rules now
    assert rules_from_json([]) == ()
    assert len(DEMO_RULES) == 5
    for bad in ({"maxAge": "18"}, {"shoeSize": [1]}, {"sexes": [1]}):
        with pytest.raises(ValueError, match=r"rule|number"):
            rules_from_json([bad])
    with pytest.raises(ValueError, match=r"JSON list"):
        rules_from_json({"minAge": 1})
