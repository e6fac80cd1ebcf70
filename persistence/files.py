"""Uploaded files, stored outside the database under one configured directory.

Each file gets a random key (32 hex digits) and lives at `<root>/<key[:2]>/<key>`: the
client's file name never becomes a path, and a key that is not 32 hex digits is refused
before it reaches the file system. Files are written to a temporary name and renamed, so a
reader never sees half a file. Nothing edits a stored file; `delete` exists for a write whose
transaction did not commit (a rejected upload leaves no file behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{32}")


class HasContent(Protocol):
    @property
    def content(self) -> bytes: ...


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError("not a storage key")
        return self.root / key[:2] / key

    async def put(self, content: bytes) -> str:
        """Store `content` under a new key and return the key."""
        key = uuid.uuid4().hex
        await asyncio.to_thread(self._write, self.path(key), content)
        return key

    async def read(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._unlink, self.path(key))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        with open(partial, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, path)

    @staticmethod
    def _unlink(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

    @contextlib.asynccontextmanager
    async def kept(self, files: Sequence[HasContent]) -> AsyncIterator[list[str]]:
        """Store the files for the block (their keys); remove them again if the block fails,
        so a write that does not commit leaves no file behind."""
        keys = await self.put_all([file.content for file in files])
        try:
            yield keys
        except BaseException:
            await self.delete_all(keys)
            raise

    async def put_all(self, contents: list[bytes]) -> list[str]:
        """Store several files; if one fails, those already stored are removed again."""
        keys: list[str] = []
        try:
            for content in contents:
                keys.append(await self.put(content))
        except BaseException:
            await self.delete_all(keys)
            raise
        return keys

    async def delete_all(self, keys: list[str]) -> None:
        for key in keys:
            await self.delete(key)
