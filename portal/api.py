"""The GraphQL API: the schema's root types (schema/) assembled with the edge's extensions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from portal.errors import AuditReads, PortalErrors
from portal.limits import GuardedDocuments
from portal.websocket import AuditDeliveries, SubscriptionsOnly
from schema import NODE_TYPES, Mutation, Query, Subscription
from schema.execution import lean_resolvers
from schema.scalars import AWARE_DATETIME
from schema.subscription import SharedEventExecution


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Errors are classified and unexpected ones logged by `PortalErrors`; nothing to add."""


schema = PortalSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=NODE_TYPES,
    scalar_overrides={datetime: AWARE_DATETIME},
    execution_context_class=SharedEventExecution,  # PortalExecutionContext, events shared
    extensions=[
        PortalErrors,
        AuditReads,
        SubscriptionsOnly,  # over a WebSocket: subscriptions only (runtime/realtime)
        AuditDeliveries,  # each event's audit written before it is sent (portal/websocket.py)
        GuardedDocuments,  # parse and validate once per document; refuse too big ones
    ],
)
lean_resolvers(schema)
