"""Clinical notes: the patient's list, one note (by id, by appointment, by version), the
patient's privacy choices (writes: usecases/notes.py; self only, `Context.act_for_self`,
audited). Whether one note may be read by this viewer is `domain.access.note_withheld`;
lists apply the same rule in SQL (`note_filter`). Reads return rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.access import AccessDenied, PatientGrant, note_filter, note_withheld
from domain.errors import BrokenInvariant
from domain.notes import NoteKind
from domain.paging import Page, PageOf
from domain.scopes import AccessReason, RecordArea, SensitiveCategory
from persistence import models as m
from persistence.uow import UnitOfWork
from resolvers.owned import owned_row
from usecases import notes as usecases

if TYPE_CHECKING:
    from runtime.context import Context

AREA = RecordArea.CLINICAL_NOTES


def readable(row: m.ClinicalNote, grant: PatientGrant) -> m.ClinicalNote:
    """The note, or FORBIDDEN with the reason the policy withholds it from this viewer."""
    category = SensitiveCategory(row.sensitive_category) if row.sensitive_category else None
    reason = note_withheld(grant, category, row.hidden_from_proxies)
    if reason is not None:
        raise AccessDenied(reason, AREA)
    return row


def text_shown(withheld: bool, text: str) -> str:
    """A note's text, or FORBIDDEN (WITHHELD_BY_PROVIDER) when the provider withheld it."""
    if withheld:
        raise AccessDenied(AccessReason.WITHHELD_BY_PROVIDER, AREA)
    return text


def note_text(row: m.ClinicalNote) -> str:
    return text_shown(row.withheld_exception is not None, row.text)


# -- reads ----------------------------------------------------------------------------------
async def patient_notes(
    ctx: Context,
    grant: PatientGrant,
    kind: NoteKind | None,
    size: int,
    after: tuple[Any, ...] | None,
) -> PageOf:
    filter_ = (kind.value if kind is not None else None, note_filter(grant))
    found = await ctx.loaders.note_pages.get((grant, Page(size, after, filter_)))
    if found is None:
        raise BrokenInvariant("found is None")
    return found


async def version(ctx: Context, grant: PatientGrant, note_id: str | None) -> m.ClinicalNote | None:
    if note_id is None:
        return None
    row = await ctx.loaders.note.get((grant, note_id))
    return readable(row, grant) if row is not None else None


async def note(ctx: Context, row_id: str) -> tuple[m.ClinicalNote | None, PatientGrant]:
    """node(id): through the patient's CLINICAL_NOTES grant, then the note's own rule."""
    row, grant = await owned_row(ctx, m.ClinicalNote, "ClinicalNote", row_id)
    return (readable(row, grant) if row is not None else None), grant


async def note_appointment(
    ctx: Context, patient_id: str, appointment_id: str | None
) -> tuple[m.Appointment | None, PatientGrant | None]:
    """The visit a note documents: the APPOINTMENTS area too (else FORBIDDEN)."""
    if appointment_id is None:
        return None, None
    grant = ctx.access(patient_id, RecordArea.APPOINTMENTS, "Appointment")
    return await ctx.loaders.appointment.get((grant, appointment_id)), grant


async def after_visit_summary(
    ctx: Context, grant: PatientGrant, appointment_id: str
) -> m.ClinicalNote | None:
    row = await ctx.loaders.visit_summary.get((grant, appointment_id))
    return readable(row, grant) if row is not None else None


async def hidden_note_count(ctx: Context, patient_id: str) -> int | None:
    """How many notes the patient hid from proxies; null where notes are not readable."""
    if not ctx.patient_context(patient_id).area(AREA).allowed:
        return None
    grant = ctx.access(patient_id, AREA, "ClinicalNote")
    return await ctx.loaders.hidden_note_count.get(grant)


# -- writes ---------------------------------------------------------------------------------
async def set_proxy_note_category(
    ctx: Context, command: usecases.SetProxyNoteCategory
) -> m.ProxyGrant:
    own = ctx.act_for_self(ctx.require_principal().patient_id or "", "NotePrivacy")
    return await usecases.set_proxy_note_category(command, own, UnitOfWork(ctx.services.sessions))


async def set_note_hidden_from_proxies(
    ctx: Context, command: usecases.SetNoteHidden
) -> tuple[m.ClinicalNote, PatientGrant]:
    """The note as the patient now reads it, with the grant to read it by."""
    own = ctx.act_for_self(ctx.require_principal().patient_id or "", "NotePrivacy")
    uow = UnitOfWork(ctx.services.sessions)
    row = await usecases.set_note_hidden(command, own, uow, ctx.now)
    return row, ctx.access(own.patient_id, AREA, "ClinicalNote")
