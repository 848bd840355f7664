"""What merchants are told: a paid order, to every merchant with lines in it, each seeing only its own.

Each merchant user with a bound chat identity gets the order number, that merchant's lines, the
delivery city (never the street, name or phone) and a "Ship" button, in their own language. The
message goes through the outbox like every notification: retried until delivered, never dropped, in
order per shopper's ordering key; a de-duplication key per operator keeps a retried event from
showing twice where it already arrived.
"""

from __future__ import annotations

import asyncio
import functools

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.merchant_digest import Member, OrderPacer
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import (
    Directory,
    KnowsMembers,
    OperatorDirectory,
    Recipient,
    RecipientDirectory,
    ShopperDirectory,
    StaffMember,
)
from commerce_core.api import Commerce, MerchantOrderView, NotFound, PaymentCaptured, pick_language
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import ShipOrder
from dialogs.texts import Texts


def _lines(t: Phrase, order: MerchantOrderView, lang: str) -> str:
    written = []
    for line in order.lines:
        name = pick_language(line.product_name, lang)
        total = line.line_total.format()
        if line.options:
            options = ", ".join(f"{key}: {value}" for key, value in line.options.items())
            quantity = line.quantity
            written.append(t("operator.line", name=name, options=options, quantity=quantity, total=total))
        else:
            written.append(t("operator.line_plain", name=name, quantity=line.quantity, total=total))
    return "\n".join(written)


def _single(t: Phrase, part: MerchantOrderView, city: str, lang: str) -> list[Reply]:
    text = t(
        "operator.new_order",
        number=part.number,
        city=city or "—",
        lines=_lines(t, part, lang),
        total=part.total.format(),
    )
    return [TextReply(text, (Button.of(t("operator.ship_button"), ShipOrder(part.number)),))]


#: digests delivered at the same time by one flush
FLUSH_CONCURRENCY = 8
#: a digest carries a "Ship" button for this many orders (the rest are shipped from the console)
DIGEST_BUTTONS = 5


def _digest(t: Phrase, parts: list[MerchantOrderView]) -> list[Reply]:
    """Several paid orders in one message: numbers and totals, buttons for the first few."""
    rows = "\n".join(t("merchops.digest_line", number=p.number, total=p.total.format()) for p in parts)
    text = t("merchops.digest", count=len(parts), orders=rows)
    buttons = tuple(
        Button.of(t("merchops.digest_ship", number=p.number), ShipOrder(p.number))
        for p in parts[:DIGEST_BUTTONS]
    )
    return [TextReply(text, buttons)]


class PaidOrderForMerchants:
    """The PaymentCaptured subscriber (it reads each merchant's part of the order from the core)."""

    def __init__(self, commerce: Commerce, pacer: OrderPacer | None = None) -> None:
        self._commerce = commerce
        #: with a pacer, a burst of orders to one member becomes a digest (see merchant_digest)
        self.pacer = pacer

    async def __call__(self, event: PaymentCaptured, writing: Writing) -> list[Notification]:
        number = event.order_number
        try:
            merchants = await self._commerce.shipments.unshipped_merchants(number)
            paced = self.pacer is not None and isinstance(writing.directory, KnowsMembers)
            city = await self._commerce.shipments.delivery_city(number) if merchants and not paced else ""
        except NotFound:
            return []  # the order is gone (erased shopper): nothing to ship
        found: list[Notification] = []
        for merchant_id in merchants:
            for member in await writing.merchant_users(merchant_id):
                if self.pacer is not None and isinstance(member, StaffMember):
                    found += await self._paced(writing, Member(merchant_id, member.user_id), number)
                else:
                    part = await self._commerce.operators.merchant_order(merchant_id, number)
                    found += await self._write(writing, member, part, city)
        return found

    async def _paced(self, writing: Writing, member: Member, number: str) -> list[Notification]:
        assert self.pacer is not None
        dedup_key = f"{writing.dedup_key}:op{member.operator_id}"
        claimed = await self.pacer.claim(member, dedup_key, number)
        return await self.compose_claim(writing.texts, writing.directory, member, claimed, dedup_key)

    async def compose_claim(
        self, texts: Texts, directory: RecipientDirectory, member: Member, numbers: list[str], dedup_key: str
    ) -> list[Notification]:
        """The usual message for one claimed order, a digest for several (none for none)."""
        recipient = StaffMember(member.operator_id)
        if not numbers:  # the window is closed, or another notification took this order along
            return []
        lang = await directory.language_of(recipient)
        if lang is None:
            return []
        # every claimed order's part and city in one read (orders gone since, e.g. an erased shopper's,
        # are left out: nothing to ship)
        parts = await self._commerce.merchant_orders.parts_to_tell(member.merchant_id, numbers)
        if not parts:
            return []
        t: Phrase = functools.partial(texts.get, lang)
        if len(parts) == 1:
            part, city = parts[0]
            return [Notification(recipient, _single(t, part, city, lang), dedup_key)]
        return [Notification(recipient, _digest(t, [p for p, _ in parts]), dedup_key)]

    async def _write(
        self, writing: Writing, member: Recipient, part: MerchantOrderView, city: str
    ) -> list[Notification]:
        lang = await writing.directory.language_of(member)
        if lang is None:
            return []

        def write(t: Phrase) -> list[Reply]:
            return _single(t, part, city, lang)

        who = member.user_id if isinstance(member, StaffMember) else f"m{part.number}"
        return await writing.to(member, write, dedup_key=f"{writing.dedup_key}:op{who}")


def notify_merchants(notifier: Notifier, commerce: Commerce, pacer: OrderPacer | None = None) -> Notifier:
    """Give ``notifier`` the merchants' notifications and the operator directory that reaches them."""
    notifier.directory = Directory(ShopperDirectory(commerce), OperatorDirectory(commerce))
    notifier.subscribe(PaymentCaptured, PaidOrderForMerchants(commerce, pacer))
    return notifier


async def flush_merchant_digests(notifier: Notifier) -> int:
    """Deliver the orders left pending behind a closed window (the runtime's periodic jobs call this).
    Returns how many notifications were delivered; a failed one is tried again by the next flush."""
    subscriber = next(
        (s for s in notifier.subscribers.of(PaymentCaptured.name) if isinstance(s, PaidOrderForMerchants)),
        None,
    )
    if subscriber is None or subscriber.pacer is None:
        return 0
    pacer = subscriber.pacer
    keys = await pacer.unsent()
    for member in await pacer.waiting():
        keys.append(await pacer.new_flush_key(member))
    gate = asyncio.Semaphore(FLUSH_CONCURRENCY)  # chats wait on their own limits side by side

    async def flush(key: str) -> int:
        _, merchant_id, operator_id, _nonce = key.split(":", 3)  # digest:<merchant>:<operator>:<nonce>
        member = Member(int(merchant_id), int(operator_id))
        async with gate:
            numbers = await pacer.claim(member, key, None)
            notes = await subscriber.compose_claim(notifier.texts, notifier.directory, member, numbers, key)
            failures = [f for note in notes for f in await notifier.deliver(note)]
        if failures:
            return 0
        await pacer.sent(key)
        return len(notes)

    delivered = sum(await asyncio.gather(*(flush(key) for key in keys)))
    return delivered
