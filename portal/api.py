"""The GraphQL API: the schema's root types (schema/) assembled with the edge's extensions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from portal.errors import AuditReads, PortalErrors
from portal.extension_hooks import DirectHooksRunner
from portal.http import over_http
from portal.limits import GuardedDocuments
from portal.websocket import AuditDeliveries, SubscriptionsOnly
from schema import NODE_TYPES, Mutation, Query, Subscription
from schema.execution import eager_resolvers, lean_resolvers
from schema.scalars import AWARE_DATETIME
from schema.subscription import SharedEventExecution

# Extensions with nothing to do outside a WebSocket (they look for a SocketContext or a
# stream): left out of operations over HTTP, where each would cost its hooks for nothing.
SOCKET_ONLY = (SubscriptionsOnly, AuditDeliveries)


class PortalSchema(strawberry.Schema):
    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        if over_http.get() and not self.directives:
            # Only the extensions with something to do over HTTP are made (each operation
            # makes its own, strawberry's per-request isolation).
            return [extension() for extension in HTTP_EXTENSIONS]
        extensions = super().get_extensions(sync)
        if over_http.get():
            return [e for e in extensions if not isinstance(e, SOCKET_ONLY)]
        return extensions

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """The extensions' hooks driven directly (portal/extension_hooks.py)."""
        return DirectHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Errors are classified and unexpected ones logged by `PortalErrors`; nothing to add."""


EXTENSIONS: list[type[SchemaExtension]] = [
    PortalErrors,
    AuditReads,
    SubscriptionsOnly,  # over a WebSocket: subscriptions only (runtime/realtime)
    AuditDeliveries,  # each event's audit written before it is sent (portal/websocket.py)
    GuardedDocuments,  # parse and validate once per document; refuse too big ones
]
HTTP_EXTENSIONS = [e for e in EXTENSIONS if not issubclass(e, SOCKET_ONLY)]

schema = PortalSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=NODE_TYPES,
    scalar_overrides={datetime: AWARE_DATETIME},
    execution_context_class=SharedEventExecution,  # PortalExecutionContext, events shared
    extensions=EXTENSIONS,
)
lean_resolvers(schema)
eager_resolvers(schema)
