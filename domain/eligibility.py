"""Who may book which visit online: rules per visit type and department (configuration).

A rule matches a visit type (or every type) in some departments (by id or by specialty, or
every department) and says who may book it online: an age range, the sexes it is for, and
whether the patient must be established there (seen by that department within N months).
Independently, a provider who does not accept new patients is bookable only by patients on
their panel (their primary care patients, and patients they saw within `panel_months`).

Every refusal says why with its own code and tells the patient to send an appointment
request instead (the clinic may still see them: these rules only decide what is booked
without a person looking). Visit types that are never self-scheduled (new-patient visits,
therapy, imaging, ...) stay with `AppointmentPolicy.self_schedulable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain.errors import DomainError

INSTEAD = " You can send an appointment request instead and the clinic will contact you."


@dataclass(frozen=True)
class Rule:
    """Who may book `visit_types` (None: every type) in the departments it names online."""

    visit_types: frozenset[str] | None = None
    department_ids: frozenset[str] | None = None  # None (and no specialties): every department
    specialties: frozenset[str] | None = None
    min_age: int | None = None  # at least this old on the day of the visit
    max_age: int | None = None  # younger than this on the day of the visit
    sexes: frozenset[str] | None = None  # "F", "M", ... as the record has it
    established_months: int | None = None  # seen by the department within this many months

    def applies(self, visit_type: str, department: DepartmentFacts) -> bool:
        if self.visit_types is not None and visit_type not in self.visit_types:
            return False
        if self.department_ids is None and self.specialties is None:
            return True
        return department.id in (self.department_ids or ()) or department.specialty in (
            self.specialties or ()
        )


# The demo rules (docs/patient-tasks.md): children's departments and well-child visits are
# for under-18s, adult primary care for adults, gynecology for female patients, and
# specialist follow-ups for patients the department saw within two years.
SPECIALIST_SPECIALTIES = frozenset(
    {
        "Cardiology",
        "Endocrinology",
        "Obstetrics and Gynecology",
        "Orthopedics",
        "Dermatology",
        "Pulmonology",
        "Gastroenterology",
        "Neurology",
        "Behavioral Health",
        "Allergy and Immunology",
    }
)
DEMO_RULES: tuple[Rule, ...] = (
    Rule(specialties=frozenset({"Pediatrics"}), max_age=18),
    Rule(visit_types=frozenset({"Well Child"}), max_age=18),
    Rule(specialties=frozenset({"Internal Medicine"}), min_age=18),
    Rule(specialties=frozenset({"Obstetrics and Gynecology"}), sexes=frozenset({"F"})),
    Rule(
        visit_types=frozenset({"Follow-Up", "Telehealth Visit"}),
        specialties=SPECIALIST_SPECIALTIES,
        established_months=24,
    ),
)


@dataclass(frozen=True)
class EligibilityPolicy:
    rules: tuple[Rule, ...] = DEMO_RULES
    panel_months: int = 36  # a provider's panel: PCP patients and who they saw this recently


@dataclass(frozen=True)
class DepartmentFacts:
    id: str
    specialty: str


@dataclass(frozen=True)
class PatientFacts:
    birth_date: date
    sex: str
    pcp_provider_id: str | None
    last_seen_by_department: Mapping[str, datetime] = field(default_factory=dict)
    last_seen_by_provider: Mapping[str, datetime] = field(default_factory=dict)


# -- the refusals ------------------------------------------------------------------------------
class NotEligibleAge(DomainError):
    code = "NOT_ELIGIBLE_AGE"


class NotEligibleSex(DomainError):
    code = "NOT_ELIGIBLE_SEX"
    default_message = "This type of visit cannot be booked online for this patient." + INSTEAD


class EstablishedPatientsOnly(DomainError):
    code = "ESTABLISHED_PATIENTS_ONLY"


class NotAcceptingNewPatients(DomainError):
    code = "PROVIDER_NOT_ACCEPTING_NEW_PATIENTS"
    default_message = (
        "This provider is not taking new patients online. Choose a time with another "
        "provider, or send an appointment request and the clinic will contact you."
    )


def _age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    return years if (day.month, day.day) >= (birth.month, birth.day) else years - 1


def _months_ago(now: datetime, months: int) -> datetime:
    return now - timedelta(days=round(months * 30.44))


def rule_refusal(
    patient: PatientFacts,
    visit_type: str,
    department: DepartmentFacts,
    visit_day: date,
    now: datetime,
    policy: EligibilityPolicy,
) -> DomainError | None:
    """Why the patient may not book `visit_type` in `department` online, or None."""
    age = _age_on(patient.birth_date, visit_day)
    for rule in policy.rules:
        if not rule.applies(visit_type, department):
            continue
        if rule.max_age is not None and age >= rule.max_age:
            return NotEligibleAge(
                f"This visit is for patients under {rule.max_age}." + INSTEAD, "slotId"
            )
        if rule.min_age is not None and age < rule.min_age:
            return NotEligibleAge(
                f"This visit is for patients {rule.min_age} and older." + INSTEAD, "slotId"
            )
        if rule.sexes is not None and patient.sex not in rule.sexes:
            return NotEligibleSex(field="slotId")
        if rule.established_months is not None:
            seen = patient.last_seen_by_department.get(department.id)
            if seen is None or seen < _months_ago(now, rule.established_months):
                return EstablishedPatientsOnly(
                    "Online, this visit is for patients the department has seen in the last "
                    f"{rule.established_months} months." + INSTEAD,
                    "slotId",
                )
    return None


def on_panel(patient: PatientFacts, provider_id: str, now: datetime, months: int) -> bool:
    if patient.pcp_provider_id == provider_id:
        return True
    seen = patient.last_seen_by_provider.get(provider_id)
    return seen is not None and seen >= _months_ago(now, months)


def panel_refusal(
    patient: PatientFacts,
    provider_id: str,
    accepts_new_patients: bool,
    now: datetime,
    policy: EligibilityPolicy,
) -> DomainError | None:
    if accepts_new_patients or on_panel(patient, provider_id, now, policy.panel_months):
        return None
    return NotAcceptingNewPatients(field="slotId")


def eligibility_refusal(
    patient: PatientFacts,
    visit_type: str,
    department: DepartmentFacts,
    provider_id: str,
    accepts_new_patients: bool,
    visit_day: date,
    now: datetime,
    policy: EligibilityPolicy,
) -> DomainError | None:
    """The rules of the visit type and department first, then the provider's panel."""
    refusal = rule_refusal(patient, visit_type, department, visit_day, now, policy)
    return refusal or panel_refusal(patient, provider_id, accepts_new_patients, now, policy)


def bookable_types(
    patient: PatientFacts,
    visit_types: Iterable[str],
    department: DepartmentFacts,
    visit_day: date,
    now: datetime,
    policy: EligibilityPolicy,
) -> list[str]:
    """The visit types of `visit_types` the rules let this patient book in `department`."""
    return [
        t
        for t in visit_types
        if rule_refusal(patient, t, department, visit_day, now, policy) is None
    ]


# -- configuration -----------------------------------------------------------------------------
def rules_from_json(items: Any) -> tuple[Rule, ...]:
    """`APPOINTMENT_ELIGIBILITY_RULES`: a JSON list of objects with the fields of `Rule`
    (camelCase; lists for the sets). Raises ValueError on anything else."""
    if not isinstance(items, list):
        raise ValueError("must be a JSON list of rules")
    names = {
        "visitTypes": "visit_types",
        "departmentIds": "department_ids",
        "specialties": "specialties",
        "minAge": "min_age",
        "maxAge": "max_age",
        "sexes": "sexes",
        "establishedMonths": "established_months",
    }
    rules = []
    for item in items:
        if not isinstance(item, dict) or set(item) - set(names):
            raise ValueError(f"each rule is an object with some of {sorted(names)}")
        values: dict[str, Any] = {}
        for key, value in item.items():
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[names[key]] = frozenset(value)
            elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                values[names[key]] = value
            else:
                raise ValueError(f"{key}: a list of strings or a whole number")
        rules.append(Rule(**values))
    return tuple(rules)
