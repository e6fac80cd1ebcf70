"""GET /patients/{id}/immunizations.pdf: the printable immunization record.

The same bearer token as the GraphQL endpoint and the same policy as `Patient.immunizations`
(the IMMUNIZATIONS area, so a parent of an adolescent may print it): a refusal is JSON with
the reason (401, 403; a malformed id 404), never a PDF. Printed like a read: audited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, datetime

from fpdf import FPDF
from starlette.requests import Request
from starlette.responses import Response

from domain.access import AccessDenied, age_on
from domain.errors import BrokenInvariant
from domain.scopes import RecordArea
from persistence import models as m
from persistence.queries.people import PatientRow
from portal.errors import FORBIDDEN_MESSAGES
from portal.printing import HEADERS, latin1, refused, signed_in_context
from schema.base import BadInput, internal_id

OPERATION = "GET /patients/{id}/immunizations.pdf"


async def immunization_record(request: Request) -> Response:
    ctx = await signed_in_context(request)
    if isinstance(ctx, Response):
        return ctx
    services, now = ctx.services, ctx.now
    try:
        patient_id = internal_id(request.path_params["patient_id"], "Patient")
        grant = ctx.access(patient_id, RecordArea.IMMUNIZATIONS, "Immunization")
        patient_row = await ctx.loaders.patient.get(ctx.demographics(patient_id))
        rows = await ctx.loaders.immunizations.get(grant)
    except BadInput:
        return refused(404, "NOT_FOUND", "No such patient.")
    except AccessDenied as denied:
        message = FORBIDDEN_MESSAGES[denied.reason]
        return refused(403, "FORBIDDEN", message, denied.reason.value)
    finally:  # before the record leaves: durable
        await services.audit.write(ctx.audit_entries(OPERATION), services.sessions)
    if patient_row is None:
        raise BrokenInvariant("patient_row is None: a patient with a grant exists")
    today = services.settings.ages.today(now)  # the health system's date, as on its letters
    pdf = await asyncio.to_thread(render, patient_row, rows or [], now, today)
    headers = {**HEADERS, "Content-Disposition": 'inline; filename="immunization-record.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def render(
    patient: PatientRow, immunizations: Sequence[m.Immunization], now: datetime, today: date
) -> bytes:
    """The record as PDF bytes: who, then one table row per dose, newest first."""
    pdf = FPDF(format="Letter")
    pdf.set_title("Immunization Record")
    pdf.set_creation_date(now)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Immunization Record", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    name = latin1(f"{patient.given_name} {patient.family_name}")
    details = [
        f"Patient: {name}",
        f"Date of birth: {patient.birth_date.isoformat()} "
        f"(age {age_on(patient.birth_date, today)})",
        f"Medical record number: {patient.mrn}",
        f"Printed: {today.isoformat()}",
    ]
    for line in details:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if not immunizations:
        pdf.cell(0, 8, "No immunizations on file.", new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    pdf.set_font("Helvetica", "", 10)
    with pdf.table(col_widths=(70, 15, 30, 15, 30), text_align="LEFT") as table:
        table.row(["Vaccine", "CVX", "Date given", "Dose", "Lot"])
        for shot in immunizations:
            dose = str(shot.dose_number) if shot.dose_number is not None else ""
            given = shot.administered_on.isoformat()
            table.row([latin1(shot.vaccine), shot.cvx, given, dose, latin1(shot.lot or "")])
    return bytes(pdf.output())
