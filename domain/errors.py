"""Expected failures: the domain raises them, a mutation reports them in its payload's errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A failure the client can act on (wrong password, slot taken, too late to cancel).

    `code` is the name of a member of the mutation family's error code enum (SCREAMING_CASE);
    `field` names the input field at fault, if one is. The message is shown to the user, so it
    never carries internals or PHI.
    """

    code: ClassVar[str]
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        # Other payload fields answered with the error (e.g. ALREADY_BOOKED's appointment).
        self.payload: dict[str, Any] = {}
        super().__init__(self.message)

    def with_payload(self, **fields: Any) -> DomainError:
        self.payload.update(fields)
        return self


class DomainErrors(DomainError):
    """Several expected failures at once: every invalid field of a form, not just the first."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__(errors[0].message, errors[0].field)
        self.errors = list(errors)
        self.code = errors[0].code  # type: ignore[misc]


class Collector:
    """Runs checks and keeps their failures, so a form reports all of them at once."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def check(self, check: Callable[..., T], *args: Any) -> T | None:
        try:
            return check(*args)
        except DomainErrors as failed:
            self.errors.extend(failed.errors)
        except DomainError as failed:
            self.errors.append(failed)
        return None

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise DomainErrors(self.errors)


class BrokenInvariant(RuntimeError):
    """Something our own code or data guarantees did not hold: a bug, not the client's
    mistake. Raised where an `assert` would do, since `python -O` strips those; the edge
    masks it as an internal error and logs it."""
