"""Contact details: updateContactInfo, confirmEmailChange; their inputs, payloads and error
codes (use cases: usecases/contact.py; rules: domain/contact.py)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain import contact as rules
from resolvers import contact as r
from resolvers import patients as patients_r
from schema.base import BadInput, Info, internal_id
from schema.payloads import UserError, one_per_request, user_errors
from usecases import contact as uc

if TYPE_CHECKING:
    from schema.patient import Patient

PatientRef = Annotated["Patient", strawberry.lazy("schema.patient")]


@strawberry.enum(description="Why a contact change was refused (nothing was changed).")
class ContactErrorCode(Enum):
    INVALID_ID = "INVALID_ID"
    NOTHING_TO_CHANGE = "NOTHING_TO_CHANGE"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_ADDRESS = "INVALID_ADDRESS"
    NO_CHANGE_PENDING = "NO_CHANGE_PENDING"
    INVALID_CODE = "INVALID_CODE"
    CODE_EXPIRED = "CODE_EXPIRED"
    CODE_USED = "CODE_USED"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    EMAIL_IN_USE = "EMAIL_IN_USE"
    ONE_CREDENTIAL_PER_REQUEST = "ONE_CREDENTIAL_PER_REQUEST"


@strawberry.type
class ContactError(UserError):
    code: ContactErrorCode


@strawberry.input
class AddressInput:
    line1: str
    line2: str | None = None
    city: str
    state: str = strawberry.field(description="Two-letter US state code.")
    postal_code: str = strawberry.field(description="ZIP or ZIP+4.")

    def value(self) -> uc.NewAddress:
        return uc.NewAddress(self.line1, self.line2, self.city, self.state, self.postal_code)


@strawberry.input
class UpdateContactInfoInput:
    patient_id: strawberry.ID = strawberry.field(description="Your own record (self only).")
    address: AddressInput | None = None
    phone: str | None = None
    email: str | None = strawberry.field(
        default=None,
        description="A new address replaces the old one only once confirmed with the code "
        "mailed to it (`confirmEmailChange`).",
    )

    def command(self) -> uc.UpdateContactInfo:
        address = self.address.value() if self.address is not None else None
        return uc.UpdateContactInfo(_patient_id(self.patient_id), address, self.phone, self.email)


@strawberry.input
class ConfirmEmailChangeInput:
    patient_id: strawberry.ID
    code: str

    def command(self) -> uc.ConfirmEmailChange:
        return uc.ConfirmEmailChange(_patient_id(self.patient_id), self.code)


@strawberry.type
class UpdateContactInfoPayload:
    patient: PatientRef | None = None
    pending_email: str | None = strawberry.field(
        default=None, description="Waiting for the code sent to it; not yet on file."
    )
    errors: list[ContactError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmEmailChangePayload:
    patient: PatientRef | None = None
    errors: list[ContactError] = strawberry.field(default_factory=list)


def _patient_id(global_id: str) -> str:
    try:
        return internal_id(global_id, "Patient")
    except BadInput:
        raise rules.InvalidId() from None


ERRORS = (ContactError, ContactErrorCode)


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        description="Change your own address, phone or email (self only). A new email is "
        "confirmed by the code sent to it (`confirmEmailChange`) before it replaces the old one."
    )
    @user_errors(UpdateContactInfoPayload, *ERRORS)
    async def update_contact_info(
        self, info: Info, input: UpdateContactInfoInput
    ) -> UpdateContactInfoPayload:
        command = input.command()
        pending = await r.update_contact_info(info.context, command)
        patient = await patients_r.patient(info, command.patient_id)
        return UpdateContactInfoPayload(patient=patient, pending_email=pending)

    @strawberry.mutation(description="Confirm a new email address with the code sent to it.")
    @user_errors(ConfirmEmailChangePayload, *ERRORS)
    @one_per_request
    async def confirm_email_change(
        self, info: Info, input: ConfirmEmailChangeInput
    ) -> ConfirmEmailChangePayload:
        command = input.command()
        await r.confirm_email_change(info.context, command)
        return ConfirmEmailChangePayload(patient=await patients_r.patient(info, command.patient_id))
