"""What merchants are told: a paid order, to every merchant with lines in it, each seeing only its own.

Each merchant user with a bound chat identity gets the order number, that merchant's lines, the
delivery city (never the street, name or phone) and a "Ship" button, in their own language. The
message goes through the outbox like every notification: retried until delivered, never dropped, in
order per shopper's ordering key; a de-duplication key per operator keeps a retried event from
showing twice where it already arrived.
"""

from __future__ import annotations

from bot.notifications.compose import Notification, Phrase, Writing
from bot.notifications.notifier import Notifier
from bot.notifications.recipients import (
    Directory,
    KnowsMembers,
    Merchant,
    OperatorDirectory,
    Recipient,
    ShopperDirectory,
    StaffMember,
)
from commerce_core.api import Commerce, MerchantOrderView, NotFound, PaymentCaptured, pick_language
from dialogs.messages import Button, Reply, TextReply
from dialogs.payloads import ShipOrder


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


class PaidOrderForMerchants:
    """The PaymentCaptured subscriber (it reads each merchant's part of the order from the core)."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def __call__(self, event: PaymentCaptured, writing: Writing) -> list[Notification]:
        number = event.order_number
        try:
            merchants = await self._commerce.shipments.unshipped_merchants(number)
            city = await self._commerce.shipments.delivery_city(number) if merchants else ""
        except NotFound:
            return []  # the order is gone (erased shopper): nothing to ship
        found: list[Notification] = []
        for merchant_id in merchants:
            part = await self._commerce.operators.merchant_order(merchant_id, number)
            members: list[Recipient] = [Merchant(merchant_id)]
            if isinstance(writing.directory, KnowsMembers):
                members = await writing.directory.members_of(Merchant(merchant_id))
            for member in members:
                found += await self._write(writing, member, part, city)
        return found

    async def _write(
        self, writing: Writing, member: Recipient, part: MerchantOrderView, city: str
    ) -> list[Notification]:
        lang = await writing.directory.language_of(member)
        if lang is None:
            return []

        def write(t: Phrase) -> list[Reply]:
            text = t(
                "operator.new_order",
                number=part.number,
                city=city or "—",
                lines=_lines(t, part, lang),
                total=part.total.format(),
            )
            return [TextReply(text, (Button.of(t("operator.ship_button"), ShipOrder(part.number)),))]

        who = member.user_id if isinstance(member, StaffMember) else f"m{part.number}"
        return await writing.to(member, write, dedup_key=f"{writing.dedup_key}:op{who}")


def notify_merchants(notifier: Notifier, commerce: Commerce) -> Notifier:
    """Give ``notifier`` the merchants' notifications and the operator directory that reaches them."""
    notifier.directory = Directory(ShopperDirectory(commerce), OperatorDirectory(commerce))
    notifier.subscribe(PaymentCaptured, PaidOrderForMerchants(commerce))
    return notifier
