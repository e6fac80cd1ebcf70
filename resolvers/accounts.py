"""activateAccount, signUpWithoutCode, verifySignUp: a patient creates their account.

Either with an activation code from the clinic (plus their birth date), or by proving who
they are with their name, birth date and MRN or email on file; then a code goes to the email
on file, never to an address from the request. signUpWithoutCode answers the same whether or
not anybody matched: a verification exists either way, and one nobody matched fails
`verifySignUp` exactly like a wrong code.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import strawberry
from sqlalchemy.exc import IntegrityError

from domain import accounts as rules
from domain import contact
from domain.errors import DomainError
from persistence.lifecycle import PatientFacts, mails_to_since, patient_facts, patients_matching
from persistence.mail import enqueue_mail
from persistence.terms import pending_for
from persistence.uow import UnitOfWork
from resolvers import account_mail
from resolvers.auth import start_session
from resolvers.payloads import account_action, one_per_request, user_errors
from runtime.security import hash_password
from schema import accounts as s
from schema.viewer import Viewer

if TYPE_CHECKING:
    from schema.base import Info

ERRORS = (s.SignUpError, s.SignUpErrorCode)
Created = TypeVar("Created", bound=s.AccountCreatedPayload)
SIGN_UP_ANSWER = (
    "If we found your record, we sent a verification code to the email address we have on "
    "file for you. It is valid for 30 minutes."
)


@account_action
@user_errors(s.ActivateAccountPayload, *ERRORS)
@one_per_request
async def activate_account(info: Info, input: s.ActivateAccountInput) -> s.ActivateAccountPayload:
    ctx = info.context
    username, password_hash = await _new_credentials(input.username, input.password)
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        code = await uow.activation_codes.by_code(input.activation_code)
        if code is None or code.owner_id is None:
            raise rules.InvalidCode(field="activationCode")
        _refuse(rules.code_problem(code.state, ctx.now, ctx.services.settings.lifecycle))
        patient = await patient_facts(uow.session, code.owner_id)
        if patient is None or patient.birth_date != input.birth_date:
            await uow.activation_codes.count_attempt(code.id)
            await uow.commit()  # a wrong birth date counts, though the request fails
            raise rules.InvalidCode(
                "The activation code and birth date do not match our records.", "birthDate"
            )
        account_id = await _create_account(info, uow, patient, username, password_hash)
        if not await uow.activation_codes.use(code.id, account_id, ctx.now):
            raise rules.CodeUsed(field="activationCode")  # a concurrent activation won
        return await _signed_in(info, uow, s.ActivateAccountPayload, account_id)


@account_action
@user_errors(s.SignUpWithoutCodePayload, *ERRORS)
@one_per_request
async def sign_up_without_code(
    info: Info, input: s.SignUpWithoutCodeInput
) -> s.SignUpWithoutCodePayload:
    ctx = info.context
    policy = ctx.services.settings.lifecycle
    given, family = input.given_name.strip(), input.family_name.strip()
    if not given or not family:
        raise rules.NameRequired(field="givenName" if not given else "familyName")
    mrn = (input.mrn or "").strip().upper() or None
    email = contact.email_address(input.email) if input.email and input.email.strip() else None
    if mrn is None and email is None:
        raise rules.MrnOrEmailRequired(field="mrn")
    code = rules.new_numeric_code()
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        found = [
            p
            for p in await patients_matching(uow.session, input.birth_date, mrn, email)
            if rules.same_name(p.given_name, given) and rules.same_name(p.family_name, family)
        ]
        patient = found[0] if len(found) == 1 else None  # two matches: nobody, to be safe
        if patient is not None and patient.account_id is not None:
            ctx.audit_account(patient.account_id)  # for the audit only: the answer is the same
        verified_for = await _mail_sign_up(info, uow, patient, code)
        verification_id = uow.signups.create(verified_for, code, ctx.now, policy.verification_ttl)
        await uow.commit()
    return s.SignUpWithoutCodePayload(
        verification_id=strawberry.ID(verification_id), message=SIGN_UP_ANSWER
    )


@account_action
@user_errors(s.VerifySignUpPayload, *ERRORS)
@one_per_request
async def verify_sign_up(info: Info, input: s.VerifySignUpInput) -> s.VerifySignUpPayload:
    ctx = info.context
    username, password_hash = await _new_credentials(input.username, input.password)
    uow = UnitOfWork(ctx.services.sessions)
    async with uow:
        verification = await uow.signups.by_id(str(input.verification_id))
        if verification is None:
            raise rules.InvalidCode(field="code")
        _refuse(rules.code_problem(verification.state, ctx.now, ctx.services.settings.lifecycle))
        presented = f"{verification.id}:{input.code.strip()}"
        patient_id = verification.owner_id
        if patient_id is None or not rules.codes_match(verification.code_hash, presented):
            await uow.signups.count_attempt(verification.id)
            await uow.commit()
            raise rules.InvalidCode(field="code")
        patient = await patient_facts(uow.session, patient_id)
        assert patient is not None
        account_id = await _create_account(info, uow, patient, username, password_hash)
        if not await uow.signups.use(verification.id, ctx.now):
            raise rules.CodeUsed(field="code")
        return await _signed_in(info, uow, s.VerifySignUpPayload, account_id)


# -- the steps -----------------------------------------------------------------------------------
async def _new_credentials(username: str, password: str) -> tuple[str, str]:
    """Checked before anything is looked up; hashed with no transaction open."""
    name = rules.check_username(username)
    rules.check_new_password(password, name)
    return name, await asyncio.to_thread(hash_password, password)


def _refuse(problem: DomainError | None) -> None:
    if problem is not None:
        raise problem


async def _mail_sign_up(
    info: Info, uow: UnitOfWork, patient: PatientFacts | None, code: str
) -> str | None:
    """Mail the patient found (if any) at the email on file; the patient a code is valid for."""
    ctx = info.context
    policy = ctx.services.settings.lifecycle
    if patient is None or patient.email is None:
        return None
    recent = await mails_to_since(uow.session, patient.email, ctx.now - timedelta(hours=1))
    if not rules.may_send_another(recent, policy):
        return None
    if patient.username is not None:
        subject, body = account_mail.already_have_account(patient.username)
        enqueue_mail(uow.session, to=patient.email, subject=subject, body=body, now=ctx.now)
        return None
    subject, body = account_mail.sign_up_code(code, policy.verification_ttl)
    enqueue_mail(uow.session, to=patient.email, subject=subject, body=body, now=ctx.now)
    return patient.id


async def _create_account(
    info: Info, uow: UnitOfWork, patient: PatientFacts, username: str, password_hash: str
) -> str:
    """The patient's new account (flushed, not committed), with its welcome mail."""
    now = info.context.now
    if patient.account_id is not None:
        raise rules.AlreadyHasAccount()
    if patient.email is None:
        raise rules.EmailNotOnFile()
    if await uow.accounts.username_taken(username):
        raise rules.UsernameTaken()
    if await uow.accounts.email_taken(patient.email):
        raise rules.EmailInUse()
    account_id = uow.accounts.create(
        username=username,
        email=patient.email,
        display_name=rules.display_name(
            patient.given_name, patient.preferred_name, patient.family_name
        ),
        patient_id=patient.id,
        password_hash=password_hash,
        now=now,
    )
    try:
        await uow.session.flush()
    except IntegrityError:  # a concurrent request took the username or made the account
        await uow.rollback()
        if await uow.accounts.username_taken(username):
            raise rules.UsernameTaken() from None
        raise rules.AlreadyHasAccount() from None
    subject, body = account_mail.welcome(username)
    enqueue_mail(uow.session, to=patient.email, subject=subject, body=body, now=now)
    return account_id


async def _signed_in(
    info: Info, uow: UnitOfWork, payload: type[Created], account_id: str
) -> Created:
    """Sessions start in the transaction that creates the account; then sign the request in."""
    ctx = info.context
    pending = bool(await pending_for(uow.session, account_id))  # a new account accepts too
    issued = start_session(uow, ctx, account_id, terms_pending=pending)
    principal, name = await uow.accounts.principal(account_id, ctx.now)
    await uow.commit()
    assert principal is not None
    ctx.signed_in(principal, name, issued.session_id, terms_pending=pending)
    return payload(
        access_token=issued.access_token,
        access_token_expires_at=issued.access_token_expires_at,
        refresh_token=issued.refresh_token,
        refresh_token_expires_at=issued.refresh_token_expires_at,
        viewer=Viewer(account_id=account_id),
    )
