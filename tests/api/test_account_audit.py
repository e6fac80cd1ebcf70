"""Every account-level action is audited, done or refused: sign-in and sessions, sign-up,
passwords, two-step verification, notification settings, accepting a proxy invitation.

Those rows have no patient: they name the account (the signed-in one, or the one an anonymous
request matched, else "anonymous") and the client's address, go through the batched audit
writer like the record's, and never show in a patient's access log. Anonymous requests
answer the same whether or not an account matched; only the audit tells.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain import accounts as secrets
from domain.scopes import Relationship, Scope
from domain.totp import code_at
from persistence import models as m
from persistence.uow import UnitOfWork
from runtime.context import ANONYMOUS
from tests.api.account_helpers import (
    NEW_PASSWORD,
    account_named,
    activation_code,
    people_without_account,
    sign_in,
)
from tests.conftest import ACCOUNT_IDS, ALEX, DANIEL, DEMO_PASSWORD, NOW, Portal, patient_gid

ALEX_ID, ALEX_PATIENT = ACCOUNT_IDS[ALEX], "pat-0000001"
NEW = "(the new account)"
WRONG = "not-the-password-2026"
NEW_USERNAME = "audited.newcomer"

Inputs = Callable[[Portal], Awaitable[dict[str, Any]]]


def mutation(field: str) -> str:
    input_type = field[0].upper() + field[1:] + "Input"
    return f"""
mutation Audited($input: {input_type}!) {{ {field}(input: $input) {{ errors {{ code }} }} }}
"""


async def call(portal: Portal, field: str, fields: dict[str, Any], user: str | None) -> Any:
    result = await portal.gql(mutation(field), {"input": fields}, as_user=user)
    return result


async def account_rows(portal: Portal) -> list[m.AuditEvent]:
    await portal.services.audit.flush()
    async with portal.services.session() as session:
        stmt = select(m.AuditEvent).where(m.AuditEvent.patient_id.is_(None))
        return list((await session.scalars(stmt.order_by(m.AuditEvent.id))).all())


# -- what each case sends (set up first where it needs a code, a token or a factor) ------------
def fixed(**fields: Any) -> Inputs:
    async def inputs(_portal: Portal) -> dict[str, Any]:
        return fields

    return inputs


async def alex_refresh_token(portal: Portal) -> dict[str, Any]:
    return {"refreshToken": (await sign_in(portal, ALEX, DEMO_PASSWORD))["refreshToken"]}


async def activation(portal: Portal) -> dict[str, Any]:
    [person] = await people_without_account(portal)
    return {
        "activationCode": await activation_code(portal, person.id),
        "birthDate": person.birth_date.isoformat(),
        "username": NEW_USERNAME,
        "password": NEW_PASSWORD,
    }


async def bad_activation(portal: Portal) -> dict[str, Any]:
    return await activation(portal) | {"activationCode": "ABCD-EFGH-JKMN"}


async def alex_identity(portal: Portal) -> dict[str, Any]:
    async with portal.services.session() as session:
        alex = await session.get(m.Patient, ALEX_PATIENT)
    assert alex is not None
    return {
        "givenName": alex.given_name,
        "familyName": alex.family_name,
        "birthDate": alex.birth_date.isoformat(),
        "mrn": alex.mrn,
    }


async def verification(portal: Portal, code: str = "24681357") -> dict[str, Any]:
    [person] = await people_without_account(portal)
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        verification_id = uow.signups.create(person.id, "24681357", NOW, timedelta(minutes=30))
        await uow.commit()
    return {
        "verificationId": verification_id,
        "code": code,
        "username": NEW_USERNAME,
        "password": NEW_PASSWORD,
    }


async def bad_verification(portal: Portal) -> dict[str, Any]:
    return await verification(portal, code="11111111")


async def reset_token(portal: Portal, ttl: timedelta = timedelta(hours=1)) -> dict[str, Any]:
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        await uow.password_resets.create(ALEX_ID, "audited-reset-token", NOW, ttl)
        await uow.commit()
    return {"token": "audited-reset-token", "newPassword": NEW_PASSWORD}


async def expired_reset_token(portal: Portal) -> dict[str, Any]:
    return await reset_token(portal, ttl=timedelta(hours=-1))


async def alex_email(portal: Portal) -> dict[str, Any]:
    return {"email": (await account_named(portal, ALEX)).email}


async def totp_secret(portal: Portal) -> str:
    result = await portal.gql(
        mutation("enableTotp").replace("errors", "secret errors"),
        {"input": {"currentPassword": DEMO_PASSWORD}},
        as_user=ALEX,
    )
    return str(result["data"]["enableTotp"]["secret"])


async def totp_code(portal: Portal) -> dict[str, Any]:
    return {"code": code_at(await totp_secret(portal), portal.clock.now())}


async def totp_on(portal: Portal) -> dict[str, Any]:
    await call(portal, "confirmTotp", await totp_code(portal), ALEX)
    portal.clock.advance(timedelta(seconds=30))
    return {"password": DEMO_PASSWORD}


async def invitation(portal: Portal) -> dict[str, Any]:
    """A pending invitation to act for Alex's patient, as grantProxyAccess makes one."""
    uow = UnitOfWork(portal.services.sessions)
    async with uow:
        uow.proxies.add_invited_grant(
            patient_id=ALEX_PATIENT,
            email="daniel.chen@example.org",
            relationship=Relationship.CAREGIVER,
            scopes=[Scope.APPOINTMENTS],
            ends_at=NOW + timedelta(days=30),
            token_hash=secrets.hash_secret("audited-invitation"),
            invitation_expires_at=NOW + timedelta(days=7),
            now=NOW,
        )
        await uow.commit()
    return {"token": "audited-invitation"}


PREFERENCE = {"kind": "MESSAGE_RECEIVED", "channels": ["EMAIL"]}


@dataclass(frozen=True)
class Case:
    field: str
    inputs: Inputs
    user: str | None  # signed in as
    account: str  # the audited account: an id, ANONYMOUS or NEW
    acting_as: str  # "self" (signed in as it) or ANONYMOUS
    action: str  # "write" or "attempt"

    def __str__(self) -> str:
        return f"{self.field}-{self.action}-{self.account}"


CASES = [
    # sessions
    Case("signIn", fixed(username=ALEX, password=DEMO_PASSWORD), None, ALEX_ID, "self", "write"),
    Case("signIn", fixed(username=ALEX, password=WRONG), None, ALEX_ID, ANONYMOUS, "attempt"),
    Case("signIn", fixed(username="no.one", password=WRONG), None, ANONYMOUS, ANONYMOUS, "attempt"),
    Case("refreshSession", alex_refresh_token, None, ALEX_ID, ANONYMOUS, "write"),
    Case("refreshSession", fixed(refreshToken="nope"), None, ANONYMOUS, ANONYMOUS, "attempt"),
    Case("signOut", alex_refresh_token, None, ALEX_ID, ANONYMOUS, "write"),
    Case("signOut", fixed(refreshToken="nope"), None, ANONYMOUS, ANONYMOUS, "attempt"),
    # creating an account
    Case("activateAccount", activation, None, NEW, "self", "write"),
    Case("activateAccount", bad_activation, None, ANONYMOUS, ANONYMOUS, "attempt"),
    Case("signUpWithoutCode", alex_identity, None, ALEX_ID, ANONYMOUS, "write"),
    Case(
        "signUpWithoutCode",
        fixed(givenName="No", familyName="One", birthDate="1970-01-01", mrn="MRN0"),
        None,
        ANONYMOUS,
        ANONYMOUS,
        "write",
    ),
    Case("verifySignUp", verification, None, NEW, "self", "write"),
    Case("verifySignUp", bad_verification, None, ANONYMOUS, ANONYMOUS, "attempt"),
    # passwords and usernames
    Case("requestPasswordReset", fixed(usernameOrEmail=ALEX), None, ALEX_ID, ANONYMOUS, "write"),
    Case(
        "requestPasswordReset", fixed(usernameOrEmail="no.one"), None, ANONYMOUS, ANONYMOUS, "write"
    ),
    Case("requestPasswordReset", fixed(usernameOrEmail=" "), None, ANONYMOUS, ANONYMOUS, "attempt"),
    Case("resetPassword", reset_token, None, ALEX_ID, ANONYMOUS, "write"),
    Case("resetPassword", expired_reset_token, None, ALEX_ID, ANONYMOUS, "attempt"),
    Case(
        "resetPassword",
        fixed(token="nope", newPassword=NEW_PASSWORD),
        None,
        ANONYMOUS,
        ANONYMOUS,
        "attempt",
    ),
    Case("requestUsernameReminder", alex_email, None, ALEX_ID, ANONYMOUS, "write"),
    Case(
        "changePassword",
        fixed(currentPassword=DEMO_PASSWORD, newPassword=NEW_PASSWORD),
        ALEX,
        ALEX_ID,
        "self",
        "write",
    ),
    Case(
        "changePassword",
        fixed(currentPassword=WRONG, newPassword=NEW_PASSWORD),
        ALEX,
        ALEX_ID,
        "self",
        "attempt",
    ),
    Case(  # not signed in: refused before anything is looked up
        "changePassword",
        fixed(currentPassword=DEMO_PASSWORD, newPassword=NEW_PASSWORD),
        None,
        ANONYMOUS,
        ANONYMOUS,
        "attempt",
    ),
    # two-step verification
    Case("enableTotp", fixed(currentPassword=DEMO_PASSWORD), ALEX, ALEX_ID, "self", "write"),
    Case("enableTotp", fixed(currentPassword=WRONG), ALEX, ALEX_ID, "self", "attempt"),
    Case("confirmTotp", totp_code, ALEX, ALEX_ID, "self", "write"),
    Case("confirmTotp", fixed(code="123456"), ALEX, ALEX_ID, "self", "attempt"),
    Case("disableTotp", totp_on, ALEX, ALEX_ID, "self", "write"),
    Case("disableTotp", fixed(password=DEMO_PASSWORD), ALEX, ALEX_ID, "self", "attempt"),
    # the account's own settings and notifications
    Case(
        "updateNotificationPreferences",
        fixed(preferences=[PREFERENCE]),
        ALEX,
        ALEX_ID,
        "self",
        "write",
    ),
    Case(
        "updateNotificationPreferences",
        fixed(preferences=[PREFERENCE, PREFERENCE]),
        ALEX,
        ALEX_ID,
        "self",
        "attempt",
    ),
    Case("markNotificationsRead", fixed(all=True), ALEX, ALEX_ID, "self", "write"),
    Case("markNotificationsRead", fixed(all=False), ALEX, ALEX_ID, "self", "attempt"),
    # proxies
    Case("acceptProxyInvitation", invitation, DANIEL, ACCOUNT_IDS[DANIEL], "self", "write"),
    Case(
        "acceptProxyInvitation", fixed(token="nope"), DANIEL, ACCOUNT_IDS[DANIEL], "self", "attempt"
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_each_account_action_is_audited(fresh_portal: Portal, case: Case) -> None:
    portal = fresh_portal
    fields = await case.inputs(portal)
    before = {row.id for row in await account_rows(portal)}  # what setting up wrote
    result = await call(portal, case.field, fields, case.user)
    payload = (result.get("data") or {}).get(case.field)
    refused = payload is None or bool(payload["errors"])
    assert refused == (case.action == "attempt"), result

    rows = [r for r in await account_rows(portal) if r.id not in before]
    account = (
        (await account_named(portal, NEW_USERNAME)).id if case.account == NEW else case.account
    )
    assert [(r.account_id, r.acting_as, r.action, r.object_types) for r in rows] == [
        (account, case.acting_as, case.action, case.field)
    ]
    [row] = rows
    assert (row.patient_id, row.operation, row.at) == (None, "Audited", portal.clock.now())
    assert row.client_address == "127.0.0.1"
    assert row.request_id
    assert bool(row.actor_name) == (case.acting_as == "self")  # nobody known signed in


async def test_the_audit_knows_what_an_anonymous_answer_does_not_tell(fresh_portal: Portal) -> None:
    """A reset for an existing and for an unknown account answer alike; the audit differs."""
    portal = fresh_portal
    query = mutation("requestPasswordReset").replace("errors", "accepted message errors")
    known = await portal.gql(query, {"input": {"usernameOrEmail": ALEX}})
    unknown = await portal.gql(query, {"input": {"usernameOrEmail": "no.one"}})
    assert known == unknown
    assert [r.account_id for r in await account_rows(portal)] == [ALEX_ID, ANONYMOUS]


ACCESS_LOG = """
query AccessLog($id: ID!) {
  patient(id: $id) { accessLog(first: 50) { nodes { actingAs action operation objectTypes } } }
}
"""
READ_OWN = "query ReadOwn($id: ID!) { patient(id: $id) { allergies { id } } }"


async def test_account_rows_stay_out_of_the_patients_access_log(fresh_portal: Portal) -> None:
    portal = fresh_portal
    alex = {"id": patient_gid(ALEX_PATIENT)}
    await call(portal, "updateNotificationPreferences", {"preferences": [PREFERENCE]}, ALEX)
    await call(portal, "changePassword", {"currentPassword": WRONG, "newPassword": WRONG}, ALEX)
    assert "errors" not in await portal.gql(READ_OWN, alex, as_user=ALEX)
    assert len(await account_rows(portal)) == 2

    result = await portal.gql(ACCESS_LOG, alex, as_user=ALEX)
    assert "errors" not in result, result
    [entry] = result["data"]["patient"]["accessLog"]["nodes"]
    assert (entry["actingAs"], entry["action"], entry["operation"]) == ("SELF", "READ", "ReadOwn")
    assert "Allergy" in entry["objectTypes"]
