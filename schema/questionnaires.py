"""Pre-visit questionnaires and consent forms, as an appointment serves them (rules:
domain/questionnaires.py; the mutations that answer and sign them:
schema/mutations/questionnaires.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.questionnaires import FormKind, FormState, FormStatus, ItemType
from domain.scopes import Relationship

FormKindEnum = strawberry.enum(FormKind, name="FormKind")
FormStatusEnum = strawberry.enum(FormStatus, name="FormStatus")
ItemTypeEnum = strawberry.enum(ItemType, name="FormItemType")


@strawberry.type
class FormOption:
    value: str
    label: str


@strawberry.type(description="Ask this item only when `question` was answered `answer`.")
class FormEnableWhen:
    question: str
    answer: str


@strawberry.type
class FormItem:
    link_id: str
    type: ItemType
    text: str
    required: bool
    options: list[FormOption]
    minimum: float | None
    maximum: float | None
    enable_when: FormEnableWhen | None


@strawberry.type
class FormAnswer:
    link_id: str
    value: str


@strawberry.type(description="A questionnaire or consent an appointment asks for.")
class AppointmentForm:
    form_id: str
    version: int
    kind: FormKind
    title: str
    required: bool = strawberry.field(description="Check-in waits until it is DONE.")
    status: FormStatus
    items: list[FormItem]
    consent_text: str | None
    consent_text_sha256: str | None = strawberry.field(
        description="SHA-256 of the consent text of this version: what a signature binds to."
    )
    answers: list[FormAnswer]
    submitted_at: datetime | None
    signed_name: str | None = strawberry.field(description="The full name typed to sign.")
    signed_as: Relationship | None = strawberry.field(
        description="Who answered or signed: SELF or the proxy's relationship."
    )

    @classmethod
    def of(cls, state: FormState) -> AppointmentForm:
        form = state.form
        return cls(
            form_id=form.id,
            version=form.version,
            kind=form.kind,
            title=form.title,
            required=form.required,
            status=state.status,
            items=[
                FormItem(
                    link_id=i.link_id,
                    type=i.type,
                    text=i.text,
                    required=i.required,
                    options=[FormOption(value=o.value, label=o.label) for o in i.options],
                    minimum=i.minimum,
                    maximum=i.maximum,
                    enable_when=None
                    if i.enable_when is None
                    else FormEnableWhen(
                        question=i.enable_when.question, answer=i.enable_when.answer
                    ),
                )
                for i in form.items
            ],
            consent_text=form.consent_text,
            consent_text_sha256=form.text_sha256 if form.kind is FormKind.CONSENT else None,
            answers=[FormAnswer(link_id=k, value=v) for k, v in state.answers.items()],
            submitted_at=state.submitted_at,
            signed_name=state.signed_name,
            signed_as=Relationship(state.acting_as) if state.acting_as else None,
        )
