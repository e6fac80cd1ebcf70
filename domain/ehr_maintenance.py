"""HEALTH_MAINTENANCE_UPDATED: the EHR sends a patient's health maintenance topics, the
whole list each time (a topic not in it is no longer tracked). Read strictly, like every
feed event (domain/ehr.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.ehr_notes import Fields
from domain.health_maintenance import TopicKind

MAX_TOPICS = 100
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,39}$")


@dataclass(frozen=True)
class Topic:
    topic_id: str
    name: str
    kind: TopicKind
    due_on: date | None
    last_done_on: date | None
    postponed: bool
    visit_type: str | None
    department_id: str | None


@dataclass(frozen=True)
class MaintenanceUpdated:
    patient_id: str
    topics: tuple[Topic, ...]


KINDS = {k.name: k for k in TopicKind}


def _date(f: Fields, key: str, raw: Any) -> date | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, str) and len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    f.problem(key, "must be a date (YYYY-MM-DD)")
    return None


def _topic(f: Fields, raw: Any, at: str) -> Topic | None:
    if not isinstance(raw, dict):
        f.problem(at, "must be a JSON object")
        return None
    known = {
        "topicId",
        "name",
        "kind",
        "dueOn",
        "lastDoneOn",
        "postponed",
        "visitType",
        "departmentId",
    }
    for key in sorted(set(raw) - known):
        f.problem(f"{at}.{key}", "is not a known field")
    topic_id, name = raw.get("topicId"), raw.get("name")
    if not isinstance(topic_id, str) or not _ID.match(topic_id):
        f.problem(f"{at}.topicId", "must be an identifier: 1-40 letters, digits and . _ : -")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        f.problem(f"{at}.name", "must be a string of 1-200 characters")
    kind_raw = raw.get("kind")
    kind = KINDS.get(kind_raw) if isinstance(kind_raw, str) else None
    if kind is None:
        f.problem(f"{at}.kind", "must be one of " + ", ".join(KINDS))
    postponed = raw.get("postponed", False)
    if not isinstance(postponed, bool):
        f.problem(f"{at}.postponed", "must be true or false")
    visit_type, department = raw.get("visitType"), raw.get("departmentId")
    for key, value in (("visitType", visit_type), ("departmentId", department)):
        if value is not None and (not isinstance(value, str) or not value or len(value) > 100):
            f.problem(f"{at}.{key}", "must be a string of 1-100 characters")
    return Topic(
        topic_id=str(topic_id),
        name=str(name),
        kind=kind or TopicKind.OTHER,
        due_on=_date(f, f"{at}.dueOn", raw.get("dueOn")),
        last_done_on=_date(f, f"{at}.lastDoneOn", raw.get("lastDoneOn")),
        postponed=bool(postponed),
        visit_type=visit_type if isinstance(visit_type, str) else None,
        department_id=department if isinstance(department, str) else None,
    )


def maintenance_updated(f: Fields, _occurred_at: datetime) -> MaintenanceUpdated:
    patient_id = f.ident("patientId")
    raw = f.field("topics")
    topics: list[Topic] = []
    if raw is not None and not isinstance(raw, list):
        f.problem("topics", "must be a list")
    elif isinstance(raw, list):
        if len(raw) > MAX_TOPICS:
            f.problem("topics", f"must hold at most {MAX_TOPICS} topics")
        for n, item in enumerate(raw):
            topic = _topic(f, item, f"topics[{n}]")
            if topic is not None:
                topics.append(topic)
        ids = [t.topic_id for t in topics]
        if len(ids) != len(set(ids)):
            f.problem("topics", "must not name a topicId twice")
    return MaintenanceUpdated(patient_id, tuple(topics))
