"""Messaging configuration from environment variables (read by runtime.config.from_env).

| variable | default | meaning |
| --- | --- | --- |
| `MESSAGE_MAX_BODY_CHARS`, `MESSAGE_MAX_SUBJECT_CHARS` | `5000`, `200` | text limits |
| `ATTACHMENTS_MAX_COUNT`, `ATTACHMENTS_MAX_MB` | `5`, `10` | per message, per file |
| `ATTACHMENTS_DIR` | `var/attachments` | where uploaded files are stored |
| `MESSAGE_POOLS` | billing, scheduling and refill pools | `category=Team name,...` |
| `MESSAGE_REPLY_BUSINESS_DAYS` | `2` | expected reply time |
| `MESSAGE_REPLY_DAYS_BY_CATEGORY` | empty | e.g. `billing=5` |
| `MESSAGE_EVISIT_BILLED` | `medical_question:provider` | `category:provider|pool,...` |
| `MESSAGE_EVISIT_FEE_CENTS` | unset | an estimate shown with the e-visit notice |
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.attachments import MB, AttachmentPolicy
from domain.messages import DEFAULT_POOLS, Category, MessagingPolicy, RecipientKind

DEFAULT_ATTACHMENTS_DIR = "var/attachments"


def _pairs(value: str) -> list[tuple[str, str]]:
    items = (item.split("=", 1) for item in value.split(",") if item.strip())
    return [(key.strip().lower(), rest.strip()) for key, rest in items]


def _category(name: str) -> Category:
    return Category(name.strip().lower())


def messaging_from_env(e: Mapping[str, str]) -> MessagingPolicy:
    pools = e.get("MESSAGE_POOLS")
    fee = e.get("MESSAGE_EVISIT_FEE_CENTS", "").strip()
    billed = e.get("MESSAGE_EVISIT_BILLED", "medical_question:provider")
    return MessagingPolicy(
        max_body_chars=int(e.get("MESSAGE_MAX_BODY_CHARS", "5000")),
        max_subject_chars=int(e.get("MESSAGE_MAX_SUBJECT_CHARS", "200")),
        attachments=AttachmentPolicy(
            max_count=int(e.get("ATTACHMENTS_MAX_COUNT", "5")),
            max_bytes=int(float(e.get("ATTACHMENTS_MAX_MB", "10")) * MB),
        ),
        pools=({_category(k): v for k, v in _pairs(pools)} if pools is not None else DEFAULT_POOLS),
        reply_business_days=int(e.get("MESSAGE_REPLY_BUSINESS_DAYS", "2")),
        reply_business_days_by_category={
            _category(k): int(v) for k, v in _pairs(e.get("MESSAGE_REPLY_DAYS_BY_CATEGORY", ""))
        },
        evisit_billed=frozenset(
            (_category(category), RecipientKind(kind.strip().lower()))
            for category, _, kind in (item.partition(":") for item in billed.split(","))
            if category.strip()
        ),
        evisit_fee_cents=int(fee) if fee else None,
    )
