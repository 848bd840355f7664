"""Flood control: how many requests a web client, or turns a Telegram or WeChat user, may make per
minute, counted in Redis so every process shares one count.

Why: nothing limited automation (300 new web ids made 300 customers in 0.9 s; one chat could keep a
worker busy). Each limit is a fixed one-minute window (one ``INCR`` and one ``EXPIRE`` in a single
round trip): cheap, and exact enough for flood control. Keys are hash-tagged per subject, so they
spread over a Redis Cluster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import redis.asyncio as aioredis
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from commerce_core.api import SmsLimits

WINDOW_SECONDS = 60


class RateLimitSettings(BaseSettings):
    """``SHOPBOT_RATE_*``: requests (web) or turns (Telegram, WeChat) per minute; 0 turns a limit off."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_RATE_", extra="ignore")

    web_per_ip: int = Field(default=120, ge=0)
    web_per_session: int = Field(default=40, ge=0)
    #: the cookie that names a web session (the web chat's session cookie)
    web_session_cookie: str = "shopbot_session"
    chat_user_per_minute: int = Field(default=30, ge=0)
    # SMS codes (see commerce_core.customers.verification.SmsLimits): count per window
    sms_per_phone_minute: int = Field(default=1, ge=1)
    sms_per_phone_hour: int = Field(default=5, ge=1)
    sms_per_phone_day: int = Field(default=10, ge=1)
    sms_per_origin_minute: int = Field(default=3, ge=1)
    sms_per_origin_hour: int = Field(default=10, ge=1)
    sms_per_origin_day: int = Field(default=20, ge=1)
    sms_wrong_guesses_per_phone_hour: int = Field(default=10, ge=1)
    sms_wrong_guesses_per_phone_day: int = Field(default=20, ge=1)

    def sms_limits(self) -> SmsLimits:
        """The SMS part, as the core's phone verifier takes it."""
        return SmsLimits(
            per_phone=(
                (self.sms_per_phone_minute, 60),
                (self.sms_per_phone_hour, 3600),
                (self.sms_per_phone_day, 86400),
            ),
            per_origin=(
                (self.sms_per_origin_minute, 60),
                (self.sms_per_origin_hour, 3600),
                (self.sms_per_origin_day, 86400),
            ),
            wrong_guesses_per_phone=(
                (self.sms_wrong_guesses_per_phone_hour, 3600),
                (self.sms_wrong_guesses_per_phone_day, 86400),
            ),
        )


class FloodGate:
    """``allow(scope, subject)``: whether ``subject`` (an IP, a session, a chat user) may go on within
    ``limit`` per minute. Subjects are hashed into the key (no IPs or ids in clear in Redis)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def spend(self, scope: str, subject: str, now: float) -> int:
        """Count one more for ``subject`` in this minute; how many it has used so far."""
        [used] = await self.spend_each([(scope, subject)], now)
        return used

    async def allow_each(self, limits: Sequence[tuple[str, str, int]], now: float) -> bool:
        """Whether every ``(scope, subject, limit)`` may go on, all counted in one round trip (the
        web chat's per-IP and per-session limits were two round trips per request)."""
        counted = [(scope, subject, limit) for scope, subject, limit in limits if limit > 0]
        if not counted:
            return True
        used = await self.spend_each([(scope, subject) for scope, subject, _ in counted], now)
        return all(n <= limit for n, (_, _, limit) in zip(used, counted, strict=True))

    async def spend_each(self, subjects: Sequence[tuple[str, str]], now: float) -> list[int]:
        """Count one more for each ``(scope, subject)`` in this minute, in one round trip."""
        window = int(now // WINDOW_SECONDS)
        async with self._redis.pipeline(transaction=False) as batch:
            for scope, subject in subjects:
                digest = hashlib.blake2b(subject.encode("utf-8", "replace"), digest_size=12).hexdigest()
                key = f"shopbot:flood:{{{scope}:{digest}}}:{window}"
                batch.incr(key)
                batch.expire(key, WINDOW_SECONDS + 5)
            replies = await batch.execute()
        return [int(used) for used in replies[::2]]
