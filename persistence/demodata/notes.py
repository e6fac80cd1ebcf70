"""Clinical notes and after-visit summaries for the demo dataset (``clinical_notes.jsonl``).

An optional kind added after format 1: datasets written before it have no such file and
still load. Notes come from each patient's completed visits, with a random stream of their
own (``notes/<patient id>``), so adding them changed no other kind's records. The showcase
families always show one sensitive note (behavioral health) beside ordinary ones.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

Record = dict[str, Any]

#: Showcase patients given a behavioral-health note whatever the seed: Alex (she reads it
#: herself) and Margaret (her caregiver Susan, with every scope, may not until Margaret
#: opens the category to her).
SENSITIVE_SHOWCASE = ("pat-0000001", "pat-0000005")
SENSITIVE_CATEGORIES = ("behavioral_health", "substance_use", "reproductive_sexual_health")
SENSITIVE_SHARE = 0.06
KINDS = ("progress_note", "visit_note", "after_visit_summary", "discharge_summary")

DISCUSSED = (
    "We reviewed how you have been feeling since your last visit and went over your medicines.",
    "We talked about your symptoms, checked your vital signs and examined you.",
    "We reviewed your recent test results and your current treatment plan.",
)
NEXT_STEPS = (
    "Keep taking your medicines as prescribed. Call the clinic if your symptoms get worse.",
    "Drink plenty of fluids and rest. Send us a message if you are not better in a week.",
    "Schedule a follow-up visit in 3 months. Bring your home readings to that visit.",
)
SENSITIVE_TEXT = {
    "behavioral_health": (
        "Behavioral health follow-up",
        "Follow-up for mood and sleep. Patient reports improvement with weekly therapy "
        "sessions. Continue current plan; safety plan reviewed. Return in 4 weeks.",
    ),
    "substance_use": (
        "Substance use counseling",
        "Counseling visit. Patient remains engaged in treatment and reports no recent use. "
        "Continue current plan and support group attendance.",
    ),
    "reproductive_sexual_health": (
        "Reproductive health visit",
        "Routine reproductive health visit. Counseling provided; screening tests ordered. "
        "Results will be shared through the portal.",
    ),
}


def _signed(start: datetime, duration: int, rng: random.Random, now: datetime) -> datetime:
    signed = start + timedelta(minutes=duration + rng.randint(30, 600))
    return min(signed, now - timedelta(minutes=5))


def notes_for(
    patient_id: str,
    visits: list[tuple[Record, Record]],
    rng: random.Random,
    now: datetime,
    ts: Any,
    new_id: Any,
) -> list[Record]:
    """The notes of one patient: an after-visit summary and a visit note for each of the last
    two completed visits (`visits`: (appointment, provider) oldest first), and a sensitive
    progress note for some (always for `SENSITIVE_SHOWCASE`)."""
    out: list[Record] = []
    for appointment, provider in visits[-2:]:
        start = datetime.fromisoformat(appointment["starts_at"])
        signed = _signed(start, appointment["duration_minutes"], rng, now)
        day = start.date().isoformat()
        reason = appointment["reason"] or appointment["visit_type"]
        out.append(
            {
                "id": new_id(),
                "patient_id": patient_id,
                "appointment_id": appointment["id"],
                "author_provider_id": provider["id"],
                "kind": "visit_note",
                "title": f"{appointment['visit_type']}: {reason}",
                "text": (
                    f"Seen on {day} for {reason.lower()}. {rng.choice(DISCUSSED)} "
                    "Assessment and plan discussed with the patient, who agrees."
                ),
                "signed_at": ts(signed),
                "sensitive_category": None,
            }
        )
        out.append(
            {
                "id": new_id(),
                "patient_id": patient_id,
                "appointment_id": appointment["id"],
                "author_provider_id": provider["id"],
                "kind": "after_visit_summary",
                "title": "After Visit Summary",
                "text": (
                    f"You saw {provider['display_name']} on {day} for a "
                    f"{appointment['visit_type'].lower()} ({reason}).\n\n"
                    f"What we discussed: {rng.choice(DISCUSSED)}\n\n"
                    f"Your next steps: {rng.choice(NEXT_STEPS)}"
                ),
                "signed_at": ts(signed),
                "sensitive_category": None,
            }
        )
    roll = rng.random()
    if visits and (patient_id in SENSITIVE_SHOWCASE or roll < SENSITIVE_SHARE):
        appointment, provider = visits[-1]
        category = (
            "behavioral_health"
            if patient_id in SENSITIVE_SHOWCASE
            else rng.choice(SENSITIVE_CATEGORIES)
        )
        title, text = SENSITIVE_TEXT[category]
        start = datetime.fromisoformat(appointment["starts_at"])
        out.append(
            {
                "id": new_id(),
                "patient_id": patient_id,
                "appointment_id": None,
                "author_provider_id": provider["id"],
                "kind": "progress_note",
                "title": title,
                "text": text,
                "signed_at": ts(_signed(start, appointment["duration_minutes"], rng, now)),
                "sensitive_category": category,
            }
        )
    return out
