"""Which files a patient may upload: the type is decided by the content, never by the name.

Allowed: gif, png, tiff, jpeg, plain UTF-8 text and pdf (DESIGN section 3). A file is
recognised by its first bytes (magic numbers); text is content that decodes as UTF-8 and
holds no control characters but tab, line feed, form feed and carriage return. Everything
else, an empty file included, is refused. How many files and how large is `AttachmentPolicy`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import DomainError

MB = 1024 * 1024

GIF, PNG, TIFF, JPEG = "image/gif", "image/png", "image/tiff", "image/jpeg"
TEXT, PDF = "text/plain", "application/pdf"

# Magic numbers at the very start of the content.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"II*\x00", TIFF),  # little-endian TIFF
    (b"MM\x00*", TIFF),  # big-endian TIFF
    (b"\xff\xd8\xff", JPEG),
    (b"%PDF-", PDF),
)

# The file name extensions each type may carry; the first is added when a name lacks one.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    GIF: (".gif",),
    PNG: (".png",),
    TIFF: (".tif", ".tiff"),
    JPEG: (".jpg", ".jpeg"),
    TEXT: (".txt",),
    PDF: (".pdf",),
}
ALL_TYPES = frozenset(EXTENSIONS)
IMAGE_TYPES = frozenset({GIF, PNG, TIFF, JPEG})

# C0 controls and DEL, except tab, line feed, form feed and carriage return.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UTF8_BOM = b"\xef\xbb\xbf"
MAX_FILENAME_LENGTH = 120


def sniff(content: bytes) -> str | None:
    """The MIME type of an allowed file by its content; None if it is not one we accept."""
    for signature, mime in _SIGNATURES:
        if content.startswith(signature):
            return mime
    return TEXT if _is_text(content) else None


def _is_text(content: bytes) -> bool:
    body = content.removeprefix(_UTF8_BOM)
    if not body or _BINARY_BYTES.search(body):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class AttachmentPolicy:
    max_count: int = 5
    max_bytes: int = 10 * MB


@dataclass(frozen=True)
class IncomingFile:
    """An uploaded file as read: at most `max_bytes + 1` bytes of it (so too large shows)."""

    filename: str | None
    content: bytes


@dataclass(frozen=True)
class AcceptedFile:
    filename: str  # safe to show and to put in a Content-Disposition header; never a path
    content_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


class TooManyAttachments(DomainError):
    code = "TOO_MANY_ATTACHMENTS"


class AttachmentTooLarge(DomainError):
    code = "ATTACHMENT_TOO_LARGE"


class AttachmentTypeNotAllowed(DomainError):
    code = "ATTACHMENT_TYPE_NOT_ALLOWED"


def accept_files(
    files: Sequence[IncomingFile],
    policy: AttachmentPolicy,
    allowed: frozenset[str] = ALL_TYPES,
    field: str = "attachments",
) -> list[AcceptedFile]:
    """Check every file, all or nothing: the first refusal raises and nothing is accepted."""
    check_count(len(files), policy, field)
    accepted = []
    for position, incoming in enumerate(files, start=1):
        accepted.append(accept_file(incoming, policy, allowed, field, position))
    return accepted


def check_count(count: int, policy: AttachmentPolicy, field: str = "attachments") -> None:
    """Before reading any upload: refuse more files than a message may carry."""
    if count > policy.max_count:
        raise TooManyAttachments(f"Attach at most {policy.max_count} files.", field)


def accept_file(
    incoming: IncomingFile,
    policy: AttachmentPolicy,
    allowed: frozenset[str] = ALL_TYPES,
    field: str = "attachments",
    position: int = 1,
) -> AcceptedFile:
    if len(incoming.content) > policy.max_bytes:
        limit = _size_text(policy.max_bytes)
        raise AttachmentTooLarge(f"File {position} is larger than {limit}.", field)
    mime = sniff(incoming.content)
    if mime is None or mime not in allowed:
        names = ", ".join(sorted(ext.lstrip(".") for t in allowed for ext in EXTENSIONS[t]))
        raise AttachmentTypeNotAllowed(
            f"File {position} is not an accepted type (by its content): use {names}.", field
        )
    return AcceptedFile(
        filename=safe_filename(incoming.filename, mime),
        content_type=mime,
        content=incoming.content,
        sha256=hashlib.sha256(incoming.content).hexdigest(),
    )


def _size_text(size: int) -> str:
    return f"{size // MB} MB" if size % MB == 0 else f"{size} bytes"


def safe_filename(name: str | None, content_type: str) -> str:
    """The client's name reduced to a display name: no directories, no control or separator
    characters, bounded, and ending in an extension of the type the content really is."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(ch for ch in base if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    kept = " ".join(kept.split()).strip(" .")
    stem, dot, ext = kept.rpartition(".")
    extensions = EXTENSIONS[content_type]
    if not (dot and stem and f".{ext.lower()}" in extensions):
        stem = kept or "attachment"
        ext = extensions[0].lstrip(".")
    stem = stem[: MAX_FILENAME_LENGTH - len(ext) - 1].rstrip(" .") or "attachment"
    return f"{stem}.{ext}"
