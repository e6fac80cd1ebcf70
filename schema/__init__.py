"""The GraphQL schema: root types combined in one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from portal.limits import GuardedDocuments
from portal.realtime.sockets import SubscriptionsOnly
from schema import enums as _enums  # noqa: F401  (registers the domain enums with strawberry)
from schema.appointments import Appointment, Slot
from schema.attachments import Attachment
from schema.billing import Statement
from schema.errors import AuditReads, PortalErrors
from schema.execution import PortalExecutionContext, lean_resolvers
from schema.messages import Message, MessageThread
from schema.mutation import Mutation
from schema.notifications import Notification
from schema.patient import Patient
from schema.people import Account, Department, Provider
from schema.proxies import ProxyGrant
from schema.query import Query
from schema.records import HealthReading, RecordsReleaseRequest
from schema.results import Result
from schema.scalars import AWARE_DATETIME
from schema.subscription import Subscription
from schema.summary import Allergy, Immunization, Medication, Problem

NODE_TYPES: list[type] = [
    Patient,
    Provider,
    Department,
    Account,
    Appointment,
    Slot,
    Result,
    MessageThread,
    Message,
    Attachment,
    Notification,
    Medication,
    Allergy,
    Problem,
    Immunization,
    Statement,
    ProxyGrant,
    HealthReading,
    RecordsReleaseRequest,
]


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Errors are classified and unexpected ones logged by `PortalErrors`; nothing to add."""


schema = PortalSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=NODE_TYPES,
    scalar_overrides={datetime: AWARE_DATETIME},
    execution_context_class=PortalExecutionContext,
    extensions=[
        PortalErrors,
        AuditReads,
        SubscriptionsOnly,  # over a WebSocket: subscriptions only (portal/realtime)
        GuardedDocuments,  # parse and validate once per document; refuse too big ones
    ],
)
lean_resolvers(schema)
