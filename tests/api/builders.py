"""Build patients with exactly N items per list, straight into the database (test data)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert

from persistence import models as m
from tests.conftest import NOW, Portal


async def add_patient_with_lists(portal: Portal, key: str, n: int) -> tuple[str, str]:
    """A patient with an account and `n` of each list item; returns (patient id, account id)."""
    patient_id, account_id = f"pat-{key}", f"acc-{key}"
    providers = [f"prv-{i:05d}" for i in range(1, 6)]
    rows: list[tuple[type[m.Base], list[dict[str, Any]]]] = [
        (
            m.Patient,
            [
                {
                    "id": patient_id,
                    "mrn": f"T{key}",
                    "given_name": "Test",
                    "family_name": key.title(),
                    "preferred_name": None,
                    "birth_date": date(1980, 5, 17),
                    "sex": "female",
                    "email": f"{key}@example.org",
                    "phone": None,
                    "address": None,
                    "pcp_provider_id": providers[0],
                }
            ],
        ),
        (
            m.Account,
            [
                {
                    "id": account_id,
                    "username": f"user.{key}",
                    "email": f"{key}@example.org",
                    "display_name": f"Test {key}",
                    "patient_id": patient_id,
                    "password_hash": "x",
                    "created_at": NOW,
                    "last_login_at": None,
                    "failed_sign_ins": 0,
                    "locked_until": None,
                }
            ],
        ),
        (
            m.Appointment,
            [
                {
                    "id": f"apt-{key}-{i}",
                    "patient_id": patient_id,
                    "provider_id": providers[i % 5],
                    "department_id": f"dep-{(i % 5) + 1:03d}",
                    "visit_type": "Office Visit",
                    "reason": None,
                    "starts_at": NOW + timedelta(days=i + 2),
                    "duration_minutes": 30,
                    "status": "scheduled",
                    "telehealth": False,
                    "questionnaire_complete": False,
                }
                for i in range(n)
            ],
        ),
        (
            m.Result,
            [
                {
                    "id": f"res-{key}-{i}",
                    "patient_id": patient_id,
                    "ordering_provider_id": providers[0],
                    "name": "Lipid Panel",
                    "code": "24331-1",
                    "kind": "lab",
                    "collected_at": NOW - timedelta(days=i + 2),
                    "resulted_at": NOW - timedelta(days=i + 1),
                    "status": "final",
                    "released_at": NOW - timedelta(days=i),
                    "provider_comment": None,
                    "report": None,
                }
                for i in range(n)
            ],
        ),
        (
            m.ResultComponent,
            [
                {
                    "result_id": f"res-{key}-{i}",
                    "patient_id": patient_id,
                    "position": j,
                    "loinc": code,
                    "name": code,
                    "value": 100.0 + i,
                    "value_text": None,
                    "unit": "mg/dL",
                    "ref_low": None,
                    "ref_high": 199.0,
                }
                for i in range(n)
                for j, code in enumerate(("2093-3", "2571-8"))
            ],
        ),
        (
            m.MessageThread,
            [
                {
                    "id": f"thr-{key}-{i}",
                    "patient_id": patient_id,
                    "subject": f"Question {i}",
                    "category": "medical_question",
                    "provider_id": providers[0],
                    "care_team": None,
                    "created_at": NOW - timedelta(days=i + 1),
                    "last_message_at": NOW - timedelta(days=i),
                }
                for i in range(n)
            ],
        ),
        (
            m.Message,
            [
                {
                    "id": f"msg-{key}-{i}-{j}",
                    "thread_id": f"thr-{key}-{i}",
                    "sender_kind": "provider" if j else "patient",
                    "sender_id": None,
                    "sender_name": "Someone",
                    "body": f"Body {i}.{j}",
                    "sent_at": NOW - timedelta(days=i + 1) + timedelta(hours=j),
                }
                for i in range(n)
                for j in range(2)
            ],
        ),
        (
            m.Statement,
            [
                {
                    "id": f"stm-{key}-{i}",
                    "guarantor_patient_id": patient_id,
                    "account_number": f"9{i:07d}",
                    "statement_date": date(2026, 10, 1) - timedelta(days=i),
                    "due_date": date(2026, 12, 1),
                    "status": "open",
                    "currency": "USD",
                }
                for i in range(n)
            ],
        ),
        (
            m.StatementLineItem,
            [
                {
                    "id": f"sli-{key}-{i}-{j}",
                    "statement_id": f"stm-{key}-{i}",
                    "service_date": date(2026, 9, 1),
                    "patient_id": patient_id,
                    "description": "Office visit",
                    "code": "99213",
                    "charge_cents": 20000,
                    "insurance_paid_cents": 12000,
                    "adjustment_cents": 3000,
                    "patient_cents": 5000,
                }
                for i in range(n)
                for j in range(2)
            ],
        ),
    ]
    async with portal.services.session() as session, session.begin():
        for model, values in rows:
            if values:
                await session.execute(insert(model), values)
    return patient_id, account_id
