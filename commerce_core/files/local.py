"""The embedded file store: a folder on the local disk, one sub-folder per owner.

Why content addressing: a file's name is the SHA-256 of its bytes, so an upload can never overwrite
someone else's file, the same image uploaded twice is stored once, and a read checks the bytes are
still what was stored. Owners are kept apart by folder (named by a hash of the owner, so no owner
string becomes a path). Types are recognised from the first bytes, never from a name or a header a
browser sent, and only JPEG, PNG, WebP and PDF are accepted. Files are written 0600, folders 0700.
An S3-compatible store implements the same :class:`~commerce_core.files.types.FileStore` protocol.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from commerce_core.errors import InvalidInput, NotFound
from commerce_core.files.types import ALLOWED_CONTENT_TYPES, OWNER_RE, FileRef

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


def sniff_content_type(data: bytes) -> str | None:
    """The allowed type ``data`` really is (by its magic bytes), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


class LocalFileStore:
    def __init__(
        self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: Mapping[str, int] | None = None
    ) -> None:
        """``limits``: the largest file per kind ("document", "image"); other kinds get ``max_bytes``.
        One store per folder, so every kind of upload shares one place and one set of checks."""
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.limits = dict(limits or {})

    def _path(self, owner: str, digest: str) -> Path:
        if not OWNER_RE.fullmatch(owner) or not _DIGEST_RE.fullmatch(digest):
            raise NotFound("no such file", code="file_not_found")
        folder = hashlib.sha256(owner.encode()).hexdigest()[:32]
        return self.root / folder / digest

    async def put(self, data: bytes, *, content_type: str, owner: str, kind: str | None = None) -> FileRef:
        """Store ``data`` for ``owner``; refuse empty, oversized (for its ``kind``), or
        not-what-it-claims files."""
        if not isinstance(owner, str) or not OWNER_RE.fullmatch(owner):
            raise InvalidInput("invalid file owner", code="invalid_file_owner")
        if not data:
            raise InvalidInput("the file is empty", code="file_empty")
        maximum = self.limits.get(kind, self.max_bytes) if kind is not None else self.max_bytes
        if len(data) > maximum:
            raise InvalidInput("the file is too large", code="file_too_large", maximum=maximum)
        actual = sniff_content_type(data)
        if content_type not in ALLOWED_CONTENT_TYPES or actual != content_type:
            raise InvalidInput(
                "only JPEG, PNG, WebP and PDF files are accepted",
                code="file_type_not_allowed",
                allowed=sorted(ALLOWED_CONTENT_TYPES),
            )
        digest = hashlib.sha256(data).hexdigest()
        await asyncio.to_thread(self._write, self._path(owner, digest), data)
        return FileRef(owner=owner, digest=digest, content_type=actual, size=len(data))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    async def get(self, ref: FileRef) -> tuple[bytes, str]:
        """The bytes and their (re-checked) type; another owner's or a missing file is ``file_not_found``."""
        path = self._path(ref.owner, ref.digest)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFound("no such file", code="file_not_found") from exc
        content_type = sniff_content_type(data)
        if hashlib.sha256(data).hexdigest() != ref.digest or content_type is None:
            raise NotFound("no such file", code="file_not_found")
        return data, content_type

    async def delete(self, ref: FileRef) -> None:
        path = self._path(ref.owner, ref.digest)
        await asyncio.to_thread(path.unlink, missing_ok=True)
