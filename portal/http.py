"""The GraphQL endpoint over HTTP, as the GraphQL-over-HTTP specification describes it.

- Media types: `application/graphql-response+json` and `application/json` by the Accept
  header (none: application/json; `*/*`: application/json; nothing acceptable: 406).
  With graphql-response+json a request that did not execute (a parse, validation, limit or
  variable error) is a 400 without `data`; with application/json it is a 200, as legacy
  clients expect. Executed operations are 200 either way.
- GET runs queries only (a mutation answers 405 with `Allow: POST`); POST takes
  `application/json` (utf-8), or `multipart/form-data` for uploads; anything else is 415.
- A request that is not well formed (bad JSON, JSON nested too deeply, a `query` that is not
  a string, `variables` that are not an object, ...) is a 400 with a GraphQL error that says
  what is wrong; a body over the limit is a 413 before it is parsed, a GET's query string
  over the same limit a 414. Never a 500.
- Automatic persisted queries (portal/apq.py), a batch of up to `max_batch` operations,
  rate limits (runtime/ratelimit.py): requests per account, and sign-in attempts per
  username and per client address counted for every `signIn` field (aliases and batches
  included); a refused request is a 429 with `Retry-After`.
- Metrics and one access log line per request.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import orjson
from cross_web import HTTPException  # what strawberry raises while reading a multipart body
from graphql import OperationType as AstOperationType
from redis.asyncio import Redis
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from persistence.db import database_unavailable
from portal.apq import PersistedQueries, PersistedQueryError
from portal.auth import close_handover
from portal.errors import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE
from portal.graphql_documents import DOCUMENTS, Operation, input_username
from portal.headers import graphiql_csp, qualities
from runtime import metrics
from runtime.context import Context
from runtime.ratelimit import Decision, RateLimiter, hashed
from runtime.services import Services

log = logging.getLogger("portal.http")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
QUERY_ONLY = frozenset({OperationType.QUERY})
QUERY_OR_MUTATION = frozenset({OperationType.QUERY, OperationType.MUTATION})
# Set while an operation received over HTTP executes (portal/api.py leaves the
# WebSocket-only extensions out of it).
over_http: ContextVar[bool] = ContextVar("over_http", default=False)


class RequestError(Exception):
    """The whole HTTP request is refused before any operation runs."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str = "BAD_REQUEST",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}
        self.extensions = extensions

    def body(self) -> dict[str, Any]:
        error = {"message": str(self), "extensions": {"code": self.code, **self.extensions}}
        return {"errors": [error]}


class BodyTooLarge(Exception):
    pass


class Answer(NamedTuple):
    """An HTTP answer as the view sends it: one start message, one body message."""

    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]]  # raw, content-type and content-length included


MEDIA_TYPES = {GRAPHQL_RESPONSE: GRAPHQL_RESPONSE.encode(), JSON: JSON.encode()}
# What `get_context` is given for an HTTP request's response: nothing (Context keeps none).
NO_RESPONSE: Any = None


def answer(status: int, body: bytes, media: str, headers: dict[str, str]) -> Answer:
    raw = [(b"content-length", str(len(body)).encode()), (b"content-type", MEDIA_TYPES[media])]
    if headers:
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return Answer(status, body, raw)


class Sent(NamedTuple):
    """The request headers the view reads (each the first of its name, as Starlette's
    `Headers.get` has it), found in one pass over the ASGI scope's."""

    accept: str | None
    content_type: str | None
    content_length: str | None

    @classmethod
    def of(cls, headers: list[tuple[bytes, bytes]]) -> Sent:
        accept = content_type = content_length = None
        for name, value in headers:
            if name == b"accept":
                if accept is None:
                    accept = value
            elif name == b"content-type":
                if content_type is None:
                    content_type = value
            elif name == b"content-length" and content_length is None:
                content_length = value
        return cls(
            None if accept is None else accept.decode("latin-1"),
            None if content_type is None else content_type.decode("latin-1"),
            None if content_length is None else content_length.decode("latin-1"),
        )


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None when the client accepts neither of ours."""
    if not accept or not accept.strip():
        return JSON
    quality = qualities(accept)

    def q_of(media: str) -> float:
        for candidate in (media, "application/*", "*/*"):  # the most specific range decides
            if candidate in quality:
                return quality[candidate]
        return 0.0

    response_q, json_q = q_of(GRAPHQL_RESPONSE), q_of(JSON)
    if response_q <= 0 and json_q <= 0:
        return None
    # A wildcard alone means a client that predates graphql-response+json: answer JSON.
    if response_q > json_q or (response_q == json_q and GRAPHQL_RESPONSE in quality):
        return GRAPHQL_RESPONSE
    return JSON


def decode_json(data: str | bytes) -> Any:
    """orjson, which refuses nesting past 1024 levels with a JSONDecodeError; the stdlib
    parser would raise RecursionError, which is not one: both become a JSONDecodeError."""
    try:
        return orjson.loads(data)
    except RecursionError as exc:
        raise json.JSONDecodeError("nested too deeply", "", 0) from exc


def encode_json(data: Any) -> bytes:
    try:
        return orjson.dumps(data)
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer past 64 bits
        return json.dumps(data, separators=(",", ":"), default=str).encode()


@dataclass
class Params:
    query: str | None
    operation_name: str | None
    variables: dict[str, Any] | None
    extensions: dict[str, Any] | None

    @classmethod
    def of(cls, data: Any) -> Params:
        if not isinstance(data, dict):
            raise RequestError(400, "Each GraphQL request must be a JSON object.")
        query, name = data.get("query"), data.get("operationName")
        variables, extensions = data.get("variables"), data.get("extensions")
        if query is not None and not isinstance(query, str):
            raise RequestError(400, "`query` must be a string.")
        if name is not None and not isinstance(name, str):
            raise RequestError(400, "`operationName` must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise RequestError(400, "`variables` must be an object.")
        if extensions is not None and not isinstance(extensions, dict):
            raise RequestError(400, "`extensions` must be an object.")
        return cls(query, name, variables, extensions)


@dataclass
class Outcome:
    """One operation's answer, and what it means for the status code."""

    body: dict[str, Any]
    operation: str = "anonymous"
    kind: str = "unknown"
    executed: bool = False  # it ran (data, maybe partial, maybe null with field errors)
    status: int | None = None  # a status that applies whatever the media type
    # With graphql-response+json, the status of an operation that did not run (with
    # application/json it is 200: legacy clients read the errors).
    request_error_status: int = 400
    headers: dict[str, str] = field(default_factory=dict)

    def status_for(self, media: str) -> int:
        if self.status is not None:
            return self.status
        if self.executed or media == JSON:
            return 200
        return self.request_error_status

    def codes(self) -> list[str]:
        return [
            str((e.get("extensions") or {}).get("code", "NONE"))
            for e in self.body.get("errors") or ()
            if isinstance(e, dict)
        ]


def _refusal(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class Front:
    """Per-app state of the HTTP front: Redis (when configured), limiter, persisted queries."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.redis: Redis | None = None
        if settings.redis_url:
            self.redis = Redis.from_url(
                settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
        prefix = settings.http.redis_prefix
        self.limiter = RateLimiter(self.redis, prefix=prefix)
        self.persisted = PersistedQueries(
            self.redis,
            prefix=prefix,
            entries=settings.http.persisted_cache_size,
            ttl_seconds=settings.http.persisted_ttl_seconds,
        )

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


async def _read_body(receive: Receive) -> bytes:
    """The request's body, read as Starlette's `Request.body()` reads it (a disconnect is a
    `ClientDisconnect`), without its async generator: the JSON body is read once, here."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientDisconnect


def _limited_receive(receive: Receive, limit: int) -> Receive:
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return limited


class GraphQLOverHTTP(GraphQL[Context, None]):
    """strawberry's ASGI view with our HTTP handling (WebSockets: portal/sockets.py)."""

    services: Services  # set by the subclass

    @cached_property
    def front(self) -> Front:
        return Front(self.services)

    async def aclose(self) -> None:
        if "front" in self.__dict__:
            await self.front.close()

    def encode_json(self, data: object) -> str:
        return encode_json(data).decode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        started = time.perf_counter()
        settings = self.services.settings.http
        sent = Sent.of(scope["headers"])
        limit = settings.max_body_bytes
        if sent.content_type is not None and sent.content_type[:10].lower() == "multipart/":
            limit = settings.max_upload_bytes
        request = Request(scope, _limited_receive(receive, limit))
        media = JSON
        label = "-"
        response: Answer | Response | None
        try:
            accepted = negotiate(sent.accept)
            media = accepted or JSON
            response, label = await self._handle(request, limit, accepted, sent)
        except ClientDisconnect:
            # The client closed the connection before its request was read (a load
            # generator stopping with requests in flight, a phone losing its signal): no one
            # to answer, and no fault of ours, so no 500, traceback or error metric.
            response = None
        except BodyTooLarge:
            response = self._refuse(
                RequestError(
                    413, f"The request body is larger than {limit} bytes.", "PAYLOAD_TOO_LARGE"
                ),
                media,
            )
        except RequestError as exc:
            response = self._refuse(exc, media)
        except HTTPException as exc:  # strawberry's multipart parsing
            response = self._refuse(RequestError(exc.status_code, exc.reason), media)
        except Exception as exc:
            if not database_unavailable(exc):
                response = self._internal_error(request, media)
            else:  # before any operation ran (the context, the loaders' connection)
                log.warning("database unavailable: %s", type(exc).__name__)
                response = self._refuse(self._unavailable(), media)
        status = 499  # as proxies log a request its client closed before the answer
        try:
            if isinstance(response, Answer):
                status = response.status
                # The answer as it is: one start and one body message, no Response object.
                await send(
                    {"type": "http.response.start", "status": status, "headers": response.headers}
                )
                await send({"type": "http.response.body", "body": response.body})
            elif response is not None:  # GraphiQL's page
                status = response.status_code
                await response(scope, receive, send)
        finally:
            await request.close()  # uploaded files of a multipart body, whatever happened
            await close_handover(request)  # if no operation took it
        self._log_access(scope, label, status, started)

    def _internal_error(self, request: Request, media: str) -> Answer:
        """A bug of ours: logged, and answered without its details."""
        request_id = request.scope.get("state", {}).get("request_id", "-")
        log.exception("GraphQL request failed request_id=%s", request_id)
        message = f"Unexpected error. Quote request id {request_id} if you contact support."
        error = RequestError(500, message, "INTERNAL_SERVER_ERROR", requestId=request_id)
        return self._refuse(error, media)

    def _unavailable(self) -> RequestError:
        seconds = self.services.settings.http.unavailable_retry_after_seconds
        return RequestError(
            503,
            UNAVAILABLE_MESSAGE,
            SERVICE_UNAVAILABLE,
            {"Retry-After": str(seconds)},
            retryAfter=seconds,
        )

    def _log_access(self, scope: Scope, label: str, status: int, started: float) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        duration_ms = (time.perf_counter() - started) * 1000
        method = scope["method"]
        log.info(
            "%s %s %s %d %.1fms",
            method,
            scope["path"],
            label,
            status,
            duration_ms,
            extra={
                "method": method,
                "operation": label,
                "status": status,
                "duration_ms": round(duration_ms, 2),
            },
        )

    def _refuse(self, error: RequestError, media: str) -> Answer:
        metrics.refused(error.status)
        metrics.errors_sent([error.code])
        return answer(error.status, encode_json(error.body()), media, error.headers)

    async def _handle(
        self, request: Request, limit: int, media: str | None, sent: Sent
    ) -> tuple[Answer | Response, str]:
        if request.scope["method"] not in ("GET", "POST"):
            raise RequestError(
                405, "Use GET for queries or POST.", "METHOD_NOT_ALLOWED", {"Allow": "GET, POST"}
            )
        if request.scope["method"] == "GET":
            # A GET carries its request in the query string: the body's limit applies to it.
            # 414 (URI Too Long, RFC 9110) says what to change: send it with POST.
            most = self.services.settings.http.max_body_bytes
            if len(request.scope["query_string"]) > most:
                raise RequestError(
                    414,
                    f"The query string is larger than {most} bytes; send the request with POST.",
                    "URI_TOO_LONG",
                )
        if request.scope["method"] == "GET" and self._wants_ide(request):
            return await self.render_graphql_ide(request), "graphiql"
        if media is None:
            raise RequestError(
                406,
                f"Accept {GRAPHQL_RESPONSE} or {JSON}.",
                "NOT_ACCEPTABLE",
            )
        batch, items = await self._params(request, limit, sent)
        # No sub-response: the context does not hand one to resolvers (portal/app.py).
        context = await self.get_context(request, response=NO_RESPONSE)
        outcomes = []
        for index, params in enumerate(items):
            # Each operation of a batch has its own loaders, connection and audit trail; the
            # first one's were opened to authenticate, and are closed whatever happens.
            try:
                if index:
                    context = await self.get_context(request, response=NO_RESPONSE)
                else:
                    await self._limit_account(context, len(items))
                started = time.perf_counter()
                outcome = await self._outcome(request, context, params)
                metrics.request_served(
                    outcome.operation,
                    outcome.kind,
                    ("errors" if outcome.body.get("errors") else "ok")
                    if outcome.executed
                    else "refused",
                    time.perf_counter() - started,
                )
                metrics.errors_sent(outcome.codes())
                outcomes.append(outcome)
            finally:
                await context.loaders.close()
        if batch:
            status = 200  # each operation answers for itself
            body: Any = [o.body for o in outcomes]
            # A client that retries the batch must wait for the last refused one to be allowed.
            waits = [int(o.headers["Retry-After"]) for o in outcomes if "Retry-After" in o.headers]
            headers: dict[str, str] = {"Retry-After": str(max(waits))} if waits else {}
        else:
            [outcome] = outcomes
            status = outcome.status_for(media)
            body = outcome.body
            if media == GRAPHQL_RESPONSE and not outcome.executed:
                body.pop("data", None)  # a request error: the operation did not run
            headers = outcome.headers
        label = (
            outcomes[0].operation if len(outcomes) == 1 else ",".join(o.operation for o in outcomes)
        )
        return answer(status, encode_json(body), media, headers), label

    async def render_graphql_ide(self, request: Request) -> Response:
        response = await super().render_graphql_ide(request)
        response.headers["content-security-policy"] = graphiql_csp(self.graphql_ide_html)
        return response

    def _wants_ide(self, request: Request) -> bool:
        return (
            self.graphql_ide is not None
            and "query" not in request.query_params
            and "extensions" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        )

    async def _params(self, request: Request, limit: int, sent: Sent) -> tuple[bool, list[Params]]:
        if request.scope["method"] == "GET":
            data: Any = {}
            for key in ("query", "operationName", "variables", "extensions"):
                value = request.query_params.get(key)
                if value is not None and key in ("variables", "extensions"):
                    data[key] = self._json(value, f"`{key}`") if value else None
                else:
                    data[key] = value
            return False, [Params.of(data)]
        declared = sent.content_length
        if declared is not None:
            if not declared.isdigit():
                raise RequestError(400, "Content-Length must be a number.")
            if int(declared) > limit:
                raise BodyTooLarge
        media, _, parameters = (sent.content_type or "").partition(";")
        media = media.strip().lower()
        if media == JSON:
            charset = parameters.strip().lower().removeprefix("charset=").strip('"')
            if parameters.strip() and charset not in ("utf-8", "utf8"):
                raise RequestError(
                    415, "Send JSON in UTF-8.", "UNSUPPORTED_MEDIA_TYPE", {"Accept": JSON}
                )
            body = await _read_body(request.receive)
            if not body.strip():
                raise RequestError(400, "The request body is empty; send a GraphQL request.")
            data = self._json(body, "The request body")
        elif media == "multipart/form-data" and self.multipart_uploads_enabled:
            data = await self._multipart(request)
        else:
            raise RequestError(
                415,
                f"Send {JSON} (or multipart/form-data with files).",
                "UNSUPPORTED_MEDIA_TYPE",
            )
        if isinstance(data, list):
            settings = self.services.settings.http
            if not data or len(data) > settings.max_batch:
                raise RequestError(
                    400,
                    f"A batch holds 1 to {settings.max_batch} operations.",
                    max=settings.max_batch,
                )
            return True, [Params.of(item) for item in data]
        return False, [Params.of(data)]

    async def _multipart(self, request: Request) -> Any:
        """The GraphQL multipart request: `operations` with each file put where `map` says.
        Our own reading of it, so a malformed body or map (no boundary, a path that is not
        in `operations`) is a typed 400, not an exception in strawberry's."""
        try:
            form = await request.form()
        except (StarletteHTTPException, ValueError) as exc:  # Starlette's MultiPartException
            raise RequestError(400, "The multipart body is malformed.") from exc
        fields: dict[str, Any] = {}
        for name, default in (("operations", "{}"), ("map", "{}")):
            value = form.get(name, default)
            if not isinstance(value, str):
                raise RequestError(400, f"`{name}` must be a form field, not a file.")
            fields[name] = self._json(value, f"`{name}`")
        operations, files_map = fields["operations"], fields["map"]
        if not isinstance(files_map, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in files_map.values()
        ):
            raise RequestError(400, "`map` must map each file's name to a list of paths.")
        for name, paths in files_map.items():
            upload = form.get(name)
            if upload is None or isinstance(upload, str):
                raise RequestError(400, "A file named in `map` is missing from the request.")
            for path in paths:
                _place(operations, path, upload)
        return operations

    def _json(self, data: str | bytes, what: str) -> Any:
        try:
            return decode_json(data)
        except (json.JSONDecodeError, ValueError) as exc:
            raise RequestError(400, f"{what} is not valid JSON: {_reason(exc)}.") from exc

    async def _limit_account(self, context: Context, operations: int) -> None:
        principal = context.principal
        if principal is None:
            return
        decision = await self.front.limiter.hit(
            f"req:acct:{principal.account_id}",
            self.services.settings.http.rates.requests_per_account,
            context.now,
            cost=operations,
        )
        if not decision.allowed:
            metrics.rate_limited("requests_per_account")
            raise _too_many("Too many requests for this account", decision)

    async def _outcome(self, request: Request, context: Context, params: Params) -> Outcome:
        query = params.query
        register: str | None = None
        try:
            lookup = await self.front.persisted.resolve(query, params.extensions)
        except PersistedQueryError as exc:
            return _persisted_refusal(exc)
        if lookup is not None:
            query, register = lookup.query, lookup.register
            metrics.persisted_query("registered" if register else "hit")
        if not query:
            raise RequestError(400, "No GraphQL query found in the request.")
        settings = self.services.settings.http
        document = DOCUMENTS.get(query, settings.query.max_tokens)
        if document.error is not None:
            return Outcome({"data": None, "errors": [document.error.formatted]})
        operation = document.operation(params.operation_name)
        if operation is None:
            message = (
                f"Unknown operation named '{params.operation_name}'."
                if params.operation_name
                else "Name the operation to run (`operationName`): the document holds several."
            )
            raise RequestError(400, message)
        label, kind = metrics.operation_label(operation.name), operation.type.value
        if operation.type is AstOperationType.SUBSCRIPTION:
            raise RequestError(
                400, "Subscriptions are served over WebSocket at this path.", "BAD_REQUEST"
            )
        if request.scope["method"] == "GET" and operation.type is not AstOperationType.QUERY:
            raise RequestError(
                405,
                "Only queries may be sent with GET; send mutations with POST.",
                "METHOD_NOT_ALLOWED",
                {"Allow": "POST"},
            )
        if operation.type is not AstOperationType.QUERY:
            await context.loaders.for_writes()
        refused = await self._limit_sign_in(request, context, operation, params.variables or {})
        if refused is not None:
            return Outcome(
                _refusal(
                    f"Too many sign-in attempts; try again in {refused.retry_after_seconds} "
                    "seconds.",
                    "RATE_LIMITED",
                    retryAfter=refused.retry_after_seconds,
                ),
                label,
                kind,
                status=429,
                headers={"Retry-After": str(refused.retry_after_seconds)},
            )
        # Executed here rather than in a method of its own: every frame of the chain from the
        # edge down is resumed again each time the operation waits for the database.
        running = over_http.set(True)
        try:
            result = await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=QUERY_ONLY
                if request.scope["method"] == "GET"
                else QUERY_OR_MUTATION,
                operation_extensions=params.extensions,
            )
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as exc:
            raise RequestError(400, "The request does not name an operation to run.") from exc
        finally:
            over_http.reset(running)
        if register is not None and not isinstance(result, PreExecutionError):
            await self.front.persisted.put(register, query)
        body: dict[str, Any] = process_result(result)  # type: ignore[assignment]
        executed = not isinstance(result, PreExecutionError) and (
            result.data is not None or any(e.path for e in result.errors or ())
        )
        outcome = Outcome(body, label, kind, executed=executed)
        if SERVICE_UNAVAILABLE in outcome.codes():
            # Whatever else resolved, the client should retry the operation as a whole.
            outcome.status = 503
            seconds = self.services.settings.http.unavailable_retry_after_seconds
            outcome.headers["Retry-After"] = str(seconds)
        return outcome

    async def _limit_sign_in(
        self, request: Request, context: Context, operation: Operation, variables: dict[str, Any]
    ) -> Decision | None:
        """Every credential field of the operation is one attempt, counted per client address
        and per username before anything runs; past either limit, nothing runs."""
        fields = operation.credential_fields
        if not fields:
            return None
        rates, limiter = self.services.settings.http.rates, self.front.limiter
        address = request.client.host if request.client else "unknown"
        checks = [("sign_in_per_address", f"signin:addr:{address}", len(fields))]
        usernames = Counter(u for f in fields if (u := input_username(f, variables)))
        checks += [
            ("sign_in_per_username", f"signin:user:{hashed(name)}", count)
            for name, count in usernames.items()
        ]
        for limit, key, attempts in checks:
            decision = await limiter.hit(key, getattr(rates, limit), context.now, attempts)
            if not decision.allowed:
                metrics.rate_limited(limit)
                return decision
        return None


def _too_many(message: str, decision: Decision) -> RequestError:
    seconds = decision.retry_after_seconds
    return RequestError(
        429,
        f"{message}; try again in {seconds} seconds.",
        "RATE_LIMITED",
        {"Retry-After": str(seconds)},
        retryAfter=seconds,
    )


def _persisted_refusal(exc: PersistedQueryError) -> Outcome:
    metrics.persisted_query("miss" if exc.code == "PERSISTED_QUERY_NOT_FOUND" else "refused")
    body = {"errors": [exc.graphql_error().formatted]}
    if exc.code == "PERSISTED_QUERY_NOT_FOUND":
        # Not a client fault, the first step of the protocol: 200 for JSON clients; 404 (not
        # 400, which makes Apollo's link turn persisted queries off) for the new media type.
        return Outcome(body, request_error_status=404)
    if exc.code == "PERSISTED_QUERY_NOT_SUPPORTED":
        return Outcome(body)
    return Outcome(body, status=400)


def _place(operations: Any, path: str, upload: Any) -> None:
    """Put `upload` at `path` (`variables.input.files.0`) of `operations`: every step but the
    last must exist, and the last names a key of an object or an index of a list."""
    *steps, last = path.split(".")
    target = operations
    try:
        for step in steps:
            target = target[int(step)] if isinstance(target, list) else target[step]
        if isinstance(target, list):
            target[int(last)] = upload
        elif isinstance(target, dict):
            target[last] = upload
        else:
            raise TypeError(type(target).__name__)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RequestError(400, "A path in `map` does not name a place in `operations`.") from exc


def _reason(exc: Exception) -> str:
    text = str(exc).split(":", 1)[0].strip()
    return text[:80] or "malformed"
