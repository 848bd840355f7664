"""After-sales desk fixtures: the whole bot behind the console channel (tests/dialogs), shoppers with
a delivered order, and staff accounts bound to a console identity so their alerts can be read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.runtime import Runtime
from commerce_core.api import (
    SYSTEM_ACTOR,
    Actor,
    CaseItemRequest,
    CaseKind,
    CaseView,
    Commerce,
    FakeClock,
    LineRequest,
    OperatorPolicy,
    OperatorRole,
    OperatorView,
)
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import chat_factory

__all__ = ["Delivered", "chat_factory", "delivered", "open_case", "pushed", "staff"]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Delivered:
    user: str  # the console user id (the shopper's chat)
    customer_id: int
    order_number: str


async def delivered(
    runtime: Runtime, clock: FakeClock, user: str, lang: str, sku: str = "D1-RED-M", quantity: int = 2
) -> Delivered:
    """A shopper (console user ``user``, language ``lang``) with a paid order that has arrived."""
    commerce = runtime.commerce
    customer = await commerce.customers.identify("console", user, language=lang)
    order = await commerce.orders.place(customer.id, ADDRESS, f"k-{user}", items=[LineRequest(sku, quantity)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    shipment = await commerce.shipments.ship(order.number)
    clock.advance(days=15)
    await commerce.shipments.refresh(shipment.tracking_number)
    assert (await commerce.orders.get(order.number)).status == "delivered"
    await runtime.relay_notifications()
    await runtime.inbox("console").drain(user)  # payment, shipping, delivery: not what we look at
    return Delivered(user, customer.id, order.number)


async def open_case(
    commerce: Commerce, shop: Delivered, kind: CaseKind, reason: str = "size_fit", quantity: int = 2
) -> CaseView:
    return await commerce.after_sales.open(
        shop.customer_id, shop.order_number, kind, [CaseItemRequest(1, quantity)], reason_code=reason
    )


async def pushed(runtime: Runtime, user: str) -> list[dict[str, Any]]:
    """Deliver what the outbox holds, then what reached this console user."""
    await runtime.relay_notifications()
    return await runtime.inbox("console").drain(user)


def buttons(replies: list[dict[str, Any]]) -> list[str]:
    """The payloads of the buttons in pushed replies, in order."""
    return [str(b["payload"]) for r in replies for b in r.get("buttons", [])]


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


async def staff(commerce: Commerce, email: str, role: OperatorRole, language: str, chat: str) -> OperatorView:
    """A staff account bound to console user ``chat`` (where its alerts arrive)."""
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    person = await commerce.operators.create(
        email, PASSWORD, role, display_name=email.split("@")[0], language=language, actor=SYSTEM_ACTOR
    )
    code = await commerce.operators.issue_binding_code(person.public_id, Actor(person.public_id, None))
    await commerce.operators.redeem_binding_code("console", chat, code)
    return person
