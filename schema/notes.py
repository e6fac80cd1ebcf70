"""Clinical notes and after-visit summaries, and the patient's privacy choices about them.

A proxy's lists hold only the notes the policy lets it read (domain/access.py): sensitive
categories the patient has not opened to it and notes the patient hid are left out, and
its `PatientContext.sensitiveCategories` / `notesHiddenByPatient` say so and why. Reached
by id, such a note answers FORBIDDEN with its reason (SENSITIVE_CATEGORY, HIDDEN_BY_PATIENT).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import PatientGrant
from domain.notes import NoteKind, NoteStatus, WithholdingException
from domain.scopes import AccessReason, SensitiveCategory
from resolvers import notes as r
from schema.base import Connection, Info, Node, cursor_values, page_size, to_global_id
from schema.people import Provider

if TYPE_CHECKING:
    from persistence import models as m
    from schema.appointments import Appointment
    from schema.patients import Patient

NoteKindEnum = strawberry.enum(NoteKind, name="NoteKind")
NoteStatusEnum = strawberry.enum(NoteStatus, name="NoteStatus")
WithholdingExceptionEnum = strawberry.enum(WithholdingException, name="WithholdingException")
SensitiveCategoryEnum = strawberry.enum(SensitiveCategory, name="SensitiveCategory")


@strawberry.type(description="Why the provider withheld a signed note from the patient.")
class NoteWithholding:
    exception: WithholdingException = strawberry.field(
        description="The named exception the provider applied."
    )
    reason: str | None = strawberry.field(description="The provider's words, if given.")


@strawberry.type
class ClinicalNote(Node):
    kind: NoteKind
    title: str
    signed_at: datetime
    author_name: str
    status: NoteStatus = strawberry.field(
        description="SUPERSEDED: an amendment replaced it (see supersededBy); still readable."
    )
    sensitive_category: SensitiveCategory | None = strawberry.field(
        description="Set for behavioral health, substance use, reproductive/sexual health and "
        "what the EHR marks sensitive: withheld from proxies unless the patient opens it."
    )
    hidden_from_proxies: bool = strawberry.field(
        description="The patient hid this note from every proxy (setNoteHiddenFromProxies)."
    )
    withheld: NoteWithholding | None = strawberry.field(
        description="Set when the provider withheld the note: it exists, its text is not shown."
    )
    internal_id: strawberry.Private[str]
    patient_id: strawberry.Private[str]
    author_provider_id: strawberry.Private[str | None]
    appointment_id: strawberry.Private[str | None]
    supersedes_id: strawberry.Private[str | None]
    superseded_by_id: strawberry.Private[str | None]
    grant: strawberry.Private[PatientGrant]
    text_value: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @strawberry.field(description="Null with FORBIDDEN (WITHHELD_BY_PROVIDER) when withheld.")
    def text(self) -> str | None:
        return r.text_shown(self.withheld is not None, self.text_value)

    @strawberry.field
    async def author(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.author_provider_id)

    @strawberry.field(
        description="The visit it documents; needs the APPOINTMENTS area too (else FORBIDDEN)."
    )
    async def appointment(
        self, info: Info
    ) -> Annotated[Appointment, strawberry.lazy("schema.appointments")] | None:
        from schema.appointments import Appointment

        row, grant = await r.note_appointment(info.context, self.patient_id, self.appointment_id)
        return Appointment.from_row(row, grant, info) if row is not None and grant else None

    @strawberry.field(description="The earlier version this one amends.")
    async def supersedes(self, info: Info) -> ClinicalNote | None:
        row = await r.version(info.context, self.grant, self.supersedes_id)
        return ClinicalNote.from_row(row, self.grant) if row is not None else None

    @strawberry.field(description="The amendment that replaced this version.")
    async def superseded_by(self, info: Info) -> ClinicalNote | None:
        row = await r.version(info.context, self.grant, self.superseded_by_id)
        return ClinicalNote.from_row(row, self.grant) if row is not None else None

    @strawberry.field(
        description="An after-visit summary as a printable PDF (GET with the same bearer "
        "token); null for other kinds of note."
    )
    def pdf_url(self) -> str | None:
        if self.kind is not NoteKind.AFTER_VISIT_SUMMARY:
            return None
        return f"/notes/{to_global_id('ClinicalNote', self.internal_id)}.pdf"

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> ClinicalNote | None:
        row, grant = await r.note(info.context, row_id)
        return cls.from_row(row, grant) if row is not None else None

    @classmethod
    def from_row(cls, row: m.ClinicalNote, grant: PatientGrant) -> ClinicalNote:
        withheld = None
        if row.withheld_exception is not None:
            withheld = NoteWithholding(
                exception=WithholdingException(row.withheld_exception), reason=row.withheld_reason
            )
        return cls(
            internal_id=row.id,
            patient_id=row.patient_id,
            author_provider_id=row.author_provider_id,
            appointment_id=row.appointment_id,
            supersedes_id=row.supersedes_id,
            superseded_by_id=row.superseded_by_id,
            grant=grant,
            text_value=row.text,
            kind=NoteKind(row.kind),
            title=row.title,
            signed_at=row.signed_at,
            author_name=row.author_name,
            status=NoteStatus.SUPERSEDED if row.superseded_by_id else NoteStatus.CURRENT,
            sensitive_category=SensitiveCategory(row.sensitive_category)
            if row.sensitive_category
            else None,
            hidden_from_proxies=row.hidden_from_proxies,
            withheld=withheld,
        )


@strawberry.type(description="Whether a sensitive category of notes is open in a context.")
class SensitiveCategoryAccess:
    category: SensitiveCategory
    allowed: bool
    reason: AccessReason | None


# -- real time ------------------------------------------------------------------------
@strawberry.type(description="A clinical note signed (or amended) in the patient's record.")
class NoteEvent:
    seq: strawberry.ID
    patient_id: strawberry.Private[str]
    note: ClinicalNote

    @strawberry.field(description="The patient it is about.")
    async def patient(self, info: Info) -> Annotated[Patient, strawberry.lazy("schema.patients")]:
        from schema.patients import Patient

        return await Patient.of(info, self.patient_id)


async def patient_notes(
    info: Info, grant: PatientGrant, kind: NoteKind | None, first: int | None, after: str | None
) -> Connection[ClinicalNote]:
    """Patient.clinicalNotes: what this viewer may read, newest first."""
    size, after_values = page_size(first), cursor_values(after, [datetime, str])
    found = await r.patient_notes(info.context, grant, kind, size, after_values)
    return Connection.of(found, lambda row: ClinicalNote.from_row(row, grant))


async def after_visit_summary(
    info: Info, grant: PatientGrant, appointment_id: str
) -> ClinicalNote | None:
    """Appointment.afterVisitSummary: FORBIDDEN with the reason when withheld."""
    row = await r.after_visit_summary(info.context, grant, appointment_id)
    return ClinicalNote.from_row(row, grant) if row is not None else None
