"""Typed callback data for inline buttons (Telegram allows at most 64 bytes).

A button's dialog payload ("p:D1", "sku:D1-RED-M:1", "yes:checkout") travels as ``Tap`` ("t|p:D1").
A payload that does not fit, or contains the separator, is kept in Redis and the button carries a
``Ref`` to it.

Every pressed button gets an answer: callback data we cannot read back (a ``Ref`` whose key expired,
data from an older bot or a forged client) unpacks to the ``Expired`` action's payload, and the dialogs
tell the shopper the button is out of date rather than leaving the tap unanswered. Payloads themselves
are validated by the dialogs (``dialogs.payloads.decode``), not here.
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from aiogram.filters.callback_data import CallbackData

from dialogs.payloads import Expired

MAX_CALLBACK_BYTES = 64
REF_TTL_SECONDS = 30 * 86400
#: what a button we cannot read back asks for: "this button has expired"
UNREADABLE = Expired().encode()
TAP_PREFIX = "t|"


class Tap(CallbackData, prefix="t", sep="|"):
    """A dialog button payload, carried as is."""

    p: str


class Ref(CallbackData, prefix="r", sep="|"):
    """A long dialog payload, kept in Redis under ``k``."""

    k: str


def _ref_key(token: str) -> str:
    return f"shopbot:tg:cb:{token}"


def fits(payload: str) -> bool:
    return "|" not in payload and len(f"t|{payload}".encode()) <= MAX_CALLBACK_BYTES


async def pack(payload: str, redis: aioredis.Redis) -> str:
    """The callback_data for a button with ``payload`` (always at most 64 bytes)."""
    if fits(payload):
        return TAP_PREFIX + payload  # what Tap(p=payload).pack() gives, without a model per button
    token = hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()
    await redis.set(_ref_key(token), payload.encode(), ex=REF_TTL_SECONDS)
    return Ref(k=token).pack()


async def unpack(data: str | None, redis: aioredis.Redis) -> str | None:
    """The dialog payload of a pressed button; :data:`UNREADABLE` for data we cannot read back (so the
    shopper hears the button is out of date); None only when the callback carries no data at all."""
    if not data:
        return None
    try:
        if data.startswith(TAP_PREFIX):  # as Tap.unpack(data).p reads it, without a model
            payload = data[len(TAP_PREFIX) :]
            return UNREADABLE if "|" in payload else payload
        if data.startswith("r|"):
            stored = await redis.get(_ref_key(Ref.unpack(data).k))
            return stored.decode("utf-8", "replace") if stored else UNREADABLE
    except (ValueError, TypeError):
        return UNREADABLE
    return UNREADABLE
