"""Issue 14: the domain's error codes and the schema's error-code enums cannot drift apart.

A mutation answers a `DomainError` with `codes[exc.code]` (schema/payloads.py): a code no
enum declares would be a KeyError, i.e. an unexpected error instead of a typed one. So every
code the domain can raise must be a member of an error-code enum of the schema, and every
member of those enums must be a code something raises or answers (no dead codes).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from enum import Enum
from pathlib import Path

import domain
import schema
import usecases
from domain.errors import DomainError

ROOT = Path(__file__).resolve().parent.parent
ENUM_MEMBER = re.compile(r'^\s*([A-Z][A-Z0-9_]*) = "\1".*$', re.MULTILINE)


def _import_all(package: object) -> None:
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):  # type: ignore[attr-defined]
        importlib.import_module(module.name)


def _subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def domain_codes() -> dict[str, str]:
    """code -> the class that raises it, for every concrete DomainError."""
    for package in (domain, usecases):
        _import_all(package)
    return {
        sub.code: f"{sub.__module__}.{sub.__qualname__}"
        for sub in _subclasses(DomainError)
        if "code" in vars(sub)
    }


def schema_enums() -> dict[str, set[str]]:
    _import_all(schema)
    enums: dict[str, set[str]] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("schema"):
            continue
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Enum) and name.endswith("ErrorCode"):
                enums[name] = {member.name for member in value}
    return enums


def test_every_domain_code_is_in_an_error_code_enum() -> None:
    declared = set().union(*schema_enums().values())
    missing = {code: where for code, where in domain_codes().items() if code not in declared}
    assert missing == {}, f"codes raised but in no *ErrorCode enum: {missing}"


def test_every_enum_member_is_raised_or_answered_somewhere() -> None:
    """A member no DomainError declares must at least be answered by name in our code
    (e.g. a resolver's own refusal, or a deprecated member kept for old clients)."""
    raised = set(domain_codes())
    sources = "\n".join(
        path.read_text()
        for folder in ("resolvers", "schema", "usecases", "portal", "domain")
        for path in (ROOT / folder).rglob("*.py")
    )
    # Without the enums' own `NAME = "NAME"` lines, which would name every member.
    uses = ENUM_MEMBER.sub("", sources)
    dead = {
        f"{enum}.{member}"
        for enum, members in schema_enums().items()
        for member in members - raised
        if not re.search(rf"\b{member}\b", uses)
    }
    assert dead == set(), f"error codes nothing raises or answers: {sorted(dead)}"
