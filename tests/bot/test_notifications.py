"""Notifications: one subscriber per event type, recipients resolved through a directory, delivery
that keeps going past a failing address, and the relay keeping shoppers apart."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.crc import key_slot

from bot.infra.redis import make_redis
from bot.notifications import (
    Address,
    DeliveryFailed,
    Directory,
    InboxSender,
    Merchant,
    Notification,
    Notifier,
    Recipient,
    Shopper,
    ShopperDirectory,
    StaffQueue,
    Writing,
)
from bot.notifications.compose import Phrase
from bot.runtime import Runtime
from commerce_core.api import (
    AfterSalesStatusChanged,
    Commerce,
    DomainEvent,
    FakeClock,
    MalformedEvent,
    Money,
    OrderCancelled,
    OrderPlaced,
    OrderShipped,
    OutboxEnvelope,
    OutboxRelay,
    OutboxSubscribers,
    PaymentCaptured,
    RefundRequested,
    RefundSucceeded,
    ShipmentDelayed,
    ShipmentUpdated,
    pending_count,
)
from commerce_core.orders.types import LineRequest
from commerce_core.outbox.model import OutboxMessage
from dialogs.messages import Button, Reply, TextReply
from dialogs.texts import LANGUAGES, Texts, load_texts
from tests.commerce.factory import ADDRESS
from tests.conftest import REDIS_URL

TEXTS = load_texts()


def legacy_compose(event: str, p: dict[str, Any], lang: str) -> list[Reply]:
    """What ``Notifier.compose`` sent shoppers before subscribers per event type (verbatim): the
    oracle that shoppers see no change."""
    t = TEXTS.get
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
                (
                    Button(t(lang, "button.after_sales"), f"as:{number}"),
                    Button(t(lang, "reviews.rate_button"), f"rvw:{number}"),  # R5.3-1: asked to rate
                ),
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


SHOPPER = 42
EVENTS: list[DomainEvent] = [
    PaymentCaptured("pay_1", "N100", SHOPPER, 19900, "CNY", "sandbox"),
    OrderShipped("N100", SHOPPER, "sim", "SX123"),
    ShipmentUpdated("N100", SHOPPER, "SX123", "in_transit", "Hangzhou"),
    ShipmentUpdated("N100", SHOPPER, "SX123", "delivered", "Beijing"),
    ShipmentDelayed("N100", SHOPPER, "SX123", 72),
    RefundSucceeded("rf_1", "N100", SHOPPER, 5000, "USD"),
    OrderCancelled("N101", SHOPPER, "payment_timeout", 0),
    OrderCancelled("N102", SHOPPER, "customer", 19900),
    AfterSalesStatusChanged("AS7", SHOPPER, "open", "accepted"),
    OrderPlaced("N100", SHOPPER, 19900, "CNY", [1]),
    RefundRequested("rf_1", "N100", 5000, "USD"),
]


@dataclass
class RecordingSender:
    """A channel that records pushes, de-duplicates like the real ones, and can be down for some."""

    down_for: set[str] = field(default_factory=set)
    pushed: list[tuple[str, list[Reply], str]] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        if user_id in self.down_for:
            raise ConnectionError(f"{user_id} unreachable")
        if (dedup_key, user_id) in self._seen:
            return
        self._seen.add((dedup_key, user_id))
        self.pushed.append((user_id, replies, dedup_key))


@dataclass
class FakeDirectory:
    """Recipients the test knows: language and addresses of each."""

    people: dict[Recipient, tuple[str, list[Address]]]

    async def language_of(self, recipient: Recipient) -> str | None:
        found = self.people.get(recipient)
        return found[0] if found else None

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        found = self.people.get(recipient)
        return found[1] if found else []


def envelope(event: DomainEvent, message_id: int = 7) -> OutboxEnvelope:
    return OutboxEnvelope(message_id, event.name, event.payload(), 0, event.ordering_key)


def notifier_for(directory: Any, senders: dict[str, Any], texts: Texts = TEXTS) -> Notifier:
    return Notifier(None, texts, senders, directory=directory)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_shoppers_get_the_same_messages_as_before(lang: str) -> None:
    web = RecordingSender()
    directory = FakeDirectory({Shopper(SHOPPER): (lang, [Address("web", "u42")])})
    notifier = notifier_for(directory, {"web": web})
    for number, event in enumerate(EVENTS, start=1):
        web.pushed.clear()
        await notifier.handle(envelope(event, number))
        expected = legacy_compose(event.name, event.payload(), lang)
        assert [replies for _, replies, _ in web.pushed] == ([expected] if expected else []), event
        assert all(key == f"outbox:{number}" and user == "u42" for user, _, key in web.pushed)
    assert legacy_compose("PaymentCaptured", EVENTS[0].payload(), lang)[0].buttons[0].payload == "order:N100"


async def test_the_notifier_as_an_outbox_subscriber_delivers_the_same() -> None:
    web = RecordingSender()
    directory = FakeDirectory({Shopper(SHOPPER): ("en", [Address("web", "u42")])})
    outbox = OutboxSubscribers()
    notifier_for(directory, {"web": web}).attach(outbox)
    await outbox(envelope(EVENTS[1]))
    [(_, [reply], _)] = web.pushed
    assert isinstance(reply, TextReply) and "SX123" in reply.text and reply.buttons[0].payload == "track:N100"


async def test_a_malformed_payload_raises_for_the_relay_to_park() -> None:
    notifier = notifier_for(FakeDirectory({}), {})
    with pytest.raises(MalformedEvent, match="lacks 'payment_id'"):
        await notifier.handle(OutboxEnvelope(1, "PaymentCaptured", {"order_number": "N1"}, 0))
    await notifier.handle(OutboxEnvelope(2, "OrderPlaced", {"broken": True}, 0))  # nobody is told of it


async def test_merchants_and_staff_are_reached_once_operators_have_identities() -> None:
    telegram = RecordingSender()

    async def new_order_for_merchants(event: OrderPlaced, writing: Writing) -> list[Notification]:
        def write(t: Phrase) -> list[Reply]:
            return [TextReply(f"{t('button.my_orders')}: {event.order_number}")]

        found: list[Notification] = []
        for merchant_id in event.merchant_ids:
            found += await writing.to(Merchant(merchant_id), write, dedup_key=f"{writing.dedup_key}:m")
        found += await writing.to(StaffQueue("agent"), write, dedup_key=f"{writing.dedup_key}:staff")
        return found

    operators = FakeDirectory(
        {
            Merchant(1): ("en", [Address("telegram", "900"), Address("telegram", "901")]),
            StaffQueue("agent"): ("zh-Hans", [Address("telegram", "500")]),
        }
    )
    shoppers = FakeDirectory({})
    cases = ((Directory(shoppers), []), (Directory(shoppers, operators), ["900", "901", "500"]))
    for directory, expected in cases:
        telegram.pushed.clear()
        notifier = notifier_for(directory, {"telegram": telegram})
        notifier.subscribe(OrderPlaced, new_order_for_merchants)
        await notifier.handle(envelope(OrderPlaced("N9", SHOPPER, 100, "CNY", [1, 2])))
        assert [user for user, _, _ in telegram.pushed] == expected
    texts = {user: replies[0].text for user, replies, _ in telegram.pushed}  # type: ignore[attr-defined]
    assert texts["900"] == "My orders: N9"
    assert texts["500"] == f"{TEXTS.get('zh-Hans', 'button.my_orders')}: N9"


async def test_one_unreachable_address_does_not_keep_the_others_from_theirs() -> None:
    telegram, wechat = RecordingSender(down_for={"t1"}), RecordingSender()
    addresses = [Address("telegram", "t1"), Address("wechat", "w1")]
    directory = FakeDirectory({Shopper(SHOPPER): ("en", addresses)})
    notifier = notifier_for(directory, {"telegram": telegram, "wechat": wechat})
    with pytest.raises(DeliveryFailed, match="1 address"):
        await notifier.handle(envelope(EVENTS[0]))
    assert [user for user, _, _ in wechat.pushed] == ["w1"] and telegram.pushed == []
    telegram.down_for.clear()
    await notifier.handle(envelope(EVENTS[0]))  # the relay's retry
    assert [user for user, _, _ in telegram.pushed] == ["t1"]
    assert len(wechat.pushed) == 1  # not twice


async def test_erased_and_unknown_shoppers_get_nothing(commerce: Commerce) -> None:
    web = RecordingSender()
    customer = await commerce.customers.identify("web", "u-erased", language="en")
    notifier = Notifier(commerce, TEXTS, {"web": web})
    await notifier.handle(envelope(ShipmentDelayed("N1", customer.id, "SX1", 50)))
    assert [user for user, _, _ in web.pushed] == ["u-erased"]
    await commerce.privacy.erase(customer.id, actor="test")
    await notifier.handle(envelope(ShipmentDelayed("N1", customer.id, "SX1", 60), 8))
    await notifier.handle(envelope(ShipmentDelayed("N1", 999_999, "SX1", 60), 9))
    assert len(web.pushed) == 1
    assert await ShopperDirectory(commerce).addresses_of(Merchant(1)) == []


async def test_a_shopper_whose_channel_is_down_does_not_hold_up_the_others(
    commerce: Commerce, clock: FakeClock
) -> None:
    """Through the relay: shopper A's messages wait, in order, while B's go; then A's arrive."""
    web = RecordingSender(down_for={"a"})
    a = await commerce.customers.identify("web", "a", language="en")
    b = await commerce.customers.identify("web", "b", language="en")
    now = clock.now()
    async with commerce.sessions() as session, session.begin():
        for hours, customer in ((1, a), (1, b), (2, a), (2, b)):
            event = ShipmentDelayed(f"N{customer.id}", customer.id, "SX1", hours)
            session.add(
                OutboxMessage(
                    event_type=event.name,
                    payload=event.payload(),
                    created_at=now,
                    available_at=now,
                    attempts=0,
                    ordering_key=event.ordering_key,
                )
            )
    relay = OutboxRelay(commerce.engine, clock, Notifier(commerce, TEXTS, {"web": web}).handle)
    assert await relay.drain() == 2
    b_texts = [replies[0].text for user, replies, _ in web.pushed if user == "b"]  # type: ignore[attr-defined]
    assert b_texts == [TEXTS.get("en", "notify.delayed", number=f"N{b.id}", hours=h) for h in (1, 2)]
    assert [user for user, _, _ in web.pushed] == ["b", "b"]
    web.down_for.clear()
    clock.advance(seconds=3)
    assert await relay.drain() == 2
    a_texts = [replies[0].text for user, replies, _ in web.pushed if user == "a"]  # type: ignore[attr-defined]
    assert a_texts == [TEXTS.get("en", "notify.delayed", number=f"N{a.id}", hours=h) for h in (1, 2)]
    assert await pending_count(commerce.sessions) == 0


async def test_the_worker_pushes_a_payment_confirmation_at_commit_not_at_the_next_poll(
    runtime: Runtime,
) -> None:
    """The job loop's relay sleeps until a commit wakes it (NOTIFY / the SQLite commit event): the
    shopper's "payment received" is in the inbox long before the 60 s job interval comes round."""
    commerce = runtime.container.commerce
    customer = await commerce.customers.identify("web", "quick-pay", language="en")
    jobs = asyncio.create_task(runtime.run_jobs(interval=60))
    try:
        await asyncio.sleep(0.5)  # the first round of jobs is done; the relay is asleep
        order = await commerce.orders.place(customer.id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
        payment = await commerce.payments.start(order.number)
        paid = time.monotonic()
        await commerce.payments.sandbox_pay(payment.payment_id)
        pushed: list[dict[str, Any]] = []
        while not pushed and time.monotonic() - paid < 5:
            await asyncio.sleep(0.02)
            pushed = await runtime.inboxes["web"].drain("quick-pay")
        assert time.monotonic() - paid < 1.0
        assert [p["text"] for p in pushed] == [
            TEXTS.get("en", "pay.confirmed", amount=Money(59900, "CNY").format(), number=order.number)
        ]
    finally:
        runtime.stop()
        await jobs


async def test_one_lookup_per_shopper_and_event_and_a_new_one_for_the_next_event(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: an event's notification asks for its shopper's language and addresses in one read,
    kept for that event only: a language switched between two events shows in the second."""
    web = RecordingSender()
    customer = await commerce.customers.identify("web", "u-switch", language="en")
    reads: list[int] = []
    reach = commerce.customers.reach

    async def counted(customer_id: int) -> Any:
        reads.append(customer_id)
        return await reach(customer_id)

    monkeypatch.setattr(commerce.customers, "reach", counted)
    notifier = Notifier(commerce, TEXTS, {"web": web})
    await notifier.handle(envelope(ShipmentDelayed("N1", customer.id, "SX1", 50), 1))
    await commerce.customers.set_language(customer.id, "zh-Hant")
    await notifier.handle(envelope(ShipmentDelayed("N1", customer.id, "SX1", 60), 2))
    texts = [replies[0].text for _, replies, _ in web.pushed]  # type: ignore[attr-defined]
    assert texts == [
        TEXTS.get("en", "notify.delayed", number="N1", hours=50),
        TEXTS.get("zh-Hant", "notify.delayed", number="N1", hours=60),
    ]
    assert reads == [customer.id, customer.id]  # one read per event, none kept across events


@pytest.mark.parametrize("url", ["memory://", "real"])
async def test_an_inbox_push_is_stored_once_in_one_cluster_slot(url: str) -> None:
    """The outbox may deliver a notification twice: the shopper's inbox gets its replies once, in
    order; the de-dup mark and the inbox share a Redis Cluster slot (the push is one script)."""
    redis = make_redis(REDIS_URL if url == "real" else url)
    sender = InboxSender(redis, "web")
    user = f"once-{secrets.token_hex(6)}"
    try:
        for _ in range(2):
            await sender.push(user, [TextReply("paid"), TextReply("thanks")], dedup_key="outbox:7")
        await sender.push(user, [], dedup_key="outbox:8")  # nothing to say: marked, nothing queued
        assert [item["text"] for item in await sender.drain(user)] == ["paid", "thanks"]
        assert key_slot(sender.key(user).encode()) == key_slot(sender.pushed_key(user, "o:9").encode())
    finally:
        await redis.delete(
            sender.key(user), sender.pushed_key(user, "outbox:7"), sender.pushed_key(user, "outbox:8")
        )
        await redis.aclose()
