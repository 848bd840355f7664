"""Passwords, second factors and one-time codes: the secret-handling half of operator accounts.

Why a module of its own: everything here is pure (no database), so it is easy to read for a security
review and cheap to test. Passwords are argon2id hashes (argon2-cffi's RFC 9106 defaults), verified in
a worker thread so a login does not stall the event loop for the hash's ~50 ms; TOTP follows RFC 6238
(pyotp) with one step of clock drift either way and no reuse of an accepted step.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from commerce_core.errors import InvalidInput
from commerce_core.ids import CROCKFORD
from commerce_core.operators.types import WeakPassword


@dataclass(frozen=True, slots=True)
class OperatorPolicy:
    """The knobs of sign-in security, in one place so they are reviewed together."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    min_password_length: int = 10
    max_password_length: int = 256
    binding_code_ttl: timedelta = timedelta(minutes=10)
    second_factor_ttl: timedelta = timedelta(minutes=5)
    totp_issuer: str = "shopbot"
    #: argon2id cost (RFC 9106's second recommendation, argon2-cffi's default); a stored hash made with
    #: other values is replaced at the next successful sign-in
    hash_time_cost: int = 3
    hash_memory_kib: int = 65536
    hash_parallelism: int = 4


#: refused whatever their length: the top of every leaked-password list, and the product's own name
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "1111111111",
        "0000000000",
        "qwertyuiop",
        "1q2w3e4r5t",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "administrator",
        "letmein1234",
        "welcome123",
        "abcdefghij",
        "abc1234567",
        "qwerty1234",
        "qwerty123456",
        "shopbot123",
        "shopbotshopbot",
        "changeme123",
        "woaini1314",
        "a123456789",
        "1qaz2wsx3edc",
    }
)

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


@cache
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_for(policy: OperatorPolicy) -> PasswordHasher:
    return _hasher(policy.hash_time_cost, policy.hash_memory_kib, policy.hash_parallelism)


def normalise_email(raw: str) -> str:
    """Lower-cased and stripped; anything not shaped like an address is ``invalid_email``."""
    email = (raw or "").strip().lower()
    if len(email) > 254 or not _EMAIL_RE.fullmatch(email):
        raise InvalidInput("not an e-mail address", code="invalid_email")
    return email


def check_password(password: str, email: str, policy: OperatorPolicy) -> None:
    """Refuse passwords that are short, common, or the account's own e-mail name."""
    if not isinstance(password, str) or len(password) > policy.max_password_length:
        raise InvalidInput("password too long", code="too_long", field="password")
    folded = password.strip().lower()
    if (
        len(password) < policy.min_password_length
        or folded in COMMON_PASSWORDS
        or folded == email.split("@", 1)[0]
        or len(set(password)) < 3
    ):
        raise WeakPassword("password too weak", minimum=policy.min_password_length)


async def hash_password(password: str, policy: OperatorPolicy) -> str:
    return await asyncio.to_thread(hasher_for(policy).hash, password)


async def verify_password(stored_hash: str, password: str, policy: OperatorPolicy) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one used other parameters and should be replaced)."""
    hasher = hasher_for(policy)

    def check() -> tuple[bool, str | None]:
        try:
            hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False, None
        return True, hasher.hash(password) if hasher.check_needs_rehash(stored_hash) else None

    return await asyncio.to_thread(check)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))


async def spend_verification_time(password: str, policy: OperatorPolicy) -> None:
    """Verify against a throw-away hash, so an unknown e-mail takes as long as a wrong password."""
    dummy = await asyncio.to_thread(_dummy_hash, hasher_for(policy))
    await verify_password(dummy, password[: policy.max_password_length], policy)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def totp_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to (this one or one either side), or None when it is wrong.

    A step at or before ``last_step`` was already used and is refused: a code read over a shoulder
    cannot sign in a second time."""
    cleaned = (code or "").strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", cleaned):
        return None
    totp = pyotp.TOTP(secret)
    found: int | None = None
    for drift in (-1, 0, 1):
        moment = now + timedelta(seconds=drift * totp.interval)
        if hmac.compare_digest(totp.at(moment), cleaned):
            found = totp.timecode(moment)
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


BINDING_CODE_LENGTH = 8
_LOOKALIKES = str.maketrans("OIL", "011")


def new_binding_code() -> str:
    """Eight Crockford base32 characters (40 bits): typed into a chat, so no look-alike letters."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(BINDING_CODE_LENGTH))


def normalise_binding_code(text: str) -> str:
    return (text or "").strip().upper().replace("-", "").replace(" ", "").translate(_LOOKALIKES)
