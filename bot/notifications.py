"""Outbox events -> messages pushed to shoppers on the channel they use, in their language.

The outbox relay calls :meth:`Notifier.handle` for every event at least once; each push carries the
outbox id as its de-duplication key, so a retried event is not shown twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as aioredis

from bot.render import reply_to_json
from commerce_core.api import Commerce, Money, NotFound, OutboxEnvelope
from dialogs.messages import Button, Reply, TextReply
from dialogs.texts import Texts


class Sender(Protocol):
    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None: ...


class InboxSender:
    """Console and web chat: pushed replies wait in a Redis list until the client fetches them."""

    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        self._redis = redis
        self._channel = channel

    def key(self, user_id: str) -> str:
        return f"shopbot:inbox:{self._channel}:{user_id}"

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        if not await self._redis.set(
            f"shopbot:pushed:{dedup_key}:{self._channel}:{user_id}", b"1", nx=True, ex=7 * 86400
        ):
            return
        for reply in replies:
            await self._redis.rpush(self.key(user_id), json.dumps(reply_to_json(reply)).encode())  # type: ignore[misc]

    async def drain(self, user_id: str) -> list[dict[str, Any]]:
        key = self.key(user_id)
        items = await self._redis.lrange(key, 0, -1)  # type: ignore[misc]
        if items:
            await self._redis.delete(key)
        return [json.loads(item) for item in items]


@dataclass
class Notifier:
    commerce: Commerce
    texts: Texts
    senders: dict[str, Sender]

    async def handle(self, envelope: OutboxEnvelope) -> None:
        customer_id = envelope.payload.get("customer_id")
        if not isinstance(customer_id, int):
            return
        try:
            customer = await self.commerce.customers.get(customer_id)
        except NotFound:
            return  # erased customers get no messages
        replies = self.compose(envelope.event_type, envelope.payload, customer.language)
        if not replies:
            return
        for channel, user_id in await self.commerce.customers.identities(customer_id):
            sender = self.senders.get(channel)
            if sender is not None:
                await sender.push(user_id, replies, f"outbox:{envelope.id}")

    def compose(self, event: str, p: dict[str, Any], lang: str) -> list[Reply]:
        t = self.texts.get
        number = str(p.get("order_number", ""))
        if event == "PaymentCaptured":
            amount = Money(int(p["amount"]), str(p["currency"])).format()
            return [
                TextReply(
                    t(lang, "pay.confirmed", amount=amount, number=number),
                    (Button(t(lang, "button.my_orders"), f"order:{number}"),),
                )
            ]
        if event == "OrderShipped":
            return [
                TextReply(
                    t(lang, "notify.shipped", number=number, tracking=p["tracking_number"]),
                    (Button(t(lang, "button.track"), f"track:{number}"),),
                )
            ]
        if event == "ShipmentUpdated" and p.get("status") == "delivered":
            return [
                TextReply(
                    t(lang, "notify.delivered", number=number),
                    (Button(t(lang, "button.after_sales"), f"as:{number}"),),
                )
            ]
        if event == "ShipmentDelayed":
            return [TextReply(t(lang, "notify.delayed", number=number, hours=p["hours_without_event"]))]
        if event == "RefundSucceeded":
            amount = Money(int(p["amount"]), str(p["currency"])).format()
            return [TextReply(t(lang, "notify.refunded", number=number, amount=amount))]
        if event == "OrderCancelled" and p.get("reason") == "payment_timeout":
            return [TextReply(t(lang, "notify.cancelled_timeout", number=number))]
        if event == "AfterSalesStatusChanged":
            status = t(lang, f"case_status.{p['to_status']}")
            return [TextReply(t(lang, "notify.case_update", number=p["case_number"], status=status))]
        return []
