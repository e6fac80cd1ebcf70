"""updateContactInfo, confirmEmailChange: a patient keeps their own contact details current.

Self only (a proxy gets FORBIDDEN). Everything is checked before anything is written, so a bad
phone number leaves the address untouched too. A new email address replaces the old one only
once the code sent to the new address comes back; the old address is told of the change.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from domain import accounts as codes
from domain import contact as rules
from domain.errors import Collector, DomainError
from persistence.lifecycle import mails_to_since
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork
from resolvers import account_mail
from resolvers.patients import patient as load_patient
from resolvers.payloads import one_per_request, user_errors
from schema import accounts as s
from schema.base import BadInput, internal_id

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.ContactError, s.ContactErrorCode)


@user_errors(s.UpdateContactInfoPayload, *ERRORS)
async def update_contact_info(
    info: Info, input: s.UpdateContactInfoInput
) -> s.UpdateContactInfoPayload:
    ctx = info.context
    grant = ctx.act_for_self(_patient_id(input.patient_id), "Patient")
    values, new_email = _changes(input)
    if not values and new_email is None:
        raise rules.NothingToChange()
    ttl = ctx.services.settings.lifecycle.verification_ttl
    pending = None
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        current_email, _account_id = await uow.contact.current(grant)
        if values:
            await uow.contact.update(grant, values)
        if new_email is not None and not rules.same_email(new_email, current_email):
            await _may_mail(info, uow, new_email)
            code = codes.new_numeric_code()
            await uow.contact.request_email_change(
                grant,
                account_id=ctx.require_principal().account_id,
                new_email=new_email,
                code=code,
                now=ctx.now,
                ttl=ttl,
            )
            _mail(info, uow, new_email, *account_mail.email_change_code(code, ttl))
            pending = new_email
        await uow.commit()
    patient = await load_patient(info, grant.patient_id)
    return s.UpdateContactInfoPayload(patient=patient, pending_email=pending)


@user_errors(s.ConfirmEmailChangePayload, *ERRORS)
@one_per_request
async def confirm_email_change(
    info: Info, input: s.ConfirmEmailChangeInput
) -> s.ConfirmEmailChangePayload:
    ctx = info.context
    grant = ctx.act_for_self(_patient_id(input.patient_id), "Patient")
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        change = await uow.contact.pending_email_change(grant)
        if change is None:
            raise rules.NoEmailChangePending()
        _refuse(codes.code_problem(change.state, ctx.now, ctx.services.settings.lifecycle))
        if not codes.codes_match(change.code_hash, f"{change.id}:{input.code.strip()}"):
            await uow.contact.count_attempt(change.id)
            await uow.commit()
            raise codes.InvalidCode(field="code")
        old_email, account_id = await uow.contact.current(grant)
        if await uow.accounts.email_taken(change.new_email, other_than=account_id):
            raise codes.EmailInUse(field="code")
        if not await uow.contact.use_email_change(change.id, ctx.now):
            raise rules.NoEmailChangePending()  # a concurrent confirmation won
        await uow.contact.update(grant, {"email": change.new_email})
        if account_id is not None:
            await uow.accounts.set_email(account_id, change.new_email)
        if old_email is not None:
            _mail(info, uow, old_email, *account_mail.email_changed(change.new_email))
        try:
            await uow.commit()
        except IntegrityError:  # another account took the address a moment ago
            raise codes.EmailInUse(field="code") from None
    patient = await load_patient(info, grant.patient_id)
    return s.ConfirmEmailChangePayload(patient=patient)


def _patient_id(global_id: str) -> str:
    try:
        return internal_id(global_id, "Patient")
    except BadInput:
        raise rules.InvalidId() from None


def _changes(input: s.UpdateContactInfoInput) -> tuple[dict[str, Any], str | None]:
    """The new address and phone, and the new email; every invalid field is reported."""
    found = Collector()
    values: dict[str, Any] = {}
    if input.address is not None:
        a = input.address
        address = found.check(
            rules.postal_address, a.line1, a.line2, a.city, a.state, a.postal_code
        )
        if address is not None:
            values["address"] = address.as_json()
    if input.phone is not None:
        values["phone"] = found.check(rules.phone_number, input.phone)
    email = found.check(rules.email_address, input.email) if input.email is not None else None
    found.raise_any()
    return values, email


def _refuse(problem: DomainError | None) -> None:
    if problem is not None:
        raise problem


async def _may_mail(info: Info, uow: UnitOfWork, address: str) -> None:
    recent = await mails_to_since(uow.session, address, info.context.now - timedelta(hours=1))
    if not codes.may_send_another(recent, info.context.services.settings.lifecycle):
        raise rules.TooManyCodes()


def _mail(info: Info, uow: UnitOfWork, to: str, subject: str, body: str) -> None:
    enqueue_mail(uow.session, to=to, subject=subject, body=body, now=info.context.now)
