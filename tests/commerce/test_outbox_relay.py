"""The outbox relay: typed decoding, order per key, failures that block only their key, parking,
and waking on commit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from commerce_core import events
from commerce_core.app import Commerce, CommerceConfig
from commerce_core.clock import FakeClock
from commerce_core.db.engine import create_engine
from commerce_core.events import (
    EVENT_TYPES,
    DomainEvent,
    MalformedEvent,
    OrderPlaced,
    PaymentCaptured,
    ShipmentDelayed,
    ShipmentUpdated,
    decode,
)
from commerce_core.orders.types import LineRequest
from commerce_core.outbox.model import OutboxMessage
from commerce_core.outbox.relay import OutboxEnvelope, OutboxRelay, RelaySettings, customer_key, relay_once
from commerce_core.outbox.store import parked_messages, pending_count, requeue
from commerce_core.outbox.subscribers import OutboxSubscribers
from commerce_core.outbox.wakeup import PostgresListener
from tests.commerce.factory import ADDRESS, build_shop
from tests.conftest import TEST_KEYS, fresh_postgres
from tests.runtime_support import sqlite_copy


def build_commerce(url: str, clock: FakeClock) -> Commerce:
    config = CommerceConfig(
        encryption_keys=TEST_KEYS, blind_index_key="k", sandbox_payment_secret="test-sandbox-secret-123"
    )
    return Commerce.build(create_engine(url), config, clock=clock)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    return fresh_postgres(request)


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def pg_commerce(pg_url: str, clock: FakeClock) -> AsyncIterator[Commerce]:
    commerce = build_commerce(pg_url, clock)
    yield commerce
    await commerce.close()


@pytest_asyncio.fixture
async def sqlite_commerce(sqlite_url: str, clock: FakeClock) -> AsyncIterator[Commerce]:
    commerce = build_commerce(sqlite_url, clock)
    yield commerce
    await commerce.close()


def delayed(customer_id: int, seq: int) -> ShipmentDelayed:
    return ShipmentDelayed(f"N{customer_id}-{seq}", customer_id, "SX1", seq)


async def add(commerce: Commerce, *rows: tuple[str, Any, str | None]) -> list[int]:
    """Outbox rows as a unit of work would write them (payloads as given, even broken ones)."""
    now = commerce.clock.now()
    async with commerce.sessions() as session, session.begin():
        messages = [
            OutboxMessage(
                event_type=event_type,
                payload=payload,
                created_at=now,
                available_at=now,
                attempts=0,
                ordering_key=key,
            )
            for event_type, payload, key in rows
        ]
        session.add_all(messages)
        await session.flush()
        return [m.id for m in messages]


async def add_events(commerce: Commerce, *events: DomainEvent) -> list[int]:
    return await add(commerce, *[(e.name, e.payload(), e.ordering_key) for e in events])


# -- typed decoding ----------------------------------------------------------------------------------


def test_every_domain_event_is_in_the_table() -> None:
    def subclasses(cls: type[DomainEvent]) -> set[type[DomainEvent]]:
        found = set(cls.__subclasses__())
        return found.union(*(subclasses(c) for c in found)) if found else found

    # (slots=True makes each dataclass anew; the first draft lingers among the subclasses)
    assert set(EVENT_TYPES) == {cls.name for cls in subclasses(DomainEvent)}
    assert all(name == cls.name and vars(events)[cls.__name__] is cls for name, cls in EVENT_TYPES.items())


def test_decode_returns_the_event_that_was_written() -> None:
    events: list[DomainEvent] = [
        PaymentCaptured("pay_1", "N1", 42, 19900, "CNY", "sandbox"),
        OrderPlaced("N2", 42, 100, "CNY", [3, 4]),
        ShipmentUpdated("N3", 42, "SX1", "delivered", None),
    ]
    for event in events:
        assert decode(event.name, event.payload()) == event


def test_decode_is_tolerant_of_older_and_newer_rows() -> None:
    payload = PaymentCaptured("pay_1", "N1", 42, 19900, "CNY", "sandbox").payload()
    assert decode("PaymentCaptured", {**payload, "field_from_the_future": 1}).amount == 19900
    old_order = {"order_number": "N2", "customer_id": 42, "total": 100, "currency": "CNY"}
    assert decode("OrderPlaced", old_order) == OrderPlaced("N2", 42, 100, "CNY", [])


@pytest.mark.parametrize(
    ("event_type", "payload", "complaint"),
    [
        ("PaymentCaptured", {"order_number": "N1"}, "lacks 'payment_id'"),
        ("ShipmentDelayed", {**delayed(1, 1).payload(), "customer_id": "42"}, "customer_id has a str"),
        ("ShipmentDelayed", {**delayed(1, 1).payload(), "hours_without_event": True}, "has a bool"),
        ("OrderPlaced", {**OrderPlaced("N", 1, 1, "CNY").payload(), "merchant_ids": [1, "x"]}, "merchant"),
        ("ShipmentDelayed", ["not", "an", "object"], "not an object"),
        ("NoSuchEvent", {}, "unknown event type"),
    ],
)
def test_malformed_payloads_raise_a_clear_error(event_type: str, payload: Any, complaint: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        decode(event_type, payload)
    assert complaint in str(raised.value) and raised.value.code == "malformed_event"


# -- the relay on SQLite and PostgreSQL --------------------------------------------------------------


@dataclass
class Recorder:
    """A handler that records what it delivered, and fails for the customers it is told to."""

    failing: set[int]
    seen: list[tuple[int, int]]

    async def __call__(self, envelope: OutboxEnvelope) -> None:
        event = envelope.event()
        assert isinstance(event, ShipmentDelayed)
        if event.customer_id in self.failing:
            raise ConnectionError(f"customer {event.customer_id}'s channel is down")
        self.seen.append((event.customer_id, event.hours_without_event))


async def test_a_failing_recipient_blocks_only_its_own_later_messages(
    commerce: Commerce, clock: FakeClock
) -> None:
    await add_events(commerce, delayed(1, 1), delayed(2, 1), delayed(1, 2), delayed(2, 2), delayed(3, 1))
    recorder = Recorder(failing={1}, seen=[])
    relay = OutboxRelay(commerce.engine, clock, recorder, sessions=commerce.sessions)
    assert await relay.drain() == 3
    assert recorder.seen == [(2, 1), (3, 1), (2, 2)] or sorted(recorder.seen) == [(2, 1), (2, 2), (3, 1)]
    assert recorder.seen.index((2, 1)) < recorder.seen.index((2, 2))
    assert await pending_count(commerce.sessions) == 2  # customer 1's two wait for the first
    recorder.failing.clear()
    assert await relay.drain() == 0  # backing off: 1-2 may not overtake 1-1
    clock.advance(seconds=3)
    assert await relay.drain() == 2
    assert [seq for customer, seq in recorder.seen if customer == 1] == [1, 2]


async def test_relay_once_still_answers_for_older_callers(commerce: Commerce, clock: FakeClock) -> None:
    await add_events(commerce, delayed(1, 1), delayed(1, 2))
    recorder = Recorder(failing=set(), seen=[])
    assert await relay_once(commerce.sessions, clock, recorder) == 2
    assert recorder.seen == [(1, 1), (1, 2)]


async def test_a_malformed_message_is_parked_at_once_and_its_key_goes_on(
    commerce: Commerce, clock: FakeClock
) -> None:
    good = delayed(1, 2)
    [broken, _] = await add(
        commerce,
        ("ShipmentDelayed", {"order_number": "N1"}, "customer:1"),
        (good.name, good.payload(), good.ordering_key),
    )
    subscribers = OutboxSubscribers()
    seen: list[ShipmentDelayed] = []

    async def on_delay(event: ShipmentDelayed, message: OutboxEnvelope) -> None:
        seen.append(event)

    subscribers.subscribe(ShipmentDelayed, on_delay)
    relay = OutboxRelay(commerce.engine, clock, subscribers, sessions=commerce.sessions)
    assert await relay.drain() == 1
    assert seen == [good] and await pending_count(commerce.sessions) == 0
    [parked] = await parked_messages(commerce.sessions)
    assert parked.id == broken and parked.attempts == 1
    assert parked.last_error is not None and "MalformedEvent" in parked.last_error
    assert "lacks 'customer_id'" in parked.last_error
    assert await requeue(commerce.sessions, clock.now(), [broken]) == 1
    assert await pending_count(commerce.sessions) == 1


async def test_a_message_that_keeps_failing_is_parked_and_stops_blocking(
    commerce: Commerce, clock: FakeClock
) -> None:
    await add_events(commerce, delayed(1, 1), delayed(1, 2))
    attempts = 0

    async def handler(envelope: OutboxEnvelope) -> None:
        nonlocal attempts
        if envelope.event().hours_without_event == 1:  # type: ignore[attr-defined]
            attempts += 1
            raise TimeoutError("platform does not answer")

    relay = OutboxRelay(
        commerce.engine, clock, handler, sessions=commerce.sessions, settings=RelaySettings(max_attempts=3)
    )
    for _ in range(3):
        await relay.drain()
        clock.advance(minutes=31)
    assert attempts == 3
    [parked] = await parked_messages(commerce.sessions)
    assert parked.attempts == 3 and parked.last_error == "TimeoutError: platform does not answer"
    assert await pending_count(commerce.sessions) == 0  # 1-2 was delivered right after the parking


async def test_subscribers_only_decode_what_someone_reacts_to(commerce: Commerce, clock: FakeClock) -> None:
    await add(commerce, ("EventOfAnOlderRelease", {"x": 1}, None), ("ShipmentDelayed", "garbage", None))
    relay = OutboxRelay(commerce.engine, clock, OutboxSubscribers(), sessions=commerce.sessions)
    assert await relay.drain() == 1  # nobody subscribes to the old event: delivered, not decoded
    [parked] = await parked_messages(commerce.sessions)  # no handler could read a string payload
    assert parked.event_type == "ShipmentDelayed" and "not a JSON object" in (parked.last_error or "")
    with pytest.raises(ValueError, match="not an outbox event"):
        OutboxSubscribers().subscribe(DomainEvent, lambda e, m: asyncio.sleep(0))  # type: ignore[arg-type]


async def test_sqlite_commits_wake_the_relay_in_the_same_process(
    sqlite_commerce: Commerce, clock: FakeClock
) -> None:
    await wake_up_latency(sqlite_commerce, clock)


async def test_postgres_notify_wakes_the_relay_at_commit(pg_commerce: Commerce, clock: FakeClock) -> None:
    await wake_up_latency(pg_commerce, clock)


async def wake_up_latency(commerce: Commerce, clock: FakeClock) -> None:
    """An order paid while the relay sleeps is handled far sooner than any poll would find it."""
    shop = await build_shop(commerce)
    captured = asyncio.Event()
    handled_at = 0.0

    async def on_captured(event: PaymentCaptured, message: OutboxEnvelope) -> None:
        nonlocal handled_at
        handled_at = time.monotonic()
        captured.set()

    subscribers = OutboxSubscribers()
    subscribers.subscribe(PaymentCaptured, on_captured)
    slow_polls = RelaySettings(poll_interval=30.0, fallback_poll_interval=30.0)
    relay = OutboxRelay(commerce.engine, clock, subscribers, sessions=commerce.sessions, settings=slow_polls)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.3)  # started, delivered the shop's events, asleep
        order = await commerce.orders.place(shop.customer_id, ADDRESS, "k", items=[LineRequest("H1-BLK", 1)])
        payment = await commerce.payments.start(order.number)
        committed = time.monotonic()
        await commerce.payments.sandbox_pay(payment.payment_id)
        await asyncio.wait_for(captured.wait(), timeout=10)
        assert handled_at - committed < 1.0  # the safety-net poll is 30 s
    finally:
        stop.set()
        await running


async def test_two_relays_share_the_work_once_each_in_order_per_key(
    pg_url: str, pg_commerce: Commerce, clock: FakeClock
) -> None:
    """Two relay processes (two engines, two listeners) on one outbox: every message is handled
    exactly once, each shopper's messages one after another in order, different shoppers at once."""
    customers, per_customer = 12, 6
    spans: list[tuple[str, int, int, float, float]] = []  # relay, customer, seq, start, end

    def handler_for(relay_name: str) -> Any:
        async def handle(envelope: OutboxEnvelope) -> None:
            event = envelope.event()
            assert isinstance(event, ShipmentDelayed)
            start = time.monotonic()
            await asyncio.sleep(0.02)  # a push to a chat platform
            spans.append((relay_name, event.customer_id, event.hours_without_event, start, time.monotonic()))

        return handle

    small_claims = RelaySettings(batch=3, concurrency=4, poll_interval=30.0, fallback_poll_interval=30.0)
    other = build_commerce(pg_url, clock)
    relays = [
        OutboxRelay(c.engine, clock, handler_for(name), settings=small_claims)
        for name, c in (("a", pg_commerce), ("b", other))
    ]
    stop = asyncio.Event()
    running = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        await asyncio.sleep(0.3)  # both listening
        for seq in range(1, per_customer + 1):  # ids interleave customers, as real traffic does
            await add_events(pg_commerce, *[delayed(c, seq) for c in range(1, customers + 1)])
        for _ in range(200):
            if len(spans) >= customers * per_customer:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*running)
        await other.close()
    handled = [(customer, seq) for _, customer, seq, _, _ in spans]
    assert sorted(handled) == [(c, s) for c in range(1, customers + 1) for s in range(1, per_customer + 1)]
    assert await pending_count(pg_commerce.sessions) == 0
    for customer in range(1, customers + 1):
        mine = sorted((start, end, seq) for _, c, seq, start, end in spans if c == customer)
        assert [seq for _, _, seq in mine] == list(range(1, per_customer + 1))  # in order
        assert all(mine[i][1] <= mine[i + 1][0] for i in range(len(mine) - 1))  # never two at once
    assert {relay for relay, *_ in spans} == {"a", "b"}  # both took a share
    overlapping = sum(
        1 for _, c1, _, s1, e1 in spans for _, c2, _, s2, e2 in spans if c1 < c2 and s1 < e2 and s2 < e1
    )
    assert overlapping > 0  # different shoppers were served at the same time


async def test_the_listener_reconnects_after_losing_its_connection(
    pg_commerce: Commerce, clock: FakeClock
) -> None:
    listeners: list[PostgresListener] = []

    def listen(engine: Any, signal: Any) -> PostgresListener:
        listeners.append(PostgresListener(engine, signal, retry_delay=0.05, keepalive=0.1))
        return listeners[-1]

    handled = asyncio.Event()

    async def handler(envelope: OutboxEnvelope) -> None:
        handled.set()

    slow_polls = RelaySettings(poll_interval=30.0, fallback_poll_interval=30.0)
    relay = OutboxRelay(pg_commerce.engine, clock, handler, settings=slow_polls, wakeup=listen)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await asyncio.sleep(0.5)  # a few keep-alive queries on a healthy connection
        assert listeners[0].connections == 1 and listeners[0].listening
        async with pg_commerce.engine.connect() as conn:
            killed = await conn.scalar(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": listeners[0].backend_pid}
            )
        assert killed is True
        for _ in range(100):
            if listeners[0].connections == 2 and listeners[0].listening:
                break
            await asyncio.sleep(0.02)
        assert listeners[0].connections == 2 and listeners[0].listening
        started = time.monotonic()
        await add_events(pg_commerce, delayed(1, 1))
        await asyncio.wait_for(handled.wait(), timeout=10)
        assert time.monotonic() - started < 1.0
    finally:
        stop.set()
        await running


async def test_one_shoppers_backlog_does_not_crowd_the_others_out(
    commerce: Commerce, clock: FakeClock
) -> None:
    await add_events(commerce, *[delayed(1, seq) for seq in range(1, 31)], delayed(2, 1))
    recorder = Recorder(failing=set(), seen=[])
    relay = OutboxRelay(
        commerce.engine, clock, recorder, sessions=commerce.sessions, settings=RelaySettings(batch=2, run=5)
    )
    first = await relay.deliver_once()
    assert first.delivered == 6 and (2, 1) in recorder.seen  # five of the backlog, and shopper 2
    assert await relay.drain() == 25
    assert [seq for customer, seq in recorder.seen if customer == 1] == list(range(1, 31))


async def test_an_unreadable_head_is_parked_and_the_rest_of_its_key_still_goes(
    commerce: Commerce, clock: FakeClock
) -> None:
    good = delayed(1, 2)
    await add(
        commerce, ("ShipmentDelayed", "garbage", "customer:1"), (good.name, good.payload(), "customer:1")
    )
    recorder = Recorder(failing=set(), seen=[])
    assert await OutboxRelay(commerce.engine, clock, recorder, sessions=commerce.sessions).drain() == 1
    assert recorder.seen == [(1, 2)] and len(await parked_messages(commerce.sessions)) == 1


# -- one recipient's messages now (the web chat's pay button) ---------------------------------------


def test_customer_key_is_the_ordering_key_events_write() -> None:
    assert customer_key(42) == delayed(42, 1).ordering_key == OrderPlaced("N1", 42, 1, "CNY").ordering_key


async def test_draining_recipients_leaves_everybody_else_for_the_relay(
    commerce: Commerce, clock: FakeClock
) -> None:
    """Issue 16: the pay button relays the payers' own notifications into its answer (pay buttons
    pressed together share one claim); another shopper's wait for the relay, which still delivers
    each of them exactly once."""
    await add_events(
        commerce, delayed(1, 1), delayed(2, 1), delayed(1, 2), delayed(3, 1), delayed(2, 2), delayed(1, 3)
    )
    recorder = Recorder(failing=set(), seen=[])
    runs_of_two = RelaySettings(run=2)
    relay = OutboxRelay(commerce.engine, clock, recorder, settings=runs_of_two, sessions=commerce.sessions)
    assert await relay.drain_recipients([customer_key(1), customer_key(3)]) == 4  # 1's backlog: 2 claims
    assert [seq for customer, seq in recorder.seen if customer == 1] == [1, 2, 3]  # in order
    assert sorted(customer for customer, _ in recorder.seen) == [1, 1, 1, 3]  # nobody else's
    assert await pending_count(commerce.sessions) == 2
    assert await relay.drain_recipients([customer_key(1)]) == 0  # nothing twice
    assert await relay.drain() == 2
    assert sorted(recorder.seen) == [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1)]


async def test_a_recipient_another_relay_is_delivering_is_left_to_it(
    commerce: Commerce, clock: FakeClock
) -> None:
    """The background relay holds the payer's messages (leased, mid-delivery): draining that
    recipient takes nothing, so nothing is delivered twice or out of order; it goes on afterwards."""
    await add_events(commerce, delayed(1, 1), delayed(1, 2))
    started, release = asyncio.Event(), asyncio.Event()
    seen: list[tuple[str, int]] = []

    async def slow(envelope: OutboxEnvelope) -> None:
        started.set()
        await release.wait()
        event = envelope.event()
        assert isinstance(event, ShipmentDelayed)
        seen.append(("background", event.hours_without_event))

    background = OutboxRelay(commerce.engine, clock, slow, sessions=commerce.sessions)
    busy = asyncio.create_task(background.deliver_once())
    await started.wait()
    await add_events(commerce, delayed(1, 3))
    recorder = Recorder(failing=set(), seen=[])
    web = OutboxRelay(commerce.engine, clock, recorder, sessions=commerce.sessions)
    assert await web.drain_recipients([customer_key(1)]) == 0
    release.set()
    assert (await busy).delivered == 2
    assert await web.drain_recipients([customer_key(1)]) == 1
    assert seen == [("background", 1), ("background", 2)] and recorder.seen == [(1, 3)]
    assert await pending_count(commerce.sessions) == 0


async def test_draining_a_recipient_parks_the_unreadable_and_stops_at_a_retry(
    commerce: Commerce, clock: FakeClock
) -> None:
    """The pay button's claim keeps the relay's rules: an unreadable message is parked and its key
    goes on; a message backing off holds back the ones behind it until it is due."""
    second, third = delayed(1, 2), delayed(1, 3)
    rows = [("ShipmentDelayed", "garbage", "customer:1")]
    await add(commerce, *rows, *[(e.name, e.payload(), e.ordering_key) for e in (second, third)])
    recorder = Recorder(failing={1}, seen=[])
    relay = OutboxRelay(commerce.engine, clock, recorder, sessions=commerce.sessions)
    assert await relay.drain_recipients([customer_key(1)]) == 0  # 1-2 fails, 1-3 waits behind it
    assert len(await parked_messages(commerce.sessions)) == 1
    recorder.failing.clear()
    assert await relay.drain_recipients([customer_key(1)]) == 0  # backing off
    clock.advance(seconds=3)
    assert await relay.drain_recipients([customer_key(1)]) == 2
    assert recorder.seen == [(1, 2), (1, 3)] and await pending_count(commerce.sessions) == 0
