"""Phone verification by SMS code (R4.1-1, R5.1-1), codes kept in Redis with a TTL.

A code is six digits, stored only as a salted hash, valid for five minutes, at most five wrong tries
per request. Limits per account alone did not stop abuse (30 codes to one number in 1.3 s by using
many accounts; 150 guesses checked against one number), so :class:`SmsRateLimiter` also counts per
phone number and per origin (the client's IP, or the channel user) in fixed windows, and counts wrong
guesses per phone number whoever makes them. A caller that proves the code proves it holds the phone:
only then is it linked to the account that already verified that number.
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
    """``text`` is the whole message in the shopper's language; ``code`` alone is for providers that
    send approved templates with parameters (Tencent Cloud SMS)."""

    async def send(self, phone: str, text: str, *, code: str = "") -> None: ...


@dataclass
class SandboxSms:
    """Records messages instead of sending them (the demo shows them; tests read them)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, phone: str, text: str, *, code: str = "") -> None:
        self.sent.append((phone, text))

    def last_to(self, phone: str) -> str | None:
        """The newest text sent to ``phone`` (the development notice in the demo shows it)."""
        wanted = normalise_phone(phone)
        return next((text for to, text in reversed(self.sent) if to == wanted), None)


#: (most events, per seconds) pairs; every pair must hold
Windows = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class SmsLimits:
    """How many codes and guesses are allowed; every field is a setting (``SHOPBOT_SMS_*``)."""

    per_phone: Windows = ((1, 60), (5, 3600), (10, 86400))
    per_origin: Windows = ((3, 60), (10, 3600), (20, 86400))
    wrong_guesses_per_phone: Windows = ((10, 3600), (20, 86400))


class SmsRateLimiter:
    """Fixed-window counters in Redis for codes sent and wrong guesses, keyed by an HMAC of the phone
    number (no number in clear in Redis) and by origin.

    Reusable outside the verifier (e.g. a phone sign-in on a new web device): call
    :meth:`check_send` before sending a code, :meth:`check_guess` before comparing one and
    :meth:`wrong_guess` after a wrong one. Each raises :class:`NotAllowed` (``too_many_codes``,
    ``too_many_attempts``) when a limit is reached.
    """

    def __init__(self, store: KeyValueStore, secret: bytes, limits: SmsLimits | None = None) -> None:
        self._store = store
        self._secret = secret
        self.limits = limits or SmsLimits()

    def _tag(self, kind: str, value: str) -> str:
        digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:24]
        return f"shopbot:sms:{{{kind}:{digest}}}"

    async def _count(self, tag: str, windows: Windows, *, bump: bool) -> bool:
        """Whether every window still has room (and, with ``bump``, spend one in each)."""
        allowed = True
        for most, seconds in windows:
            key = f"{tag}:{seconds}"
            if bump:
                await self._store.set(key, b"0", ex=seconds, nx=True)  # the window starts with the first
                used = int(await self._store.incr(key))
                allowed = allowed and used <= most
            else:
                used = int(await self._store.get(key) or 0)
                allowed = allowed and used < most
        return allowed

    async def check_send(self, phone: str, origin: str | None = None) -> None:
        """One more code to ``phone`` asked by ``origin``: counted, or refused when over a limit."""
        phone = normalise_phone(phone)
        phone_ok = await self._count(self._tag("phone", phone), self.limits.per_phone, bump=True)
        origin_ok = True
        if origin:
            origin_ok = await self._count(self._tag("origin", origin), self.limits.per_origin, bump=True)
        if not phone_ok or not origin_ok:
            raise NotAllowed("too many codes asked; try again later", code="too_many_codes")

    async def check_guess(self, phone: str) -> None:
        if not await self._count(self._tag("guess", phone), self.limits.wrong_guesses_per_phone, bump=False):
            raise NotAllowed("too many wrong codes; ask for a new one later", code="too_many_attempts")

    async def wrong_guess(self, phone: str) -> None:
        await self._count(self._tag("guess", phone), self.limits.wrong_guesses_per_phone, bump=True)


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
        limits: SmsLimits | None = None,
        reveal_sandbox_codes: bool = False,
    ) -> None:
        self._store = store
        self._sms = sms
        self._customers = customers
        self._secret = secret.encode()
        self._ttl = int(ttl.total_seconds())
        self._resend = int(resend_after.total_seconds())
        self._max_attempts = max_attempts
        self._guard = guard
        self.limiter = SmsRateLimiter(store, self._secret, limits)
        #: development only: the demo shows what the sandbox "sent", so a newcomer can finish binding
        self._reveal = reveal_sandbox_codes and isinstance(sms, SandboxSms)

    def sandbox_message(self, phone: str) -> str | None:
        """The text the sandbox recorded for ``phone`` when revealing is on (development), else None."""
        if not self._reveal or not isinstance(self._sms, SandboxSms):
            return None
        return self._sms.last_to(phone)

    def _key(self, customer_id: int, part: str) -> str:
        # one hash tag per customer: pending and attempts are deleted together (Redis Cluster slot)
        return f"shopbot:verify:{{cust:{customer_id}}}:{part}"

    def _digest(self, phone: str, code: str) -> str:
        return hmac.new(self._secret, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()

    async def start(
        self, customer_id: int, phone: str, text_template: str, *, origin: str | None = None
    ) -> str:
        """Send a code to ``phone``; ``text_template`` has ``{code}`` (in the shopper's language);
        ``origin`` (the client's IP, or the channel and user) is counted against its own limits."""
        phone = normalise_phone(phone)
        if not await self._store.set(self._key(customer_id, "throttle"), b"1", ex=self._resend, nx=True):
            raise NotAllowed("wait a minute before asking for another code", code="code_too_soon")
        if self._guard is not None:
            await self._guard.before_sending(phone)
        await self.limiter.check_send(phone, origin)
        code = f"{secrets.randbelow(10**6):06d}"
        await self._store.set(
            self._key(customer_id, "pending"), f"{phone}|{self._digest(phone, code)}".encode(), ex=self._ttl
        )
        await self._store.delete(self._key(customer_id, "attempts"))
        await self._sms.send(phone, text_template.format(code=code), code=code)
        return mask_phone(phone)

    async def confirm(self, customer_id: int, code: str) -> CustomerView:
        raw = await self._store.get(self._key(customer_id, "pending"))
        if raw is None:
            raise NotFound("no code is waiting; ask for a new one", code="no_pending_code")
        phone, digest = (raw.decode() if isinstance(raw, bytes) else str(raw)).split("|", 1)
        if self._guard is not None:
            await self._guard.before_checking(phone)
        await self.limiter.check_guess(phone)
        attempts = int(await self._store.incr(self._key(customer_id, "attempts")))
        if attempts > self._max_attempts:
            await self._store.delete(self._key(customer_id, "pending"))
            raise NotAllowed("too many wrong codes; ask for a new one", code="too_many_attempts")
        if not hmac.compare_digest(digest, self._digest(phone, code.strip())):
            await self.limiter.wrong_guess(phone)
            raise InvalidInput(
                "that code is not right", code="wrong_code", attempts_left=self._max_attempts - attempts
            )
        await self._store.delete(self._key(customer_id, "pending"), self._key(customer_id, "attempts"))
        existing = await self._customers.find_by_phone(phone)
        if existing is not None and existing.id != customer_id and existing.phone_verified:
            # the code proved this caller holds the phone: the same person on another channel, so join
            # that account (returned, so callers see the link)
            await self._customers.link_into(customer_id, existing.id)
            return await self._customers.get(existing.id)
        return await self._customers.bind_phone(customer_id, phone, verified=True)
