"""The account lifecycle (rules: domain/accounts.py, domain/totp.py, domain/contact.py)."""

from __future__ import annotations

import strawberry

from resolvers import accounts as accounts_r
from resolvers import contact as contact_r
from resolvers import passwords as passwords_r
from resolvers import totp as totp_r
from schema import accounts as s
from schema.base import Info


@strawberry.type
class AccountMutations:
    # -- creating an account ---------------------------------------------------------------------
    @strawberry.mutation(
        description="Create the account of the patient an activation code was given to "
        "(single use, expires), proving the birth date. Signs in like `signIn`."
    )
    async def activate_account(
        self, info: Info, input: s.ActivateAccountInput
    ) -> s.ActivateAccountPayload:
        return await accounts_r.activate_account(info, input)

    @strawberry.mutation(
        description="Start creating an account without a code: name, birth date and MRN or "
        "email on file. A code goes to the email on file, never to another address; the "
        "answer is the same whether or not a patient matched."
    )
    async def sign_up_without_code(
        self, info: Info, input: s.SignUpWithoutCodeInput
    ) -> s.SignUpWithoutCodePayload:
        return await accounts_r.sign_up_without_code(info, input)

    @strawberry.mutation(
        description="Finish `signUpWithoutCode` with the mailed code. Signs in like `signIn`."
    )
    async def verify_sign_up(self, info: Info, input: s.VerifySignUpInput) -> s.VerifySignUpPayload:
        return await accounts_r.verify_sign_up(info, input)

    # -- passwords and usernames -----------------------------------------------------------------
    @strawberry.mutation(
        description="Mail a single-use reset token to the email on file of the account with "
        "this username or email. The same answer whether or not one exists."
    )
    async def request_password_reset(
        self, info: Info, input: s.RequestPasswordResetInput
    ) -> s.RequestPasswordResetPayload:
        return await passwords_r.request_password_reset(info, input)

    @strawberry.mutation(
        description="Choose a new password with a reset token: unlocks the account and ends "
        "every session (but the one this request is made in, if it is that account's)."
    )
    async def reset_password(
        self, info: Info, input: s.ResetPasswordInput
    ) -> s.ResetPasswordPayload:
        return await passwords_r.reset_password(info, input)

    @strawberry.mutation(
        description="Mail the username to this address if an account uses it. The same "
        "answer whether or not one does."
    )
    async def request_username_reminder(
        self, info: Info, input: s.RequestUsernameReminderInput
    ) -> s.RequestUsernameReminderPayload:
        return await passwords_r.request_username_reminder(info, input)

    @strawberry.mutation(
        description="Change the signed-in account's password; ends its other sessions."
    )
    async def change_password(
        self, info: Info, input: s.ChangePasswordInput
    ) -> s.ChangePasswordPayload:
        return await passwords_r.change_password(info, input)

    # -- two-step verification -------------------------------------------------------------------
    @strawberry.mutation(
        description="Start two-step verification: a new authenticator secret, pending until "
        "`confirmTotp`."
    )
    async def enable_totp(self, info: Info, input: s.EnableTotpInput) -> s.EnableTotpPayload:
        return await totp_r.enable_totp(info, input)

    @strawberry.mutation(
        description="Turn two-step verification on with a code from the app; from then on "
        "`signIn` needs `totpCode`."
    )
    async def confirm_totp(self, info: Info, input: s.ConfirmTotpInput) -> s.ConfirmTotpPayload:
        return await totp_r.confirm_totp(info, input)

    @strawberry.mutation(description="Turn two-step verification off (a code or the password).")
    async def disable_totp(self, info: Info, input: s.DisableTotpInput) -> s.DisableTotpPayload:
        return await totp_r.disable_totp(info, input)

    # -- contact details -------------------------------------------------------------------------
    @strawberry.mutation(
        description="Change your own address, phone or email (self only). A new email is "
        "confirmed by the code sent to it (`confirmEmailChange`) before it replaces the old one."
    )
    async def update_contact_info(
        self, info: Info, input: s.UpdateContactInfoInput
    ) -> s.UpdateContactInfoPayload:
        return await contact_r.update_contact_info(info, input)

    @strawberry.mutation(description="Confirm a new email address with the code sent to it.")
    async def confirm_email_change(
        self, info: Info, input: s.ConfirmEmailChangeInput
    ) -> s.ConfirmEmailChangePayload:
        return await contact_r.confirm_email_change(info, input)
