"""Patient tasks for the demo dataset: ``appointment_requests.jsonl``,
``prescription_renewals.jsonl``, ``coverages.jsonl`` and ``pronouns.jsonl``.

Optional kinds added in format 3 (a dataset written before has none of these files and still
loads). Each patient's records come from a random stream of their own (``tasks/<patient
id>``), so adding them changed no other kind's records. The showcase families always show
each: Alex has an open request and a declined one, Jordan a request the clinic scheduled,
Margaret (through her caregiver Susan) and Ada (through her guardian Grace) an open one;
renewals where a showcase patient's medication has run out; coverages for every showcase
patient; pronouns for the showcase accounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

Record = dict[str, Any]

REQUEST_STATUSES = ("requested", "scheduled", "declined", "cancelled")
RENEWAL_STATUSES = ("requested", "approved", "denied")
SUBSCRIBER_RELATIONS = ("self", "spouse", "child", "other")
CONTACT_PREFERENCES = ("PORTAL_MESSAGE", "PHONE", "EMAIL")
WEEKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
TIMES_OF_DAY = ("MORNING", "AFTERNOON", "EVENING")
REQUEST_SHARE = 0.08
RENEWAL_SHARE = 0.3
PRONOUNS_SHARE = 0.12

#: Visits a patient asks for rather than books (not self-schedulable), with where.
REQUESTED_VISITS = (
    ("New Patient", "Dermatology", "New rash that has not gone away"),
    ("Imaging", "Radiology", "Screening mammogram"),
    ("Therapy Session", "Behavioral Health", "Would like to talk to someone"),
    ("Allergy Testing", "Allergy and Immunology", "Seasonal allergies getting worse"),
    ("Physical Therapy Evaluation", "Orthopedics", "Knee pain when climbing stairs"),
)
#: The showcase's requests (patient number -> visits, status): never the visit types the
#: API tests ask for themselves (New Patient, Therapy), so theirs are not "already requested".
SHOWCASE_REQUESTS = {
    1: ((1, "requested"), (4, "declined")),
    2: ((None, "scheduled"),),
    5: ((4, "requested"),),
    7: ((3, "requested"),),
}
DECLINE_REASONS = (
    "A referral from your primary care provider is needed first. Please send us a message.",
    "This clinic does not offer this service. We have sent you a list of clinics that do.",
)
DENIAL_REASONS = (
    "Please schedule a follow-up visit first: this medication needs a check-up to renew.",
    "Your provider would like to talk about other options. Please send a message.",
)
SHOWCASE_PRONOUNS = {1: "she/her", 2: "he/him", 4: "he/him", 6: "she/her"}
PRONOUNS = {
    "female": (("she/her", 85), ("she/they", 8), ("they/them", 7)),
    "male": (("he/him", 85), ("he/they", 8), ("they/them", 7)),
}
COMMERCIAL = (
    ("Blue Cross Blue Shield of Massachusetts", ("PPO Blue", "HMO Blue New England")),
    ("Harvard Pilgrim Health Care", ("HMO", "PPO")),
    ("Tufts Health Plan", ("Advantage HMO",)),
    ("Aetna", ("Choice POS II",)),
)


@dataclass
class Patient:
    """What the tasks of one patient are made from."""

    record: Record
    age: int
    showcase: bool
    account_id: str | None  # their own account
    proxies: list[tuple[str, list[str]]]  # effective grants: (proxy account id, scopes)
    medications: list[Record]  # active ones
    upcoming: list[Record]  # booked appointments still ahead
    plan: str  # commercial | medicare | medicaid | self_pay (the guarantor's)
    copay_cents: int
    subscriber: str  # the guarantor's name ("" = the patient)


@dataclass
class Place:
    """Departments and providers by specialty; the clock."""

    departments: dict[str, str]
    providers: dict[str, list[str]]
    now: datetime
    ts: Callable[[datetime], str]


def number(patient: Record) -> int:
    return int(patient["id"].split("-")[1])


def _requester(p: Patient, scope: str) -> str | None:
    """The patient's own account, else the first proxy whose grant names `scope`."""
    if p.account_id is not None:
        return p.account_id
    return next((account for account, scopes in p.proxies if scope in scopes), None)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


def appointment_requests(
    p: Patient, place: Place, rng: random.Random, new_id: Callable[[], str]
) -> list[Record]:
    requester = _requester(p, "appointments")
    if requester is None:
        return []
    if p.showcase:
        planned = list(SHOWCASE_REQUESTS.get(number(p.record), ()))
    elif rng.random() < REQUEST_SHARE:
        status = _weighted(
            rng, (("requested", 40), ("scheduled", 25), ("declined", 20), ("cancelled", 15))
        )
        planned = [(rng.randrange(len(REQUESTED_VISITS)), status)]
    else:
        return []
    out = []
    for visit, status in planned:
        booked = next((a for a in p.upcoming if status == "scheduled"), None)
        if status == "scheduled" and booked is None:
            status = "requested"
        if booked is not None:
            visit_type, department, reason = (
                booked["visit_type"],
                booked["department_id"],
                booked["reason"] or booked["visit_type"],
            )
            provider = booked["provider_id"]
            created = min(place.now, datetime.fromisoformat(booked["starts_at"])) - timedelta(
                days=rng.randint(10, 30)
            )
        else:
            visit_type, specialty, reason = REQUESTED_VISITS[visit or 0]
            department = place.departments[specialty]
            providers = place.providers.get(specialty) or []
            provider = rng.choice(providers) if providers and rng.random() < 0.4 else None
            created = place.now - timedelta(days=rng.randint(1, 40), minutes=rng.randint(0, 600))
        answered = created + timedelta(days=rng.randint(1, 5))
        out.append(
            {
                "id": new_id(),
                "patient_id": p.record["id"],
                "requested_by_account_id": requester,
                "visit_type": visit_type,
                "reason": reason,
                "provider_id": provider,
                "department_id": department,
                "preferred_days": sorted(
                    rng.sample(WEEKDAYS, rng.randint(1, 3)), key=WEEKDAYS.index
                ),
                "preferred_times": [rng.choice(TIMES_OF_DAY[:2])],
                "contact_preference": rng.choice(CONTACT_PREFERENCES),
                "status": status,
                "appointment_id": booked["id"] if booked is not None else None,
                "decline_reason": rng.choice(DECLINE_REASONS) if status == "declined" else None,
                "created_at": place.ts(created),
                "status_changed_at": place.ts(
                    created if status == "requested" else min(answered, place.now)
                ),
            }
        )
    return out


def _needs_renewal(med: Record, today: date) -> bool:
    """domain.renewals.needs_renewal, on a record."""
    ended = med["end_date"] is not None and date.fromisoformat(med["end_date"]) < today
    return med["refills_remaining"] <= 0 or ended


def prescription_renewals(
    p: Patient, place: Place, rng: random.Random, new_id: Callable[[], str]
) -> list[Record]:
    """An open (or denied) renewal of a medication that has run out; an approved one of a
    medication with refills (they came from that approval)."""
    requester = _requester(p, "medications")
    meds = [m for m in p.medications if m["prescriber_id"] is not None]
    if requester is None or not meds or not (p.showcase or rng.random() < RENEWAL_SHARE):
        return []
    today = place.now.date()
    chosen: list[tuple[Record, str]] = []
    run_out = [m for m in meds if _needs_renewal(m, today)]
    if run_out:
        status = "requested" if p.showcase or rng.random() < 0.7 else "denied"
        chosen.append((run_out[-1], status))
    with_refills = [m for m in meds if not _needs_renewal(m, today)]
    if with_refills and (p.showcase or rng.random() < 0.3):
        chosen.append((with_refills[0], "approved"))
    out = []
    for med, status in sorted(chosen, key=lambda c: c[0]["id"]):
        created = place.now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
        changed = created if status == "requested" else created + timedelta(days=rng.randint(1, 3))
        out.append(
            {
                "id": new_id(),
                "patient_id": p.record["id"],
                "medication_id": med["id"],
                "prescriber_id": med["prescriber_id"],
                "requested_by_account_id": requester,
                "pharmacy": med["pharmacy"],
                "note": None,
                "status": status,
                "denial_reason": rng.choice(DENIAL_REASONS) if status == "denied" else None,
                "created_at": place.ts(created),
                "status_changed_at": place.ts(min(changed, place.now)),
            }
        )
    return out


def _member_id(rng: random.Random, plan: str) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(9))
    if plan == "medicare":  # a Medicare Beneficiary Identifier's shape
        letters = "ACDEFGHJKMNPQRTUVWXY"
        return f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}{digits[:1]}-{digits[1:5]}"
    if plan == "medicaid":
        return f"1{digits}{rng.randint(10, 99)}"
    return f"{rng.choice(('XKM', 'ZHP', 'WBT'))}{digits}"


def coverages(
    p: Patient, place: Place, rng: random.Random, new_id: Callable[[], str]
) -> list[Record]:
    """What the patient's insurance pays, as the EHR sends it (COVERAGE_UPDATED): the
    guarantor's plan (none for self-pay), a child as the subscriber's dependent."""
    if p.plan == "self_pay":
        return []
    today = place.now.date()
    name = f"{p.record['given_name']} {p.record['family_name']}"
    subscriber, relation = (p.subscriber, "child") if p.subscriber else (name, "self")
    start = date(today.year - rng.randint(0, 4), 1, 1)
    base: Record = {
        "patient_id": p.record["id"],
        "subscriber_name": subscriber,
        "subscriber_relation": relation,
        "effective_from": max(start, date.fromisoformat(p.record["birth_date"])).isoformat(),
        "effective_to": None,
        "group_number": None,
        "copays": [],
        "deductible_cents": None,
        "deductible_met_cents": None,
        "out_of_pocket_max_cents": None,
        "out_of_pocket_met_cents": None,
    }
    plans: list[Record] = []
    if p.plan == "commercial":
        payer, names = rng.choice(COMMERCIAL)
        deductible = rng.choice((100000, 150000, 200000, 300000))
        limit = deductible * rng.choice((3, 4, 5))
        met = rng.randint(0, deductible // 100) * 100
        plans.append(
            base
            | {
                "payer": payer,
                "plan": rng.choice(names),
                "group_number": f"0{rng.randint(100000, 999999)}",
                "copays": [
                    {"service": "Primary care visit", "amount_cents": p.copay_cents},
                    {"service": "Specialist visit", "amount_cents": p.copay_cents * 2},
                    {"service": "Urgent care", "amount_cents": 7500},
                    {"service": "Emergency room", "amount_cents": 25000},
                ],
                "deductible_cents": deductible,
                "deductible_met_cents": met,
                "out_of_pocket_max_cents": limit,
                "out_of_pocket_met_cents": met + rng.randint(0, 40) * 1000,
            }
        )
    elif p.plan == "medicare":
        plans.append(
            base
            | {
                "payer": "Medicare",
                "plan": "Medicare Part A and B",
                "deductible_cents": 25700,
                "deductible_met_cents": rng.choice((0, 12000, 25700)),
            }
        )
        if p.showcase or rng.random() < 0.5:
            plans.append(
                base
                | {
                    "payer": "AARP Medicare Supplement (UnitedHealthcare)",
                    "plan": "Plan G",
                    "group_number": None,
                }
            )
    else:
        plans.append(base | {"payer": "MassHealth", "plan": "MassHealth Standard"})
    out = []
    for priority, plan in enumerate(plans, start=1):
        out.append(
            {
                "id": new_id(),
                "priority": priority,
                "member_id": _member_id(rng, p.plan if priority == 1 else "commercial"),
                **plan,
            }
        )
    return out


def pronouns(p: Patient, rng: random.Random, new_id: Callable[[], str]) -> list[Record]:
    """Pronouns a patient with their own account set in the portal (updateProfile)."""
    if p.showcase:
        chosen = SHOWCASE_PRONOUNS.get(number(p.record))
    elif p.account_id is not None and rng.random() < PRONOUNS_SHARE:
        chosen = _weighted(rng, PRONOUNS[p.record["sex"]])
    else:
        chosen = None
    if chosen is None:
        return []
    return [{"id": new_id(), "patient_id": p.record["id"], "pronouns": chosen}]
