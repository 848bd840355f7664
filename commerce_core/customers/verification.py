"""Phone verification by SMS code (R4.1-1, R5.1-1), codes kept in Redis with a TTL.

A code is six digits, stored only as a salted hash, valid for five minutes, at most five wrong tries,
and a new one at most once a minute: enough to stop guessing and SMS flooding.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from commerce_core.customers.service import CustomerService
from commerce_core.customers.types import CustomerView
from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.security import mask_phone, normalise_phone


class KeyValueStore(Protocol):
    async def get(self, name: str) -> Any: ...

    async def set(self, name: str, value: Any, ex: Any = None, nx: bool = False) -> Any: ...

    async def delete(self, *names: str) -> Any: ...

    async def incr(self, name: str, amount: int = 1) -> Any: ...


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


@dataclass
class SandboxSms:
    """Records messages instead of sending them (the demo shows them; tests read them)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, phone: str, text: str) -> None:
        self.sent.append((phone, text))


class CodeGuard(Protocol):
    """Limits per phone number across accounts (codes sent, guesses made): the hook for the edge's
    rate limiter. The verifier's own limits are per account only, and a new web session is a new
    account, so flooding one phone or guessing its codes from many sessions needs this. Raise
    ``NotAllowed`` (code ``rate_limited``) to refuse; the shopper is told, nothing is sent."""

    async def before_sending(self, phone: str) -> None: ...

    async def before_checking(self, phone: str) -> None: ...


class PhoneVerifier:
    def __init__(
        self,
        store: KeyValueStore,
        sms: SmsSender,
        customers: CustomerService,
        *,
        secret: str,
        guard: CodeGuard | None = None,
        ttl: timedelta = timedelta(minutes=5),
        resend_after: timedelta = timedelta(seconds=60),
        max_attempts: int = 5,
    ) -> None:
        self._store = store
        self._sms = sms
        self._customers = customers
        self._secret = secret.encode()
        self._ttl = int(ttl.total_seconds())
        self._resend = int(resend_after.total_seconds())
        self._max_attempts = max_attempts
        self._guard = guard

    def _key(self, customer_id: int, part: str) -> str:
        return f"shopbot:verify:{customer_id}:{part}"

    def _digest(self, phone: str, code: str) -> str:
        return hmac.new(self._secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def start(self, customer_id: int, phone: str, text_template: str) -> str:
        """Send a code to ``phone``; ``text_template`` has ``{code}`` (in the shopper's language)."""
        phone = normalise_phone(phone)
        if not await self._store.set(self._key(customer_id, "throttle"), b"1", ex=self._resend, nx=True):
            raise NotAllowed("wait a minute before asking for another code", code="code_too_soon")
        if self._guard is not None:
            await self._guard.before_sending(phone)
        code = f"{secrets.randbelow(10**6):06d}"
        await self._store.set(
            self._key(customer_id, "pending"), f"{phone}|{self._digest(phone, code)}".encode(), ex=self._ttl
        )
        await self._store.delete(self._key(customer_id, "attempts"))
        await self._sms.send(phone, text_template.format(code=code))
        return mask_phone(phone)

    async def confirm(self, customer_id: int, code: str) -> CustomerView:
        raw = await self._store.get(self._key(customer_id, "pending"))
        if raw is None:
            raise NotFound("no code is waiting; ask for a new one", code="no_pending_code")
        phone, digest = (raw.decode() if isinstance(raw, bytes) else str(raw)).split("|", 1)
        if self._guard is not None:
            await self._guard.before_checking(phone)
        attempts = int(await self._store.incr(self._key(customer_id, "attempts")))
        if attempts > self._max_attempts:
            await self._store.delete(self._key(customer_id, "pending"))
            raise NotAllowed("too many wrong codes; ask for a new one", code="too_many_attempts")
        if not hmac.compare_digest(digest, self._digest(phone, code.strip())):
            raise InvalidInput(
                "that code is not right", code="wrong_code", attempts_left=self._max_attempts - attempts
            )
        await self._store.delete(self._key(customer_id, "pending"), self._key(customer_id, "attempts"))
        existing = await self._customers.find_by_phone(phone)
        if existing is not None and existing.id != customer_id and existing.phone_verified:
            # the same person on another channel: join that account (returned, so callers see the link)
            await self._customers.link_into(customer_id, existing.id)
            return await self._customers.get(existing.id)
        return await self._customers.bind_phone(customer_id, phone, verified=True)
