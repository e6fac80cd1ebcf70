"""Health maintenance topics for the demo dataset (``health_maintenance_topics.jsonl``).

An optional kind added in format 3. The topics a patient is tracked for follow age, sex and
conditions (immunizations, screenings, preventive visits), each with the date it was last
done and the date it is due next, as the EHR sends them (HEALTH_MAINTENANCE_UPDATED). They
come from a random stream of the patient's own, so adding them changed no other kind's
records. A showcase patient always has one topic overdue and one that comes due within ten
days of ``now`` (the periodic job announces it then, with no feed update).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Record = dict[str, Any]

KINDS = ("immunization", "screening", "other")
#: Patients the EHR tracks (the others have no topics at all).
TRACKED_SHARE = 0.75
POSTPONED_SHARE = 0.04
DUE_SOON_DAYS = 30  # domain.health_maintenance.HealthMaintenancePolicy.due_soon


@dataclass(frozen=True)
class TopicSpec:
    topic_id: str
    name: str
    kind: str
    min_age: int
    max_age: int  # younger than
    sex: str | None
    every_days: int | None  # None: once in a lifetime (nothing due once done)
    visit_type: str | None
    specialty: str | None = None  # a department of this specialty books it; else the PCP's
    condition: str | None = None  # only for patients with this problem


TOPICS = (
    TopicSpec("influenza", "Influenza vaccine", "immunization", 1, 200, None, 365, "Office Visit"),
    TopicSpec(
        "well-child", "Well-child check", "other", 0, 18, None, 365, "Well Child", "Pediatrics"
    ),
    TopicSpec(
        "preventive-visit", "Preventive care visit", "other", 18, 200, None, 365, "Annual Physical"
    ),
    TopicSpec("hpv", "HPV vaccine", "immunization", 9, 27, None, None, "Office Visit"),
    TopicSpec(
        "tdap", "Tetanus booster (Td/Tdap)", "immunization", 19, 200, None, 3650, "Office Visit"
    ),
    TopicSpec(
        "colorectal",
        "Colorectal cancer screening",
        "screening",
        45,
        76,
        None,
        3650,
        "Colonoscopy",
        "Gastroenterology",
    ),
    TopicSpec(
        "mammogram",
        "Breast cancer screening",
        "screening",
        40,
        75,
        "female",
        730,
        "Imaging",
        "Radiology",
    ),
    TopicSpec(
        "cervical",
        "Cervical cancer screening",
        "screening",
        21,
        66,
        "female",
        1095,
        "Office Visit",
        "Obstetrics and Gynecology",
    ),
    TopicSpec(
        "cholesterol", "Cholesterol screening", "screening", 20, 200, None, 1825, "Annual Physical"
    ),
    TopicSpec("zoster", "Shingles vaccine", "immunization", 50, 200, None, None, "Office Visit"),
    TopicSpec(
        "pneumococcal", "Pneumococcal vaccine", "immunization", 65, 200, None, None, "Office Visit"
    ),
    TopicSpec(
        "bone-density",
        "Bone density scan",
        "screening",
        65,
        200,
        "female",
        730,
        "Imaging",
        "Radiology",
    ),
    TopicSpec("a1c", "Hemoglobin A1c", "screening", 18, 200, None, 182, "Follow-Up", None, "t2dm"),
    TopicSpec(
        "diabetic-eye", "Diabetic eye exam", "screening", 18, 200, None, 365, None, None, "t2dm"
    ),
)


def _applies(spec: TopicSpec, age: int, sex: str, conditions: set[str]) -> bool:
    return (
        spec.min_age <= age < spec.max_age
        and spec.sex in (None, sex)
        and (spec.condition is None or spec.condition in conditions)
    )


def _dates(
    spec: TopicSpec, rng: random.Random, today: date, birth: date
) -> tuple[date | None, date | None]:
    """(last done, due next) for one topic."""
    if spec.every_days is None:
        if rng.random() < 0.6:
            return max(birth, today - timedelta(days=rng.randint(30, 2000))), None
        return None, max(birth, today - timedelta(days=rng.randint(-90, 400)))
    if rng.random() < 0.12:  # never done
        return None, max(birth, today - timedelta(days=rng.randint(0, 300)))
    last = max(birth, today - timedelta(days=rng.randint(1, int(spec.every_days * 1.2))))
    return last, last + timedelta(days=spec.every_days)


def topics_for(
    patient: Record,
    age: int,
    conditions: set[str],
    departments: dict[str, str],
    rng: random.Random,
    today: date,
    showcase: bool,
    new_id: Callable[[], str],
) -> list[Record]:
    """The topics of one patient (`departments`: specialty -> a department id; the PCP's
    department is `departments["pcp"]`)."""
    if not showcase and rng.random() >= TRACKED_SHARE:
        return []
    birth = date.fromisoformat(patient["birth_date"])
    specs = [s for s in TOPICS if _applies(s, age, patient["sex"], conditions)]
    dates = [_dates(spec, rng, today, birth) for spec in specs]
    postponed = [due is not None and rng.random() < POSTPONED_SHARE for _, due in dates]
    if showcase and len(specs) >= 2:
        # One overdue, and one that comes due within ten days (no feed update needed).
        overdue = today - timedelta(days=rng.randint(10, 60))
        every = specs[0].every_days
        dates[0] = (max(birth, overdue - timedelta(days=every)) if every else None, overdue)
        repeating = max(n for n, s in enumerate(specs) if s.every_days is not None)
        days = DUE_SOON_DAYS + rng.randint(3, 10)
        since = today + timedelta(days=days) - timedelta(days=specs[repeating].every_days or 0)
        dates[repeating] = (max(birth, since), today + timedelta(days=days))
        postponed[0] = postponed[repeating] = False
    out = []
    for spec, (last, due), held in zip(specs, dates, postponed, strict=True):
        out.append(
            {
                "id": new_id(),
                "patient_id": patient["id"],
                "topic_id": spec.topic_id,
                "name": spec.name,
                "kind": spec.kind,
                "due_on": due.isoformat() if due else None,
                "last_done_on": last.isoformat() if last else None,
                "postponed": held,
                "visit_type": spec.visit_type,
                "department_id": departments.get(spec.specialty or "pcp", departments["pcp"]),
            }
        )
    return out
