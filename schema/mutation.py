"""The root Mutation. Each mutation takes one `input` and returns a payload with `errors`."""

from __future__ import annotations

import strawberry

from resolvers import auth as auth_r
from resolvers import sessions as sessions_r
from schema.auth import (
    RefreshSessionInput,
    RefreshSessionPayload,
    SignInInput,
    SignInPayload,
    SignOutEverywhereInput,
    SignOutEverywherePayload,
    SignOutInput,
    SignOutPayload,
    SignOutSessionInput,
    SignOutSessionPayload,
)
from schema.base import Info
from schema.mutations.accounts import AccountMutations
from schema.mutations.appointments import AppointmentMutations
from schema.mutations.billing import BillingMutations
from schema.mutations.devices import DeviceMutations
from schema.mutations.forms import FormMutations
from schema.mutations.messages import MessageMutations
from schema.mutations.notes import NoteMutations
from schema.mutations.notifications import NotificationMutations
from schema.mutations.patient_tasks import PatientTaskMutations
from schema.mutations.proxies import ProxyMutations
from schema.mutations.records import RecordMutations
from schema.mutations.results import ResultMutations
from schema.mutations.sso import SsoMutations


@strawberry.type
class Mutation(
    AccountMutations,
    AppointmentMutations,
    BillingMutations,
    FormMutations,
    DeviceMutations,
    MessageMutations,
    NotificationMutations,
    NoteMutations,
    PatientTaskMutations,
    ProxyMutations,
    RecordMutations,
    ResultMutations,
    SsoMutations,
):
    @strawberry.mutation(
        description="Exchange a username and password for an access and a refresh token. "
        "A wrong password and an unknown username get the same INVALID_CREDENTIALS."
    )
    async def sign_in(self, info: Info, input: SignInInput) -> SignInPayload:
        return await auth_r.sign_in(info, input)

    @strawberry.mutation(
        description="Trade a refresh token for new tokens. Each refresh token works once: "
        "using one again ends the whole session (SESSION_REVOKED)."
    )
    async def refresh_session(
        self, info: Info, input: RefreshSessionInput
    ) -> RefreshSessionPayload:
        return await auth_r.refresh_session(info, input)

    @strawberry.mutation(
        description="End the session the refresh token belongs to: its access tokens stop "
        "working at once, over HTTP and WebSocket."
    )
    async def sign_out(self, info: Info, input: SignOutInput) -> SignOutPayload:
        return await auth_r.sign_out(info, input)

    @strawberry.mutation(
        description="End one of the viewer's sessions (`viewer.sessions`), this one or another "
        "device's. Not one of the viewer's open sessions: SESSION_NOT_FOUND."
    )
    async def sign_out_session(
        self, info: Info, input: SignOutSessionInput
    ) -> SignOutSessionPayload:
        return await sessions_r.sign_out_session(info, input)

    @strawberry.mutation(
        description="End every session of the viewer's account, this one too unless `keepCurrent`."
    )
    async def sign_out_everywhere(
        self, info: Info, input: SignOutEverywhereInput | None = None
    ) -> SignOutEverywherePayload:
        return await sessions_r.sign_out_everywhere(info, input or SignOutEverywhereInput())
