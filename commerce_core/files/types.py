"""The public names of the file store: what a stored file is called and what it may be.

Why: the back office uploads merchant licences and product images; the edge keeps a :class:`FileRef`
(in a form, a database row) and asks the store for the bytes later. Keeping the reference a plain
value lets an S3-compatible store replace the local one without touching callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from commerce_core.errors import InvalidInput

#: content types the store accepts; each is recognised from the file's first bytes, not from a name
ALLOWED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "application/pdf"})
#: an owner names who a file belongs to, e.g. ``merchant:acme`` or ``operator:OPXXXXXXXXXX``
OWNER_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class FileRef:
    """A stored file: its owner, the SHA-256 of its bytes (the content address), type and size."""

    owner: str
    digest: str
    content_type: str
    size: int

    @property
    def key(self) -> str:
        """One string to keep in a database column; :meth:`parse` turns it back into a reference."""
        return f"{self.owner}/{self.digest}/{self.content_type}/{self.size}"

    @classmethod
    def parse(cls, key: str) -> FileRef:
        """The reference behind ``key``; anything malformed is :class:`InvalidInput` ``file_ref_invalid``."""
        parts = key.split("/")
        if len(parts) != 5:
            raise InvalidInput("not a file reference", code="file_ref_invalid")
        owner, digest, major, minor, size = parts
        content_type = f"{major}/{minor}"
        if (
            not OWNER_RE.fullmatch(owner)
            or not _DIGEST_RE.fullmatch(digest)
            or content_type not in ALLOWED_CONTENT_TYPES
            or not (size.isascii() and size.isdigit())
        ):
            raise InvalidInput("not a file reference", code="file_ref_invalid")
        return cls(owner, digest, content_type, int(size))


class FileStore(Protocol):
    """Where uploaded files live. Implementations check type and size and keep owners apart."""

    async def put(self, data: bytes, *, content_type: str, owner: str, kind: str | None = None) -> FileRef:
        """``kind`` ("document", "image") picks the store's size limit for that kind of file."""
        ...

    async def get(self, ref: FileRef) -> tuple[bytes, str]: ...

    async def delete(self, ref: FileRef) -> None: ...
