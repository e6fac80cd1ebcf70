"""activateAccount, signUpWithoutCode, verifySignUp: a patient creates their account.

Either with an activation code from the clinic (plus their birth date), or by proving who
they are with their name, birth date and MRN or email on file; then a code goes to the email
on file, never to an address from the request. signUpWithoutCode answers the same whether or
not anybody matched: a verification exists either way, and one nobody matched fails
`verifySignUp` exactly like a wrong code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from domain import account_mail, contact
from domain import accounts as rules
from domain.errors import DomainError
from domain.identity import LockoutPolicy
from persistence.lifecycle import PatientFacts, mails_to_since, patient_facts, patients_matching
from persistence.mail import enqueue_mail
from persistence.uow import UnitOfWork
from runtime.security import hash_password
from usecases.sessions import Client, Issuing, NoteAccount, SignedIn, start_and_commit


@dataclass(frozen=True)
class ActivateAccount:
    activation_code: str
    birth_date: date
    username: str
    password: str
    client: Client


@dataclass(frozen=True)
class SignUpWithoutCode:
    given_name: str
    family_name: str
    birth_date: date
    mrn: str | None
    email: str | None


@dataclass(frozen=True)
class VerifySignUp:
    verification_id: str
    code: str
    username: str
    password: str
    client: Client


@dataclass(frozen=True)
class Ports:
    """What the account family's writes (here, usecases/passwords.py, totp.py, contact.py)
    need besides their command: the unit of work, the policies and the request's time."""

    uow: UnitOfWork
    lifecycle: rules.LifecyclePolicy
    lockout: LockoutPolicy
    now: datetime


async def activate_account(command: ActivateAccount, ports: Ports, issuing: Issuing) -> SignedIn:
    """The account of the patient the clinic gave the code to; signed in like `signIn`."""
    uow, now = ports.uow, ports.now
    username, password_hash = await _new_credentials(command.username, command.password)
    async with uow:
        code = await uow.activation_codes.by_code(command.activation_code)
        if code is None or code.owner_id is None:
            raise rules.InvalidCode(field="activationCode")
        refuse(rules.code_problem(code.state, now, ports.lifecycle))
        patient = await patient_facts(uow.session, code.owner_id)
        if patient is None or patient.birth_date != command.birth_date:
            await uow.activation_codes.count_attempt(code.id)
            await uow.commit()  # a wrong birth date counts, though the request fails
            raise rules.InvalidCode(
                "The activation code and birth date do not match our records.", "birthDate"
            )
        account_id = await _create_account(uow, patient, username, password_hash, now)
        if not await uow.activation_codes.use(code.id, account_id, now):
            raise rules.CodeUsed(field="activationCode")  # a concurrent activation won
        # Sessions start in the transaction that creates the account.
        return await start_and_commit(uow, issuing, account_id, command.client, now)


async def sign_up_without_code(command: SignUpWithoutCode, ports: Ports, note: NoteAccount) -> str:
    """The id of the verification to pass to `verifySignUp`, whether or not anybody matched."""
    uow, now = ports.uow, ports.now
    given, family = command.given_name.strip(), command.family_name.strip()
    if not given or not family:
        raise rules.NameRequired(field="givenName" if not given else "familyName")
    mrn = (command.mrn or "").strip().upper() or None
    email = (
        contact.email_address(command.email) if command.email and command.email.strip() else None
    )
    if mrn is None and email is None:
        raise rules.MrnOrEmailRequired(field="mrn")
    code = rules.new_numeric_code()
    async with uow:
        found = [
            p
            for p in await patients_matching(uow.session, command.birth_date, mrn, email)
            if rules.same_name(p.given_name, given) and rules.same_name(p.family_name, family)
        ]
        patient = found[0] if len(found) == 1 else None  # two matches: nobody, to be safe
        if patient is not None and patient.account_id is not None:
            note(patient.account_id)  # for the audit only: the answer is the same
        verified_for = await _mail_sign_up(ports, patient, code)
        verification_id = uow.signups.create(
            verified_for, code, now, ports.lifecycle.verification_ttl
        )
        await uow.commit()
    return verification_id


async def verify_sign_up(command: VerifySignUp, ports: Ports, issuing: Issuing) -> SignedIn:
    """Finish `signUpWithoutCode` with the mailed code; signed in like `signIn`."""
    uow, now = ports.uow, ports.now
    username, password_hash = await _new_credentials(command.username, command.password)
    async with uow:
        verification = await uow.signups.by_id(command.verification_id)
        if verification is None:
            raise rules.InvalidCode(field="code")
        refuse(rules.code_problem(verification.state, now, ports.lifecycle))
        presented = f"{verification.id}:{command.code.strip()}"
        patient_id = verification.owner_id
        if patient_id is None or not rules.codes_match(verification.code_hash, presented):
            await uow.signups.count_attempt(verification.id)
            await uow.commit()
            raise rules.InvalidCode(field="code")
        patient = await patient_facts(uow.session, patient_id)
        if patient is None:  # a verification is made for a patient found in the same table
            raise rules.InvalidCode(field="code")
        account_id = await _create_account(uow, patient, username, password_hash, now)
        if not await uow.signups.use(verification.id, now):
            raise rules.CodeUsed(field="code")
        return await start_and_commit(uow, issuing, account_id, command.client, now)


# -- the steps -----------------------------------------------------------------------------------
async def _new_credentials(username: str, password: str) -> tuple[str, str]:
    """Checked before anything is looked up; hashed with no transaction open."""
    name = rules.check_username(username)
    rules.check_new_password(password, name)
    return name, await asyncio.to_thread(hash_password, password)


def refuse(problem: DomainError | None) -> None:
    if problem is not None:
        raise problem


def mail(ports: Ports, to: str, subject: str, body: str) -> None:
    """A lifecycle mail (domain/account_mail.py), sent once the write commits."""
    enqueue_mail(ports.uow.session, to=to, subject=subject, body=body, now=ports.now)


async def _mail_sign_up(ports: Ports, patient: PatientFacts | None, code: str) -> str | None:
    """Mail the patient found (if any) at the email on file; the patient a code is valid for."""
    uow, now, policy = ports.uow, ports.now, ports.lifecycle
    if patient is None or patient.email is None:
        return None
    recent = await mails_to_since(uow.session, patient.email, now - timedelta(hours=1))
    if not rules.may_send_another(recent, policy):
        return None
    if patient.username is not None:
        mail(ports, patient.email, *account_mail.already_have_account(patient.username))
        return None
    mail(ports, patient.email, *account_mail.sign_up_code(code, policy.verification_ttl))
    return patient.id


async def _create_account(
    uow: UnitOfWork, patient: PatientFacts, username: str, password_hash: str, now: datetime
) -> str:
    """The patient's new account (flushed, not committed), with its welcome mail."""
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
