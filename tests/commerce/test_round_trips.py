"""PostgreSQL round trips of the two costliest shopper turns: placing an order and capturing its payment.

Each round trip through the driver costs ~40-80 µs of Python CPU besides the wait (issue 16): these
tests pin the counts, so a change that quietly adds a statement to checkout shows up here. The counts
are statements the driver sends (BEGIN and COMMIT included) once every statement is prepared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asyncpg import connection, prepared_stmt  # type: ignore[import-untyped]
from sqlalchemy import select

from commerce_core.app import Commerce
from commerce_core.cart.types import ProblemKind
from commerce_core.catalog.model import Sku
from commerce_core.customers.model import Address, ChannelIdentity, Customer
from commerce_core.errors import NotAllowed, NotFound
from commerce_core.inventory.model import Reservation, StockLevel
from commerce_core.operators.types import Actor
from commerce_core.orders.model import Order
from commerce_core.orders.types import LineRequest, OrderStatus
from commerce_core.outbox.model import OutboxMessage
from commerce_core.payments.model import Payment, PaymentEvent
from commerce_core.status import StatusChange
from tests.commerce.factory import ADDRESS, build_shop

#: the figures after issue 16 (before: adding to the cart 6, placing 8, starting the payment 2,
#: capturing it 7, reading the latest orders 2)
ADD_TRIPS = 4  # BEGIN, the SKU beside the locked cart, the line, COMMIT
PLACE_TRIPS = (
    5  # cart (prices and stock), BEGIN, order + lines + stock, reservations + cart + journal, COMMIT
)
START_TRIPS = 1  # the payment row, inserted if the order just placed is still payable
STATUS_TRIPS = 1  # the customer's latest orders beside their lines
ADDRESS_TRIPS = 4  # BEGIN, lock the customer and count, clear the default + insert the address, COMMIT
CAPTURE_TRIPS = 5  # BEGIN, lock + event + held stock, stock row, payment + order + journal, COMMIT


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Statements sent by asyncpg (prepared or simple) while the block runs."""
    sent: list[str] = []

    def wrap(owner: Any, name: str, simple_only: bool = False) -> None:
        original = getattr(owner, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not simple_only or len(args) == 1:
                sent.append(str(args[0] if args and isinstance(args[0], str) else name)[:60])
            return await original(self, *args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    wrap(connection.Connection, "execute", simple_only=True)  # with arguments it goes via _execute
    for name in ("_execute", "_executemany", "copy_records_to_table"):
        wrap(connection.Connection, name)
    for name in ("fetch", "fetchrow", "fetchval", "executemany"):
        wrap(prepared_stmt.PreparedStatement, name)
    try:
        yield sent
    finally:
        monkeypatch.undo()


async def _journey(commerce: Commerce, customer_id: int, key: str) -> tuple[str, str]:
    await commerce.cart.add(customer_id, "D1-RED-M", 2)
    order = await commerce.orders.place(customer_id, ADDRESS, key)
    request = await commerce.payments.start(order.number, customer_id=customer_id, placed=order)
    await commerce.payments.sandbox_pay(request.payment_id)
    return order.number, request.payment_id


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_placing_and_paying_an_order_take_few_round_trips_and_keep_every_write(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await build_shop(commerce)
    await _journey(commerce, shop.customer_id, "warm-up")  # prepares every statement once

    with counting(monkeypatch) as adding:
        await commerce.cart.add(shop.customer_id, "D1-RED-M", 2)
    with counting(monkeypatch) as placing:
        order = await commerce.orders.place(shop.customer_id, ADDRESS, "counted")
    assert await _stock(commerce) == (8, 2)  # the first order's 2 units are sold, these 2 held
    with counting(monkeypatch) as starting:
        request = await commerce.payments.start(order.number, customer_id=shop.customer_id, placed=order)
    with counting(monkeypatch) as capturing:
        result = await commerce.payments.sandbox_pay(request.payment_id)

    assert len(adding) <= ADD_TRIPS, adding
    assert len(placing) <= PLACE_TRIPS, placing
    assert len(starting) <= START_TRIPS, starting
    assert len(capturing) <= CAPTURE_TRIPS, capturing
    # what the fewer statements still do: stock held, then taken off the shelf; the cart emptied;
    # the event recorded; history and outbox rows written with the changes
    assert result.outcome == "captured"
    with counting(monkeypatch) as asking:  # "where is my order?"
        latest = await commerce.orders.for_customer(shop.customer_id, limit=1)
    assert len(asking) <= STATUS_TRIPS, asking
    assert [(o.number, o.status) for o in latest] == [(order.number, OrderStatus.PAID.value)]
    assert [(line.sku_code, line.quantity) for line in latest[0].lines] == [("D1-RED-M", 2)]
    assert await commerce.orders.get(order.number) == latest[0]
    assert (await commerce.cart.view(shop.customer_id)).is_empty
    assert await _stock(commerce) == (6, 0)
    async with commerce.units.orm() as uow:
        statuses = (await uow.session.scalars(select(Reservation.status))).all()
        events = (await uow.session.scalars(select(PaymentEvent.kind))).all()
        history = (await uow.session.scalars(select(StatusChange.to_status))).all()
        outbox = (await uow.session.scalars(select(OutboxMessage.event_type))).all()
    assert statuses == ["committed", "committed"]
    assert events == ["succeeded", "succeeded"]
    assert history.count(OrderStatus.PENDING_PAYMENT.value) == history.count(OrderStatus.PAID.value) == 2
    assert outbox.count("OrderPlaced") == outbox.count("PaymentCaptured") == 2

    # a second success for the captured payment changes nothing
    again = await commerce.payments.sandbox_pay(request.payment_id)
    assert again.outcome == "duplicate"
    assert await _stock(commerce) == (6, 0)


async def _stock(commerce: Commerce) -> tuple[int, int]:
    """(on hand, reserved) of the SKU the tests buy."""
    async with commerce.units.orm() as uow:
        row = (
            await uow.session.execute(
                select(StockLevel.on_hand, StockLevel.reserved)
                .join(Sku, Sku.id == StockLevel.sku_id)
                .where(Sku.code == "D1-RED-M")
            )
        ).one()
    return int(row.on_hand), int(row.reserved)


async def test_adding_to_the_cart_answers_with_the_cart_as_stored(commerce: Commerce) -> None:
    """On PostgreSQL the answer is built from the rows read before writing, not read again."""
    shop = await build_shop(commerce, stock=3)
    customer = shop.customer_id
    first = await commerce.cart.add(customer, "D1-RED-M", 2)
    assert first == await commerce.cart.view(customer)
    assert [(line.sku_code, line.quantity, line.available) for line in first.lines] == [("D1-RED-M", 2, 3)]

    await commerce.catalog.set_price("D1-RED-M", 15900, actor="merchant")
    second = await commerce.cart.add(customer, "D2-BLK-S", 1)
    assert second == await commerce.cart.view(customer)
    assert [line.sku_code for line in second.lines] == ["D1-RED-M", "D2-BLK-S"]  # the new line last
    assert [(p.kind, p.sku_code) for p in second.problems] == [(ProblemKind.PRICE_CHANGED, "D1-RED-M")]

    third = await commerce.cart.add(customer, "D1-RED-M", 2)  # 4 wanted, 3 in stock, new price seen
    assert third == await commerce.cart.view(customer)
    assert third.lines[0].quantity == 4 and third.lines[0].unit_price.amount == 15900
    assert [(p.kind, p.available) for p in third.problems] == [(ProblemKind.INSUFFICIENT_STOCK, 3)]


async def test_a_payment_for_the_order_just_placed_starts_only_where_reading_the_order_would(
    commerce: Commerce,
) -> None:
    """Starting with ``placed`` skips reading the order; the insert checks what that read would."""
    shop = await build_shop(commerce)
    customer = shop.customer_id
    order = await commerce.orders.place(customer, ADDRESS, "a", items=[LineRequest("D1-RED-M", 1)])
    first = await commerce.payments.start(order.number, customer_id=customer, placed=order)
    assert first.amount == order.total
    again = await commerce.payments.start(order.number, customer_id=customer, placed=order)
    assert again.payment_id == first.payment_id  # still one pending payment
    with pytest.raises(NotFound):
        await commerce.payments.start(order.number, customer_id=customer + 1, placed=order)

    other = await commerce.orders.place(customer, ADDRESS, "b", items=[LineRequest("D1-RED-M", 1)])
    await commerce.merchants.freeze("acme", "tests", Actor(None, None))
    with pytest.raises(NotAllowed) as frozen:
        await commerce.payments.start(other.number, customer_id=customer, placed=other)
    assert frozen.value.code == "merchant_frozen"
    async with commerce.units.orm() as uow:
        payments = (await uow.session.scalars(select(Payment.public_id))).all()
    assert payments == [first.payment_id]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_saving_a_new_default_address_takes_few_round_trips_and_keeps_one_default(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await build_shop(commerce)
    customer = shop.customer_id
    first = await commerce.customers.add_address(customer, ADDRESS)  # prepares the statements
    kept = await commerce.customers.add_address(customer, ADDRESS, make_default=False)
    moved = dataclasses.replace(ADDRESS, line="世纪大道200号")
    with counting(monkeypatch) as saving:
        newest = await commerce.customers.add_address(customer, moved)
    assert len(saving) <= ADDRESS_TRIPS, saving

    assert newest.is_default and newest.address == moved.validated()
    saved = await commerce.customers.addresses(customer)
    assert [(a.id, a.is_default) for a in saved] == [
        (newest.id, True),
        (kept.id, False),
        (first.id, False),
    ]
    assert saved[0] == newest
    async with commerce.units.orm() as uow:  # still encrypted at rest
        stored = (await uow.session.scalars(select(Address.payload_enc))).all()
    assert len(stored) == 3 and not any("13812345678" in p or "世纪大道" in p for p in stored)


PRODUCT_TRIPS = 1  # the product beside its SKUs and their stock


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_product_page_is_one_round_trip_with_every_sku_in_order(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = await build_shop(commerce, stock=5)
    await commerce.cart.add(shop.customer_id, "D1-RED-L", 2)
    await commerce.orders.place(shop.customer_id, ADDRESS, "holds-two")  # 2 of D1-RED-L reserved
    await commerce.catalog.get_product("D1")  # prepares the statement

    with counting(monkeypatch) as reading:
        product = await commerce.catalog.get_product("D1")
    assert len(reading) <= PRODUCT_TRIPS, reading
    assert [(s.code, s.options, s.price.amount, s.available) for s in product.skus] == [
        ("D1-RED-M", {"color": "red", "size": "M"}, 19900, 5),
        ("D1-RED-L", {"color": "red", "size": "L"}, 19900, 3),
    ]
    with pytest.raises(NotFound):
        await commerce.catalog.get_product("NO-SUCH")


IDENTIFY_TRIPS = 1  # the account's customer, or a new one with its account, in one statement


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_first_contact_and_coming_back_are_one_round_trip_each(
    commerce: Commerce, monkeypatch: pytest.MonkeyPatch
) -> None:
    warm = await commerce.customers.identify("telegram", "warm-up")  # prepares the statement
    with counting(monkeypatch) as first_contact:
        new = await commerce.customers.identify("telegram", "42", display_name="张三")
    with counting(monkeypatch) as coming_back:
        known = await commerce.customers.identify("telegram", "42", display_name="张三")
    assert len(first_contact) <= IDENTIFY_TRIPS, first_contact
    assert len(coming_back) <= IDENTIFY_TRIPS, coming_back

    assert known == new and new.display_name == "张三" and not new.erased
    other = await commerce.customers.identify("web", "42")  # another channel's account: someone else
    assert other.id != new.id
    async with commerce.units.orm() as uow:
        names = (await uow.session.scalars(select(Customer.display_name_enc).order_by(Customer.id))).all()
        accounts = (
            await uow.session.execute(select(ChannelIdentity.channel, ChannelIdentity.customer_id))
        ).all()
    assert len(names) == 3 and names[1] is not None and "张三" not in names[1]  # encrypted at rest
    assert sorted(accounts) == [("telegram", warm.id), ("telegram", new.id), ("web", other.id)]


async def test_an_order_to_a_saved_address_copies_it_without_reading_it_first(
    commerce: Commerce, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirmation turn names the saved address by id; the order stores and shows that address."""
    shop = await build_shop(commerce)
    customer = shop.customer_id
    saved = await commerce.customers.add_address(customer, ADDRESS)
    stranger = await commerce.customers.identify("telegram", "someone-else")
    theirs = await commerce.customers.add_address(stranger.id, ADDRESS)
    await commerce.cart.add(customer, "D1-RED-M", 2)

    for wrong in (saved.id + theirs.id + 1, theirs.id):  # none, or another shopper's
        with pytest.raises(NotFound) as missing:
            await commerce.orders.place(customer, wrong, "gone")
        assert missing.value.code == "address_not_found"
    assert await _stock(commerce) == (10, 0)  # nothing held
    assert not (await commerce.cart.view(customer)).is_empty
    assert await commerce.orders.for_customer(customer, limit=5) == []

    with counting(monkeypatch) as placing:
        order = await commerce.orders.place(customer, saved.id, "to-saved")
    if db_url.startswith("postgresql"):
        assert len(placing) <= PLACE_TRIPS, placing
    assert order.address == saved.address
    assert await commerce.orders.get(order.number) == order  # as stored: the same address, readable
    assert await _stock(commerce) == (10, 2)
    async with commerce.units.orm() as uow:  # still encrypted at rest
        stored = await uow.session.scalar(select(Order.address_enc).where(Order.number == order.number))
    assert stored is not None and "13812345678" not in stored and ADDRESS.line not in stored
