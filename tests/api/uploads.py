"""GraphQL multipart requests (the spec's `operations`, `map` and file parts) through the real
HTTP app, and small files of every accepted type, made here byte by byte."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

from tests.conftest import Portal


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TIFF = b"II*\x00\x08\x00\x00\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "Blood pressure log: 128/82, 131/85 — taken after breakfast.\n".encode()

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 40
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20
TEXT_WITH_NUL = b"looks like text\x00but is not"
LATIN1 = "café au lait".encode("latin-1")

Upload = tuple[str, bytes, str]  # (client file name, content, client content type)


async def gql_multipart(
    portal: Portal,
    query: str,
    variables: dict[str, Any],
    files: dict[str, Upload],
    *,
    as_user: str | None = None,
    token: str | None = None,
) -> dict[str, Any]:
    """`files` maps a variable path (e.g. `input.attachments.0`) to the file sent for it;
    that variable must hold null in `variables`, as the multipart request spec says."""
    if as_user is not None:
        token = await portal.token(as_user)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    names = {path: str(i) for i, path in enumerate(files)}
    form = {
        "operations": json.dumps({"query": query, "variables": variables}),
        "map": json.dumps({names[path]: [f"variables.{path}"] for path in files}),
    }
    parts = {names[path]: upload for path, upload in files.items()}
    response = await portal.client.post("/graphql", data=form, files=parts, headers=headers)
    assert response.status_code in (200, 400), response.text
    result: dict[str, Any] = response.json()
    return result


def attachments_of(*uploads: Upload) -> tuple[list[None], dict[str, Upload]]:
    """The `attachments` variable (nulls) and the files for it, in order."""
    files = {f"input.attachments.{i}": upload for i, upload in enumerate(uploads)}
    return [None] * len(uploads), files
