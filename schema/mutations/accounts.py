"""Creating an account: activateAccount, signUpWithoutCode, verifySignUp; their inputs,
payloads and error codes (use cases: usecases/accounts.py; rules: domain/accounts.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Self

import strawberry

from resolvers import accounts as r
from resolvers.sessions import client
from schema.base import Info
from schema.mutations.sessions import token_fields
from schema.payloads import UserError, account_action, one_per_request, user_errors
from schema.viewer import Viewer
from usecases import accounts as uc
from usecases.sessions import Client, SignedIn

SIGN_UP_ANSWER = (
    "If we found your record, we sent a verification code to the email address we have on "
    "file for you. It is valid for 30 minutes."
)


# -- creating an account ------------------------------------------------------------------------
@strawberry.enum(description="Why an account could not be created (nothing was changed).")
class SignUpErrorCode(Enum):
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED = "CODE_USED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_USERNAME = "INVALID_USERNAME"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    WEAK_PASSWORD = "WEAK_PASSWORD"  # noqa: S105 (an error code)
    EMAIL_NOT_ON_FILE = "EMAIL_NOT_ON_FILE"
    EMAIL_IN_USE = "EMAIL_IN_USE"
    ALREADY_HAS_ACCOUNT = "ALREADY_HAS_ACCOUNT"
    NAME_REQUIRED = "NAME_REQUIRED"
    MRN_OR_EMAIL_REQUIRED = "MRN_OR_EMAIL_REQUIRED"
    INVALID_EMAIL = "INVALID_EMAIL"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class SignUpError(UserError):
    code: SignUpErrorCode


@strawberry.input
class ActivateAccountInput:
    activation_code: str = strawberry.field(description="From the clinic, e.g. `ABCD-EFGH-JKMN`.")
    birth_date: date
    username: str
    password: str

    def command(self, client: Client) -> uc.ActivateAccount:
        return uc.ActivateAccount(
            self.activation_code, self.birth_date, self.username, self.password, client
        )


@strawberry.input
class SignUpWithoutCodeInput:
    given_name: str
    family_name: str
    birth_date: date
    mrn: str | None = strawberry.field(default=None, description="Medical record number.")
    email: str | None = strawberry.field(
        default=None, description="The email address the clinic has on file (not a new one)."
    )

    def command(self) -> uc.SignUpWithoutCode:
        return uc.SignUpWithoutCode(
            self.given_name, self.family_name, self.birth_date, self.mrn, self.email
        )


@strawberry.input
class VerifySignUpInput:
    verification_id: strawberry.ID
    code: str = strawberry.field(description="The code mailed to the email on file.")
    username: str
    password: str

    def command(self, client: Client) -> uc.VerifySignUp:
        return uc.VerifySignUp(
            str(self.verification_id), self.code, self.username, self.password, client
        )


@strawberry.type(description="Signed in to the new account, as `signIn` answers, or errors.")
class AccountCreatedPayload:
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_token_expires_at: datetime | None = None
    viewer: Viewer | None = None
    errors: list[SignUpError] = strawberry.field(default_factory=list)

    @classmethod
    def signed_in(cls, done: SignedIn) -> Self:
        return cls(
            **token_fields(done.session), viewer=Viewer(account_id=done.principal.account_id)
        )


@strawberry.type
class ActivateAccountPayload(AccountCreatedPayload):
    pass


@strawberry.type
class VerifySignUpPayload(AccountCreatedPayload):
    pass


@strawberry.type(
    description="The same answer whether or not a patient matched: a code goes to the email on "
    "file only if one did."
)
class SignUpWithoutCodePayload:
    verification_id: strawberry.ID | None = strawberry.field(
        default=None, description="Pass it to `verifySignUp` with the mailed code."
    )
    message: str | None = None
    errors: list[SignUpError] = strawberry.field(default_factory=list)


ERRORS = (SignUpError, SignUpErrorCode)


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Create the account of the patient an activation code was given to "
        "(single use, expires), proving the birth date. Signs in like `signIn`."
    )
    @account_action
    @user_errors(ActivateAccountPayload, *ERRORS)
    @one_per_request
    async def activate_account(
        self, info: Info, input: ActivateAccountInput
    ) -> ActivateAccountPayload:
        done = await r.activate_account(info.context, input.command(client(info.context)))
        return ActivateAccountPayload.signed_in(done)

    @strawberry.mutation(
        description="Start creating an account without a code: name, birth date and MRN or "
        "email on file. A code goes to the email on file, never to another address; the "
        "answer is the same whether or not a patient matched."
    )
    @account_action
    @user_errors(SignUpWithoutCodePayload, *ERRORS)
    @one_per_request
    async def sign_up_without_code(
        self, info: Info, input: SignUpWithoutCodeInput
    ) -> SignUpWithoutCodePayload:
        verification_id = await r.sign_up_without_code(info.context, input.command())
        return SignUpWithoutCodePayload(
            verification_id=strawberry.ID(verification_id), message=SIGN_UP_ANSWER
        )

    @strawberry.mutation(
        description="Finish `signUpWithoutCode` with the mailed code. Signs in like `signIn`."
    )
    @account_action
    @user_errors(VerifySignUpPayload, *ERRORS)
    @one_per_request
    async def verify_sign_up(self, info: Info, input: VerifySignUpInput) -> VerifySignUpPayload:
        done = await r.verify_sign_up(info.context, input.command(client(info.context)))
        return VerifySignUpPayload.signed_in(done)
