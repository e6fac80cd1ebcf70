"""Log lines carry the request id of the request that wrote them.

`LOG_FORMAT=json` (the default when PORTAL_ENV=production) writes one JSON object per line
for a log pipeline: time, level, logger, message, request_id, and any `extra={...}` fields
(the access line of each GraphQL request carries operation, status, duration_ms...).
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

FORMAT = "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s %(message)s"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
    "color_message",  # uvicorn's message with terminal colours
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(line, default=str).decode()


def use_json(env: Mapping[str, str] | None = None) -> bool:
    e = os.environ if env is None else env
    default = "json" if e.get("PORTAL_ENV") == "production" else "text"
    return e.get("LOG_FORMAT", default).lower() == "json"


def configure(level: int | None = None, json: bool | None = None) -> None:
    """`LOG_LEVEL` (default INFO) and `LOG_FORMAT` (`json` or `text`) when not given."""
    # Neither format names the source line, thread or process of a line: not looking them
    # up makes every record (one access line per request) cheaper (the logging HOWTO's
    # "Optimization"); exceptions keep their whole traceback.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if level is None:
        level = logging.getLevelNamesMapping().get(os.environ.get("LOG_LEVEL", "INFO").upper())
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    as_json = use_json() if json is None else json
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level or logging.INFO)
