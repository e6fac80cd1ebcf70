"""The root Mutation. Each mutation takes one `input` and returns a payload with `errors`."""

from __future__ import annotations

import strawberry

from schema.mutations.accounts import AccountMutations
from schema.mutations.appointment_requests import AppointmentRequestMutations
from schema.mutations.appointments import AppointmentMutations
from schema.mutations.billing import BillingMutations
from schema.mutations.contact import ContactMutations
from schema.mutations.devices import DeviceMutations
from schema.mutations.messages import MessageMutations
from schema.mutations.notes import NoteMutations
from schema.mutations.notifications import NotificationMutations
from schema.mutations.passwords import PasswordMutations
from schema.mutations.profile import ProfileMutations
from schema.mutations.proxies import ProxyMutations
from schema.mutations.questionnaires import QuestionnaireMutations
from schema.mutations.records import RecordMutations
from schema.mutations.renewals import RenewalMutations
from schema.mutations.results import ResultMutations
from schema.mutations.sessions import SessionMutations
from schema.mutations.sso import SsoMutations
from schema.mutations.terms import TermsMutations
from schema.mutations.totp import TotpMutations


@strawberry.type
class Mutation(
    AccountMutations,
    PasswordMutations,
    TotpMutations,
    ContactMutations,
    AppointmentMutations,
    BillingMutations,
    QuestionnaireMutations,
    DeviceMutations,
    MessageMutations,
    NotificationMutations,
    NoteMutations,
    AppointmentRequestMutations,
    RenewalMutations,
    ProfileMutations,
    TermsMutations,
    ProxyMutations,
    RecordMutations,
    ResultMutations,
    SsoMutations,
    SessionMutations,
):
    pass
