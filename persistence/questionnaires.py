"""Questionnaire and consent definitions (versioned rows) and the responses to them.

Definitions are stored as JSON items and read back into domain `Form`s. A response is
written with conditional statements that say what they expect (still a draft), so a
submitted questionnaire or a signed consent never changes, even under concurrent requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import PatientGrant
from domain.questionnaires import (
    EnableWhen,
    Form,
    FormKind,
    FormState,
    FormStatus,
    Item,
    ItemType,
    Option,
)
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.guard import patient_ids

DRAFT, DONE = "draft", "done"


def item_json(item: Item) -> dict[str, Any]:
    return {
        "linkId": item.link_id,
        "type": item.type.value,
        "text": item.text,
        "required": item.required,
        "options": [{"value": o.value, "label": o.label} for o in item.options],
        "minimum": item.minimum,
        "maximum": item.maximum,
        "enableWhen": None
        if item.enable_when is None
        else {"question": item.enable_when.question, "answer": item.enable_when.answer},
    }


def _item(raw: dict[str, Any]) -> Item:
    when = raw.get("enableWhen")
    return Item(
        link_id=raw["linkId"],
        type=ItemType(raw["type"]),
        text=raw["text"],
        required=bool(raw.get("required")),
        options=tuple(Option(o["value"], o["label"]) for o in raw.get("options") or ()),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        enable_when=None if not when else EnableWhen(when["question"], when["answer"]),
    )


def form_of(row: m.QuestionnaireForm) -> Form:
    return Form(
        id=row.id,
        version=row.version,
        kind=FormKind(row.kind),
        title=row.title,
        required=row.required,
        items=tuple(_item(i) for i in row.items),
        consent_text=row.consent_text,
    )


@dataclass(frozen=True)
class Target:
    """Which visits a form is asked for (None: any)."""

    visit_type: str | None = None
    department_id: str | None = None

    def covers(self, visit_type: str, department_id: str) -> bool:
        return self.visit_type in (None, visit_type) and self.department_id in (
            None,
            department_id,
        )


async def publish(session: AsyncSession, form: Form, target: Target, now: datetime) -> None:
    """Add a version of a form (a new version replaces the previous one for new answers)."""
    session.add(
        m.QuestionnaireForm(
            id=form.id,
            version=form.version,
            kind=form.kind.value,
            title=form.title,
            visit_type=target.visit_type,
            department_id=target.department_id,
            required=form.required,
            items=[item_json(i) for i in form.items],
            consent_text=form.consent_text,
            published_at=now,
        )
    )
    await session.flush()


# -- reads -------------------------------------------------------------------------------
_F = m.QuestionnaireForm
_LATEST = select(_F.id, func.max(_F.version).label("version")).group_by(_F.id).subquery()
LATEST_FORMS = (
    select(_F)
    .join(_LATEST, (_LATEST.c.id == _F.id) & (_LATEST.c.version == _F.version))
    .order_by(_F.id)
)


async def latest_forms(session: AsyncSession) -> list[tuple[Form, Target]]:
    rows = (await session.scalars(LATEST_FORMS)).all()
    return [(form_of(r), Target(r.visit_type, r.department_id)) for r in rows]


async def versions(
    session: AsyncSession, keys: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], Form]:
    """The exact versions responses were given to."""
    if not keys:
        return {}
    rows = (await session.scalars(select(_F).where(_F.id.in_({k for k, _ in keys})))).all()
    return {(r.id, r.version): form_of(r) for r in rows if (r.id, r.version) in set(keys)}


async def responses(
    session: AsyncSession, grants: Sequence[PatientGrant], appointment_ids: Sequence[str]
) -> list[m.FormResponse]:
    r = m.FormResponse
    stmt = select(r).where(
        r.appointment_id.in_(list(appointment_ids)),
        r.patient_id.in_(patient_ids(grants, RecordArea.APPOINTMENTS)),
    )
    return list((await session.scalars(stmt)).all())


def states(
    forms: Sequence[tuple[Form, Target]],
    visit_type: str,
    department_id: str,
    answered: Sequence[m.FormResponse],
    answered_versions: dict[tuple[str, int], Form],
) -> list[FormState]:
    """The forms an appointment asks for and where each stands. A response keeps the
    version it was given to; a form not started is offered in its latest version."""
    by_form = {row.form_id: row for row in answered}
    found = []
    for form, target in forms:
        row = by_form.get(form.id)
        if row is None:
            if target.covers(visit_type, department_id):
                found.append(FormState(form, FormStatus.DUE))
            continue
        given = answered_versions.get((row.form_id, row.form_version), form)
        status = FormStatus.DONE if row.status == DONE else FormStatus.DRAFT
        found.append(
            FormState(
                given,
                status,
                dict(row.answers),
                row.submitted_at,
                row.signed_name,
                row.acting_as,
            )
        )
    return found


# -- writes ------------------------------------------------------------------------------
class QuestionnaireRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def appointment(self, appointment_id: str) -> m.Appointment | None:
        return await self._session.get(m.Appointment, appointment_id)

    async def form_states(self, grant: PatientGrant, appt: m.Appointment) -> list[FormState]:
        forms = await latest_forms(self._session)
        answered = await responses(self._session, [grant], [appt.id])
        given = await versions(self._session, [(r.form_id, r.form_version) for r in answered])
        return states(forms, appt.visit_type, appt.department_id, answered, given)

    async def response(self, appointment_id: str, form_id: str) -> m.FormResponse | None:
        r = m.FormResponse
        stmt = select(r).where(r.appointment_id == appointment_id, r.form_id == form_id)
        return await self._session.scalar(stmt)

    async def save(
        self,
        *,
        grant: PatientGrant,
        appointment_id: str,
        form: Form,
        answers: dict[str, str],
        done: bool,
        signature: tuple[str, str] | None,
        now: datetime,
    ) -> bool:
        """Insert or update the response while it is a draft; False if it was done already."""
        values: dict[str, Any] = {
            "answers": answers,
            "status": DONE if done else DRAFT,
            "account_id": grant.account_id,
            "acting_as": grant.relationship.value,
            "updated_at": now,
            "submitted_at": now if done else None,
            "signed_name": signature[0] if signature else None,
            "text_sha256": signature[1] if signature else None,
            "form_version": form.version,
        }
        existing = await self.response(appointment_id, form.id)
        if existing is None:
            self._session.add(
                m.FormResponse(
                    id=m.new_id("frs"),
                    appointment_id=appointment_id,
                    patient_id=grant.patient_id,
                    form_id=form.id,
                    **values,
                )
            )
            await self._session.flush()
            return True
        r = m.FormResponse
        result = await self._session.execute(
            update(r)
            .where(r.id == existing.id, r.status == DRAFT)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], result).rowcount == 1
