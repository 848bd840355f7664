"""Encryption of personal data at rest, blind indexes for look-ups, and masking for display.

* :class:`FieldCipher` wraps ``MultiFernet`` (AES-128-CBC + HMAC-SHA256): the FIRST key encrypts,
  every key decrypts, so keys rotate by putting a new key first and re-encrypting rows
  (:meth:`FieldCipher.rotate`), then dropping the old key.
* A blind index (HMAC-SHA256 under a separate key) lets us find a customer by phone without storing it
  in clear; it does not change when the encryption keys rotate.
* Masking follows GB/T 41833-2022 for waybills: a phone hides at least six digits, a name is partly
  hidden. Everything shown to a person goes through these functions.
"""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from commerce_core.errors import InvalidInput


class FieldCipher:
    def __init__(self, keys: list[str], index_key: str) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise ValueError("encryption keys must be url-safe base64 32-byte Fernet keys") from exc
        self._index_key = index_key.encode()

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt field: unknown key or corrupted data") from exc

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self.encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def decrypt_json(self, token: str) -> dict[str, Any]:
        value = json.loads(self.decrypt(token))
        assert isinstance(value, dict)
        return value

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the current first key."""
        return self._fernet.rotate(token.encode()).decode()

    def blind_index(self, value: str) -> str:
        # hmac.digest: OpenSSL's one-shot HMAC, the same value as hmac.new(...).hexdigest() without an
        # HMAC object per call (2.0 vs 2.7 µs; a first contact and each shopper's events compute one)
        return hmac.digest(self._index_key, value.encode(), "sha256").hex()


_PHONE_KEEP = re.compile(r"\D")


def normalise_phone(raw: str) -> str:
    """Canonical form: ``+<country><number>``; bare Chinese mobiles get +86. Raises on nonsense."""
    text = raw.strip()
    digits = _PHONE_KEEP.sub("", text)
    if text.startswith("+"):
        result = "+" + digits
    elif len(digits) == 11 and digits.startswith("1"):
        result = "+86" + digits
    elif digits.startswith("00"):
        result = "+" + digits[2:]
    else:
        result = "+" + digits
    if not 8 <= len(result) - 1 <= 15:
        raise InvalidInput("not a phone number", code="invalid_phone")
    if result.startswith("+86") and not re.fullmatch(r"\+861[3-9]\d{9}", result):
        raise InvalidInput("not a mainland China mobile number", code="invalid_phone")
    return result


def mask_phone(phone: str) -> str:
    """Hide at least six digits: ``+8613812345678`` -> ``138******78``."""
    digits = _PHONE_KEEP.sub("", phone)
    if phone.startswith("+86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) <= 6:
        return "*" * len(digits)
    hidden = max(6, len(digits) - 5)
    head = min(3, len(digits) - hidden)
    tail = len(digits) - hidden - head
    return digits[:head] + "*" * hidden + (digits[-tail:] if tail else "")


def mask_name(name: str) -> str:
    """Keep the first character of each part: ``张三丰`` -> ``张**``, ``Alice Smith`` -> ``A**** S****``."""
    parts = name.split()
    if not parts:
        return ""
    return " ".join(p[0] + "*" * max(1, len(p) - 1) for p in parts)


def mask_address_line(line: str) -> str:
    """Keep the first few characters of a street line so the shopper recognises it."""
    keep = 4 if any("\u4e00" <= ch <= "\u9fff" for ch in line) else 6
    if len(line) <= keep:
        return "*" * len(line)
    return line[:keep] + "*" * min(8, len(line) - keep)
