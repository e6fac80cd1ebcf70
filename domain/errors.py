"""Expected failures: the domain raises them, a mutation reports them in its payload's errors."""

from __future__ import annotations

from typing import ClassVar


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
        super().__init__(self.message)
