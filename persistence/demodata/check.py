"""Self-check for a generated dataset directory.

``check_dataset(path)`` reads every ``<kind>.jsonl`` file and returns a list of
human-readable problems (empty when the dataset is sound).  It verifies:

* every record has exactly the documented fields, with the documented JSON types;
* ids are unique within their kind and carry the kind's prefix;
* every reference (``*_id`` field, line item ``patient_id``, message sender) points
  at an existing record of the right kind;
* enumerations only use documented values;
* timestamps are ISO-8601 UTC with a ``Z`` suffix, dates are ``YYYY-MM-DD``;
* time logic relative to the manifest's ``now`` (no completed appointment in the
  future, no released result in the future, read_at after sent_at, ...);
* money adds up (charge = insurance_paid + adjustment + patient, payments never
  exceed the statement total, status matches the balance);
* proxy access rules (at most one effective grant per proxy and patient, the
  adolescent policy, scopes from the documented set);
* lab component flags agree with the value and the reference range.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from . import catalog as C
from . import maintenance
from . import notes as clinical_notes
from . import tasks as patient_tasks
from .generator import ID_PREFIX, KINDS, LOCAL_ZONE, OPTIONAL_KINDS

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

S, INT, B, L, D, N = str, int, bool, list, dict, type(None)
NUM = (int, float)
TS, DT = "timestamp", "date"

#: (python type(s) or the TS/DT marker, nullable)
FieldSpec = tuple[type | tuple[type, ...] | str, int]
Record = dict[str, Any]

# kind -> field -> (python types or TS/DT marker, nullable)
SCHEMA: dict[str, dict[str, FieldSpec]] = {
    "departments": {
        "id": (S, 0),
        "name": (S, 0),
        "facility": (S, 0),
        "specialty": (S, 0),
        "address": (D, 0),
        "phone": (S, 0),
        "timezone": (S, 0),
    },
    "providers": {
        "id": (S, 0),
        "given_name": (S, 0),
        "family_name": (S, 0),
        "credentials": (S, 0),
        "display_name": (S, 0),
        "specialty": (S, 0),
        "department_id": (S, 0),
        "accepts_new_patients": (B, 0),
    },
    "patients": {
        "id": (S, 0),
        "mrn": (S, 0),
        "given_name": (S, 0),
        "family_name": (S, 0),
        "preferred_name": (S, 1),
        "birth_date": (DT, 0),
        "sex": (S, 0),
        "email": (S, 1),
        "phone": (S, 0),
        "address": (D, 0),
        "pcp_provider_id": (S, 0),
    },
    "accounts": {
        "id": (S, 0),
        "username": (S, 0),
        "email": (S, 0),
        "display_name": (S, 0),
        "patient_id": (S, 1),
        "password": (S, 0),
        "created_at": (TS, 0),
        "last_login_at": (TS, 1),
    },
    "proxy_grants": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "proxy_account_id": (S, 0),
        "relationship": (S, 0),
        "scopes": (L, 0),
        "status": (S, 0),
        "starts_at": (TS, 0),
        "ends_at": (TS, 1),
    },
    "appointments": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "provider_id": (S, 0),
        "department_id": (S, 0),
        "visit_type": (S, 0),
        "reason": (S, 0),
        "starts_at": (TS, 0),
        "duration_minutes": (INT, 0),
        "status": (S, 0),
        "telehealth": (B, 0),
        "questionnaire_complete": (B, 0),
    },
    "slots": {
        "id": (S, 0),
        "provider_id": (S, 0),
        "department_id": (S, 0),
        "starts_at": (TS, 0),
        "duration_minutes": (INT, 0),
        "visit_types": (L, 0),
    },
    "results": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "ordering_provider_id": (S, 0),
        "name": (S, 0),
        "code": (S, 0),
        "kind": (S, 0),
        "collected_at": (TS, 0),
        "resulted_at": (TS, 0),
        "status": (S, 0),
        "released_at": (TS, 1),
        "provider_comment": (S, 1),
        "report": (S, 1),
        "components": (L, 0),
    },
    "message_threads": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "subject": (S, 0),
        "category": (S, 0),
        "provider_id": (S, 1),
        "care_team": (S, 1),
        "created_at": (TS, 0),
        "last_message_at": (TS, 0),
    },
    "messages": {
        "id": (S, 0),
        "thread_id": (S, 0),
        "sender_kind": (S, 0),
        "sender_id": (S, 1),
        "sender_name": (S, 0),
        "body": (S, 0),
        "sent_at": (TS, 0),
        "read_at": (TS, 1),
    },
    "medications": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "name": (S, 0),
        "dose": (S, 0),
        "route": (S, 0),
        "frequency": (S, 0),
        "status": (S, 0),
        "start_date": (DT, 0),
        "end_date": (DT, 1),
        "prescriber_id": (S, 0),
        "refills_remaining": (INT, 0),
        "pharmacy": (S, 0),
    },
    "allergies": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "substance": (S, 0),
        "category": (S, 0),
        "reaction": (S, 0),
        "severity": (S, 0),
        "recorded_on": (DT, 0),
    },
    "problems": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "name": (S, 0),
        "icd10": (S, 0),
        "onset_date": (DT, 0),
        "status": (S, 0),
    },
    "immunizations": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "vaccine": (S, 0),
        "cvx": (S, 0),
        "administered_on": (DT, 0),
        "dose_number": (INT, 0),
        "lot": (S, 0),
    },
    "statements": {
        "id": (S, 0),
        "guarantor_patient_id": (S, 0),
        "account_number": (S, 0),
        "statement_date": (DT, 0),
        "due_date": (DT, 0),
        "status": (S, 0),
        "line_items": (L, 0),
    },
    "payments": {
        "id": (S, 0),
        "statement_id": (S, 0),
        "amount_cents": (INT, 0),
        "paid_at": (TS, 0),
        "method": (S, 0),
    },
    "clinical_notes": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "appointment_id": (S, 1),
        "author_provider_id": (S, 0),
        "kind": (S, 0),
        "title": (S, 0),
        "text": (S, 0),
        "signed_at": (TS, 0),
        "sensitive_category": (S, 1),
    },
    "health_maintenance_topics": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "topic_id": (S, 0),
        "name": (S, 0),
        "kind": (S, 0),
        "due_on": (DT, 1),
        "last_done_on": (DT, 1),
        "postponed": (B, 0),
        "visit_type": (S, 1),
        "department_id": (S, 1),
    },
    "appointment_requests": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "requested_by_account_id": (S, 0),
        "visit_type": (S, 0),
        "reason": (S, 0),
        "provider_id": (S, 1),
        "department_id": (S, 1),
        "preferred_days": (L, 0),
        "preferred_times": (L, 0),
        "contact_preference": (S, 0),
        "status": (S, 0),
        "appointment_id": (S, 1),
        "decline_reason": (S, 1),
        "created_at": (TS, 0),
        "status_changed_at": (TS, 0),
    },
    "prescription_renewals": {
        "id": (S, 0),
        "patient_id": (S, 0),
        "medication_id": (S, 0),
        "prescriber_id": (S, 0),
        "requested_by_account_id": (S, 0),
        "pharmacy": (S, 1),
        "note": (S, 1),
        "status": (S, 0),
        "denial_reason": (S, 1),
        "created_at": (TS, 0),
        "status_changed_at": (TS, 0),
    },
    "coverages": {
        "id": (S, 0),
        "priority": (INT, 0),
        "member_id": (S, 0),
        "patient_id": (S, 0),
        "subscriber_name": (S, 0),
        "subscriber_relation": (S, 0),
        "effective_from": (DT, 0),
        "effective_to": (DT, 1),
        "group_number": (S, 1),
        "copays": (L, 0),
        "deductible_cents": (INT, 1),
        "deductible_met_cents": (INT, 1),
        "out_of_pocket_max_cents": (INT, 1),
        "out_of_pocket_met_cents": (INT, 1),
        "payer": (S, 0),
        "plan": (S, 0),
    },
    "pronouns": {"id": (S, 0), "patient_id": (S, 0), "pronouns": (S, 0)},
}

COMPONENT_FIELDS: dict[str, FieldSpec] = {
    "loinc": (S, 0),
    "name": (S, 0),
    "value": (NUM, 0),
    "unit": (S, 0),
    "ref_low": (NUM, 1),
    "ref_high": (NUM, 1),
    "flag": (S, 0),
}
LINE_FIELDS: dict[str, FieldSpec] = {
    "id": (S, 0),
    "service_date": (DT, 0),
    "patient_id": (S, 0),
    "description": (S, 0),
    "code": (S, 0),
    "charge_cents": (INT, 0),
    "insurance_paid_cents": (INT, 0),
    "adjustment_cents": (INT, 0),
    "patient_cents": (INT, 0),
}
ADDRESS_FIELDS: dict[str, FieldSpec] = {
    "line1": (S, 0),
    "line2": (S, 1),
    "city": (S, 0),
    "state": (S, 0),
    "postal_code": (S, 0),
}

ENUMS = {
    ("providers", "credentials"): {"MD", "DO", "NP", "PA"},
    ("patients", "sex"): {"female", "male"},
    ("clinical_notes", "kind"): set(clinical_notes.KINDS),
    ("clinical_notes", "sensitive_category"): {"", *clinical_notes.SENSITIVE_CATEGORIES},
    ("health_maintenance_topics", "kind"): set(maintenance.KINDS),
    ("appointment_requests", "status"): set(patient_tasks.REQUEST_STATUSES),
    ("appointment_requests", "contact_preference"): set(patient_tasks.CONTACT_PREFERENCES),
    ("prescription_renewals", "status"): set(patient_tasks.RENEWAL_STATUSES),
    ("coverages", "subscriber_relation"): set(patient_tasks.SUBSCRIBER_RELATIONS),
    ("proxy_grants", "relationship"): set(C.RELATIONSHIPS),
    ("proxy_grants", "status"): set(C.GRANT_STATUSES),
    ("appointments", "status"): set(C.APPOINTMENT_STATUSES),
    ("results", "kind"): {"lab", "imaging"},
    ("results", "status"): set(C.RESULT_STATUSES),
    ("message_threads", "category"): set(C.THREAD_CATEGORIES),
    ("messages", "sender_kind"): {"patient", "provider"},
    ("medications", "status"): {"active", "discontinued"},
    ("allergies", "category"): {"medication", "food", "environment"},
    ("allergies", "severity"): {"mild", "moderate", "severe"},
    ("problems", "status"): {"active", "resolved"},
    ("statements", "status"): {"open", "paid"},
    ("payments", "method"): set(C.PAYMENT_METHODS),
}

# kind -> field -> referenced kind
REFS = {
    "providers": {"department_id": "departments"},
    "patients": {"pcp_provider_id": "providers"},
    "accounts": {"patient_id": "patients"},
    "proxy_grants": {"patient_id": "patients", "proxy_account_id": "accounts"},
    "appointments": {
        "patient_id": "patients",
        "provider_id": "providers",
        "department_id": "departments",
    },
    "slots": {"provider_id": "providers", "department_id": "departments"},
    "results": {"patient_id": "patients", "ordering_provider_id": "providers"},
    "message_threads": {"patient_id": "patients", "provider_id": "providers"},
    "messages": {"thread_id": "message_threads"},
    "medications": {"patient_id": "patients", "prescriber_id": "providers"},
    "allergies": {"patient_id": "patients"},
    "problems": {"patient_id": "patients"},
    "clinical_notes": {
        "patient_id": "patients",
        "appointment_id": "appointments",
        "author_provider_id": "providers",
    },
    "immunizations": {"patient_id": "patients"},
    "health_maintenance_topics": {"patient_id": "patients"},
    "appointment_requests": {
        "patient_id": "patients",
        "requested_by_account_id": "accounts",
        "provider_id": "providers",
        "department_id": "departments",
        "appointment_id": "appointments",
    },
    "prescription_renewals": {
        "patient_id": "patients",
        "medication_id": "medications",
        "prescriber_id": "providers",
        "requested_by_account_id": "accounts",
    },
    "coverages": {"patient_id": "patients"},
    "pronouns": {"patient_id": "patients"},
    "statements": {"guarantor_patient_id": "patients"},
    "payments": {"statement_id": "statements"},
}

MAX_PROBLEMS = 50


def _type_ok(value: object, spec: FieldSpec) -> bool:
    kind, nullable = spec
    if value is None:
        return bool(nullable)
    if kind == TS:
        return isinstance(value, str) and bool(_TS.match(value))
    if kind == DT:
        if not (isinstance(value, str) and _DATE.match(value)):
            return False
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(kind, str):
        raise TypeError(f"unknown field kind {kind!r}")
    return isinstance(value, kind)


def _fields(where: str, record: Record, schema: dict[str, FieldSpec], problems: list[str]) -> None:
    if set(record) != set(schema):
        missing = sorted(set(schema) - set(record))
        extra = sorted(set(record) - set(schema))
        problems.append(f"{where}: fields differ (missing {missing}, unexpected {extra})")
        return
    for name, spec in schema.items():
        if not _type_ok(record[name], spec):
            problems.append(f"{where}: field {name!r} has bad value {record[name]!r}")


def load_dataset(path: str) -> tuple[dict[str, Any], dict[str, list[Record]]]:
    """Return ``(manifest, {kind: [records...]})`` for a dataset directory."""
    with open(os.path.join(path, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    data: dict[str, list[Record]] = {}
    for kind in KINDS:
        file = os.path.join(path, f"{kind}.jsonl")
        if kind in OPTIONAL_KINDS and not os.path.exists(file):
            data[kind] = []  # written before this kind existed
            continue
        with open(file, encoding="utf-8") as fh:
            data[kind] = [json.loads(line) for line in fh if line.strip()]
    return manifest, data


def check_dataset(path: str) -> list[str]:
    """Validate the dataset in ``path``; return a list of problems (empty if none)."""
    problems: list[str] = []

    def bad(msg: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(msg)
        elif len(problems) == MAX_PROBLEMS:
            problems.append("... more problems not shown")

    try:
        manifest, data = load_dataset(path)
    except (OSError, ValueError) as exc:
        return [f"cannot read dataset: {exc}"]
    now = manifest.get("now")
    if not isinstance(now, str) or not _TS.match(now):
        return [f"manifest.json: bad 'now' {now!r}"]
    today = now[:10]

    for kind in KINDS:
        expected = manifest.get("files", {}).get(kind, {}).get("records")
        if expected is None and kind in OPTIONAL_KINDS and not data[kind]:
            continue
        if expected != len(data[kind]):
            bad(f"{kind}: manifest says {expected} records, file has {len(data[kind])}")

    # Shape, ids, enums
    ids: dict[str, dict[str, Record]] = {}
    for kind in KINDS:
        index: dict[str, Record] = {}
        schema = SCHEMA[kind]
        prefix = ID_PREFIX[kind] + "-"
        for n, rec in enumerate(data[kind], start=1):
            where = f"{kind}.jsonl:{n}"
            _fields(where, rec, schema, problems)
            rid = rec.get("id")
            if not isinstance(rid, str) or not rid.startswith(prefix):
                bad(f"{where}: id {rid!r} lacks prefix {prefix!r}")
            elif rid in index:
                bad(f"{where}: duplicate id {rid}")
            if isinstance(rid, str):  # a non-string id is reported above and cannot be referenced
                index[rid] = rec
            for (k, fname), allowed in ENUMS.items():
                if k == kind and (rec.get(fname) or "") not in allowed:
                    bad(f"{where}: {fname}={rec.get(fname)!r} not in {sorted(allowed)}")
        ids[kind] = index
    if len(problems) >= MAX_PROBLEMS:
        return problems

    # References
    for kind, refs in REFS.items():
        for rec in data[kind]:
            for fname, target in refs.items():
                value = rec.get(fname)
                if value is not None and value not in ids[target]:
                    bad(f"{kind} {rec['id']}: {fname} -> missing {target} {value}")

    for note in data["clinical_notes"]:
        visit = ids["appointments"].get(note.get("appointment_id") or "")
        if visit is not None and visit["patient_id"] != note["patient_id"]:
            bad(f"clinical_note {note['id']}: appointment of another patient")
        if isinstance(note.get("signed_at"), str) and note["signed_at"] > now:
            bad(f"clinical_note {note['id']}: signed in the future")

    _tasks(data, ids, now, bad)

    for kind in ("departments", "patients"):
        for rec in data[kind]:
            _fields(f"{kind} {rec['id']} address", rec["address"], ADDRESS_FIELDS, problems)

    # Accounts
    for field_name in ("username", "email"):
        dup = [v for v, c in Counter(a[field_name] for a in data["accounts"]).items() if c > 1]
        if dup:
            bad(f"accounts: duplicate {field_name}s {dup[:5]}")
    own_account = Counter(a["patient_id"] for a in data["accounts"] if a["patient_id"])
    for pid, c in own_account.items():
        if c > 1:
            bad(f"patient {pid} has {c} accounts")

    # Proxy grants
    effective: Counter[tuple[str, str]] = Counter()
    patients = ids["patients"]
    accounts = ids["accounts"]
    for g in data["proxy_grants"]:
        if (
            any(s not in C.GRANTABLE_SCOPES for s in g["scopes"])
            or len(set(g["scopes"])) != len(g["scopes"])
            or not g["scopes"]
        ):
            bad(f"proxy_grant {g['id']}: bad scopes {g['scopes']}")
        if g["ends_at"] is not None and g["ends_at"] <= g["starts_at"]:
            bad(f"proxy_grant {g['id']}: ends_at before starts_at")
        acct = accounts.get(g["proxy_account_id"])
        if acct and acct["patient_id"] == g["patient_id"]:
            bad(f"proxy_grant {g['id']}: proxy to own record")
        is_effective = (
            g["status"] == "active"
            and g["starts_at"] <= now
            and (g["ends_at"] is None or g["ends_at"] > now)
        )
        p = patients.get(g["patient_id"])
        if p and g["ends_at"] and g["relationship"] in ("parent", "guardian"):
            # A grant for a minor ends at the start of a birthday in the system's zone.
            ends = _instant(g["ends_at"]).astimezone(LOCAL_ZONE)
            if (ends.hour, ends.minute) != (0, 0):
                bad(f"proxy_grant {g['id']}: ends_at is not a local midnight")
        if is_effective:
            effective[(g["proxy_account_id"], g["patient_id"])] += 1
            p = patients.get(g["patient_id"])
            if p and g["relationship"] in ("parent", "guardian"):
                birth = date.fromisoformat(p["birth_date"])
                age = _age(birth, date.fromisoformat(today))
                if 12 <= age < 18 and ({"results", "messages"} & set(g["scopes"])):
                    bad(
                        f"proxy_grant {g['id']}: adolescent {p['id']} exposes results/messages to a parent"
                    )
                if age >= 18:
                    bad(
                        f"proxy_grant {g['id']}: parent/guardian grant still effective for adult {p['id']}"
                    )
    for key, c in effective.items():
        if c > 1:
            bad(f"{c} effective grants for proxy {key[0]} -> patient {key[1]}")

    # Appointments
    for a in data["appointments"]:
        future = a["starts_at"] > now
        if future and a["status"] in ("completed", "no_show"):
            bad(f"appointment {a['id']}: {a['status']} in the future")
        if not future and a["status"] in ("scheduled", "confirmed", "checked_in"):
            bad(f"appointment {a['id']}: {a['status']} in the past")
        if a["duration_minutes"] <= 0:
            bad(f"appointment {a['id']}: duration {a['duration_minutes']}")
        prov = ids["providers"].get(a["provider_id"])
        if prov and prov["department_id"] != a["department_id"]:
            bad(f"appointment {a['id']}: department differs from the provider's")
    for s in data["slots"]:
        if s["starts_at"] <= now:
            bad(f"slot {s['id']}: starts in the past")
        if not s["visit_types"]:
            bad(f"slot {s['id']}: no visit types")

    # Results
    for r in data["results"]:
        if not (r["collected_at"] <= r["resulted_at"] <= now):
            bad(f"result {r['id']}: collected/resulted times out of order")
        if r["released_at"] is not None and not (r["resulted_at"] <= r["released_at"] <= now):
            bad(f"result {r['id']}: released_at out of range")
        if r["kind"] == "imaging":
            if not r["report"] or r["components"]:
                bad(f"result {r['id']}: imaging needs a report and no components")
        else:
            if r["report"] is not None or not r["components"]:
                bad(f"result {r['id']}: lab needs components and no report")
        for comp in r["components"]:
            _fields(f"result {r['id']} component", comp, COMPONENT_FIELDS, problems)
            v, lo, hi = comp.get("value"), comp.get("ref_low"), comp.get("ref_high")
            if not isinstance(v, (int, float)):
                continue
            want = (
                "H" if hi is not None and v > hi else "L" if lo is not None and v < lo else "normal"
            )
            if comp.get("flag") != want:
                bad(
                    f"result {r['id']}: component {comp.get('loinc')} flag {comp.get('flag')} should be {want}"
                )

    # Messages
    last_sent: dict[str, str] = {}
    for m in data["messages"]:
        if m["read_at"] is not None and m["read_at"] < m["sent_at"]:
            bad(f"message {m['id']}: read before sent")
        if m["sent_at"] > now:
            bad(f"message {m['id']}: sent in the future")
        if m["sender_kind"] == "patient" and m["sender_id"] not in accounts:
            bad(f"message {m['id']}: patient-side sender {m['sender_id']} is not an account")
        if (
            m["sender_kind"] == "provider"
            and m["sender_id"] is not None
            and m["sender_id"] not in ids["providers"]
        ):
            bad(f"message {m['id']}: provider sender {m['sender_id']} is not a provider")
        t = m["thread_id"]
        if t not in last_sent or m["sent_at"] > last_sent[t]:
            last_sent[t] = m["sent_at"]
    for t in data["message_threads"]:
        if t["provider_id"] is None and t["care_team"] is None:
            bad(f"thread {t['id']}: neither provider nor care team")
        if last_sent.get(t["id"]) != t["last_message_at"]:
            bad(f"thread {t['id']}: last_message_at does not match its messages")

    # Money
    paid: defaultdict[str, int] = defaultdict(int)
    for p in data["payments"]:
        if p["amount_cents"] <= 0:
            bad(f"payment {p['id']}: non-positive amount")
        paid[p["statement_id"]] += p["amount_cents"]
        st = ids["statements"].get(p["statement_id"])
        if st and p["paid_at"][:10] < st["statement_date"]:
            bad(f"payment {p['id']}: paid before the statement date")
    for st in data["statements"]:
        total = 0
        if not st["line_items"]:
            bad(f"statement {st['id']}: no line items")
        if st["due_date"] <= st["statement_date"] or st["statement_date"] > today:
            bad(f"statement {st['id']}: bad dates")
        for li in st["line_items"]:
            _fields(f"statement {st['id']} line", li, LINE_FIELDS, problems)
            try:
                parts = (li["insurance_paid_cents"], li["adjustment_cents"], li["patient_cents"])
                if li["charge_cents"] != sum(parts) or min(parts) < 0:
                    bad(f"statement {st['id']}: line {li['id']} does not add up")
                total += li["patient_cents"]
            except (KeyError, TypeError):
                continue
            if li.get("patient_id") not in patients:
                bad(
                    f"statement {st['id']}: line {li.get('id')} patient {li.get('patient_id')} missing"
                )
        if paid[st["id"]] > total:
            bad(f"statement {st['id']}: payments exceed total")
        want = "paid" if paid[st["id"]] >= total else "open"
        if st["status"] != want:
            bad(f"statement {st['id']}: status {st['status']} should be {want}")

    return problems


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def summarize(path: str) -> dict[str, int]:
    """Counts of interesting cases, for the CLI's report."""
    manifest, data = load_dataset(path)
    now = manifest["now"]
    grants = data["proxy_grants"]
    eff = [
        g
        for g in grants
        if g["status"] == "active"
        and g["starts_at"] <= now
        and (g["ends_at"] is None or g["ends_at"] > now)
    ]
    return {
        "effective_grants": len(eff),
        "expired_grants": sum(
            1 for g in grants if g["status"] == "active" and g["ends_at"] and g["ends_at"] <= now
        ),
        "revoked_grants": sum(1 for g in grants if g["status"] == "revoked"),
        "pending_grants": sum(1 for g in grants if g["status"] == "pending"),
        "upcoming_appointments": sum(
            1 for a in data["appointments"] if a["starts_at"] > now and a["status"] != "cancelled"
        ),
        "unreleased_results": sum(1 for r in data["results"] if r["released_at"] is None),
        "open_statements": sum(1 for s in data["statements"] if s["status"] == "open"),
        "proxy_only_accounts": sum(1 for a in data["accounts"] if a["patient_id"] is None),
    }


def _tasks(
    data: dict[str, list[Record]],
    ids: dict[str, dict[str, Record]],
    now: str,
    bad: Callable[[str], None],
) -> None:
    """The rules the application keeps for the format-3 kinds."""
    topics = Counter((t["patient_id"], t["topic_id"]) for t in data["health_maintenance_topics"])
    for (patient_id, topic_id), n in topics.items():
        if n > 1:
            bad(f"health_maintenance_topics: {patient_id} has topic {topic_id} {n} times")
    open_requests: Counter[tuple[str, str]] = Counter()
    for r in data["appointment_requests"]:
        visit = ids["appointments"].get(r.get("appointment_id") or "")
        if (r["status"] == "scheduled") != (visit is not None):
            bad(f"appointment_request {r['id']}: an appointment exactly when scheduled")
        if visit is not None and visit["patient_id"] != r["patient_id"]:
            bad(f"appointment_request {r['id']}: appointment of another patient")
        if r["status"] == "requested":
            open_requests[(r["patient_id"], r["visit_type"])] += 1
        if not r["created_at"] <= r["status_changed_at"] <= now:
            bad(f"appointment_request {r['id']}: times out of order")
    for key, n in open_requests.items():
        if n > 1:
            bad(f"appointment_requests: {n} open requests for {key}")
    open_renewals = Counter(
        r["medication_id"] for r in data["prescription_renewals"] if r["status"] == "requested"
    )
    for r in data["prescription_renewals"]:
        med = ids["medications"].get(r["medication_id"])
        if med is not None and med["patient_id"] != r["patient_id"]:
            bad(f"prescription_renewal {r['id']}: medication of another patient")
        if open_renewals[r["medication_id"]] > 1:
            bad(f"prescription_renewal {r['id']}: a second open renewal of its medication")
    patients = Counter(p["patient_id"] for p in data["pronouns"])
    if any(n > 1 for n in patients.values()):
        bad("pronouns: a patient listed twice")
