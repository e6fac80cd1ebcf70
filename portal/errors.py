"""Errors turned into GraphQL errors in one place: typed codes for expected failures, and a
generic message with the request id for everything else (no traceback, SQL or path)."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from graphql.language import VariableDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult

from domain.access import AccessDenied
from domain.realtime import ResumeWindowPassed
from domain.scopes import AccessReason
from domain.terms import TermsAcceptanceRequired
from persistence.db import database_unavailable
from runtime.context import Context, Unauthenticated
from schema.base import BadInput

log = logging.getLogger("portal.errors")

FORBIDDEN_MESSAGES = {
    AccessReason.PROXY_SCOPE: "Your proxy access does not include this part of the record.",
    AccessReason.ADOLESCENT_CONFIDENTIAL: "This part of an adolescent's record is confidential.",
    AccessReason.AGED_OUT: "This patient is now an adult; access given for a minor has ended.",
    AccessReason.GRANT_EXPIRED: "Your proxy access to this patient has expired.",
    AccessReason.GRANT_NOT_ACTIVE: "Your proxy access to this patient is not active.",
    AccessReason.NOT_A_PATIENT: "You may not act for this patient.",
    AccessReason.SELF_ONLY: "Only the patient can see this.",
    AccessReason.HELD_FOR_REVIEW: "This result is not released yet.",
    AccessReason.SENSITIVE_CATEGORY: "The patient keeps this part of the record private.",
    AccessReason.HIDDEN_BY_PATIENT: "The patient keeps this part of the record private.",
    AccessReason.WITHHELD_BY_PROVIDER: "The provider withheld this note; see why on the note.",
}
# The database is down, restarting or unreachable: a write that could not reach it did not
# commit, and the same request may be sent again (a payment with its idempotency key: one
# whose card was charged is recorded by reconciliation and answered on retry). The HTTP
# front answers 503 with Retry-After (portal/http.py).
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Try again shortly."
NO_SUCH_OPERATION = (
    "Name the operation to run with `operationName`: the document holds none of that name, "
    "or several."
)
SUBSCRIPTIONS_ONLY = (
    "Only subscriptions run over the WebSocket; send queries and mutations over HTTP."
)
RESUME_WINDOW_PASSED = (
    "The events after this afterSeq are no longer kept, so some cannot be replayed. Refetch "
    "what you show with queries, then subscribe again without afterSeq."
)


def _typed(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def _is_variable_error(error: GraphQLError) -> bool:
    """graphql-core's refusal of a request's variable values (wrong type, out of range,
    missing): reported at the variable's definition, before anything runs. The message is
    graphql-core's and names the variable and what was expected; the inner error it wraps
    (`original_error`) is the scalar's or input object's own refusal, not a fault of ours."""
    return (
        error.path is None
        and bool(error.nodes)
        and all(isinstance(node, VariableDefinitionNode) for node in error.nodes or ())
    )


# graphql-core's last error when a request's variables hold more faults than it reports (50):
# no variable named, no location, nothing to run (graphql.execution.values).
TOO_MANY_VARIABLE_ERRORS = (
    "Too many errors processing variables, error limit reached. Execution aborted."
)


def classify(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if not (error.extensions or {}).get("code") and (
        _is_variable_error(error)
        or (original is None and error.message == TOO_MANY_VARIABLE_ERRORS and not error.nodes)
    ):
        return _typed(error, error.message, {"code": "BAD_USER_INPUT"})
    if original is None:
        # Parse and validation errors: the client's document is at fault, and says why.
        return error
    if isinstance(original, Unauthenticated):
        return _typed(error, str(original), {"code": "UNAUTHENTICATED"})
    if isinstance(original, TermsAcceptanceRequired):
        return _typed(error, str(original), {"code": "TERMS_ACCEPTANCE_REQUIRED"})
    if isinstance(original, AccessDenied):
        extensions: dict[str, Any] = {"code": "FORBIDDEN", "reason": original.reason.value}
        if original.area is not None:
            extensions["area"] = original.area.name
        return _typed(error, FORBIDDEN_MESSAGES[original.reason], extensions)
    if isinstance(original, ResumeWindowPassed):
        extensions = {"code": "RESUME_WINDOW_PASSED", "prunedThrough": str(original.pruned_through)}
        return _typed(error, RESUME_WINDOW_PASSED, extensions)
    if isinstance(original, BadInput):
        return _typed(error, str(original), {"code": "BAD_USER_INPUT"})
    if isinstance(original, GraphQLError) and (original.extensions or {}).get("code"):
        return error
    # Over a WebSocket (HTTP refuses these before executing): an operationName the document
    # does not hold, and a query or mutation started with the legacy protocol's `start`.
    if isinstance(original, CannotGetOperationTypeError):
        return _typed(error, NO_SUCH_OPERATION, {"code": "BAD_REQUEST"})
    if isinstance(original, InvalidOperationTypeError):
        return _typed(error, SUBSCRIPTIONS_ONLY, {"code": "BAD_REQUEST"})
    if database_unavailable(original):
        log.warning(
            "database unavailable request_id=%s path=%s: %s",
            request_id,
            error.path,
            type(original).__name__,
        )
        return _typed(error, UNAVAILABLE_MESSAGE, {"code": SERVICE_UNAVAILABLE})
    log.error(
        "unexpected error request_id=%s path=%s",
        request_id,
        error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _typed(
        error,
        f"Unexpected error. Quote request id {request_id} if you contact support.",
        {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


# graphql-core's hint after a name it does not know ("Did you mean 'viewer'?", "Did you mean
# the enum value 'WEIGHT'?"). Names are GraphQL names, which hold no `?`.
SUGGESTION = re.compile(r"\s*Did you mean (?:the enum value )?'[^?]*\?")


def without_suggestion(error: GraphQLError) -> GraphQLError:
    """The error without graphql-core's suggestion: validation leaves them out already
    (portal/graphql_documents.py); this catches those of variable coercion, which strawberry
    gives no way to turn off."""
    if "Did you mean" not in error.message:
        return error
    return _typed(error, SUGGESTION.sub("", error.message), dict(error.extensions or {}))


class PortalErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        request_id = context.request_id if isinstance(context, Context) else "-"
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [classify(e, request_id) for e in result.errors]
            # Suggestions name parts of the schema: off wherever introspection is.
            if isinstance(context, Context) and not context.services.settings.http.introspection:
                result.errors = [without_suggestion(e) for e in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each event of a subscription is classified the same way before it is sent."""
        context = self.execution_context.context
        request_id = context.request_id if isinstance(context, Context) else "-"
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [classify(e, request_id) for e in result.errors]
        yield


class AuditReads(SchemaExtension):
    """After each operation, write the audit of what it read and wrote, and of the reads the
    access policy refused: on the request's own connection (PostgreSQL: one INSERT,
    committed when it returns), before the response leaves, so a process killed right after
    answering has lost no audit row."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(context, Context):
            # Before `PortalErrors` (the outer extension) replaces the errors with typed ones.
            result = self.execution_context.result
            for error in getattr(result, "errors", None) or ():
                if isinstance(error.original_error, AccessDenied):
                    path = ".".join(str(key) for key in error.path or ())
                    context.audit_refused(error.original_error, path)
            name = self.execution_context.operation_name or "anonymous"
            entries = context.audit_entries(name)
            await context.services.audit.write(entries, context.loaders.session.writing)
