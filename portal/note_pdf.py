"""GET /notes/{id}.pdf: an after-visit summary, printable (its `ClinicalNote.pdfUrl`).

The same bearer token as the GraphQL endpoint and the same policy as reading the note
through `node(id)`: the CLINICAL_NOTES area of its patient, then the note itself
(domain.access.note_withheld: a sensitive category not opened to a proxy, a note the
patient hid), and never the text of a note the provider withheld. A refusal is JSON with
the reason (401, 403; an unknown id or another kind of note 404). Audited like a read.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime

from fpdf import FPDF
from starlette.requests import Request
from starlette.responses import Response

from domain.access import AccessDenied, age_on
from domain.errors import BrokenInvariant
from domain.notes import NoteKind
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries import owned
from persistence.queries.people import PatientRow
from portal.errors import FORBIDDEN_MESSAGES
from portal.printing import HEADERS, latin1, refused, signed_in_context
from resolvers.notes import note_text, readable
from runtime.context import Context
from schema.base import BadInput, internal_id

OPERATION = "GET /notes/{id}.pdf"
NOT_FOUND = "No such after-visit summary."


async def _load(ctx: Context, note_id: str) -> tuple[PatientRow, m.ClinicalNote, str] | None:
    """The patient, the note and its printable text; AccessDenied if the viewer may not."""
    async with ctx.services.session() as session:
        owner = await owned.owner_of(session, m.ClinicalNote, note_id)
    grant = ctx.access(owner or "", RecordArea.CLINICAL_NOTES, "ClinicalNote")
    row = await ctx.loaders.note.get((grant, note_id))
    if row is None or row.kind != NoteKind.AFTER_VISIT_SUMMARY.value:
        return None
    text = note_text(readable(row, grant))
    patient = await ctx.loaders.patient.get(ctx.demographics(row.patient_id))
    if patient is None:
        raise BrokenInvariant("patient is None: a patient with a grant exists")
    return patient, row, text


async def visit_summary(request: Request) -> Response:
    ctx = await signed_in_context(request)
    if isinstance(ctx, Response):
        return ctx
    try:
        found = await _load(ctx, internal_id(request.path_params["note_id"], "ClinicalNote"))
    except BadInput:
        return refused(404, "NOT_FOUND", NOT_FOUND)
    except AccessDenied as denied:
        message = FORBIDDEN_MESSAGES[denied.reason]
        return refused(403, "FORBIDDEN", message, denied.reason.value)
    finally:
        # before the note leaves: durable
        await ctx.services.audit.write(ctx.audit_entries(OPERATION), ctx.services.sessions)
    if found is None:
        return refused(404, "NOT_FOUND", NOT_FOUND)
    patient, note, text = found
    today = ctx.services.settings.ages.today(ctx.now)
    pdf = await asyncio.to_thread(render, patient, note, text, ctx.now, today)
    headers = {**HEADERS, "Content-Disposition": 'inline; filename="after-visit-summary.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def render(
    patient: PatientRow, note: m.ClinicalNote, text: str, now: datetime, today: date
) -> bytes:
    pdf = FPDF(format="Letter")
    pdf.set_title("After Visit Summary")
    pdf.set_creation_date(now)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "After Visit Summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    details = [
        f"Patient: {latin1(patient.given_name)} {latin1(patient.family_name)}",
        f"Date of birth: {patient.birth_date.isoformat()} "
        f"(age {age_on(patient.birth_date, today)})",
        f"Medical record number: {patient.mrn}",
        f"{latin1(note.title)}, signed {note.signed_at.date().isoformat()} "
        f"by {latin1(note.author_name)}",
        f"Printed: {today.isoformat()}",
    ]
    for line in details:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, latin1(text))
    return bytes(pdf.output())
