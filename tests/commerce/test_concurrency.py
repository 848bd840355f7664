"""Peak-sale correctness on PostgreSQL: many buyers, few units, no overselling (R3.3-1)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from commerce_core.app import Commerce
from commerce_core.errors import OutOfStock
from commerce_core.orders.model import Order
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS, build_shop


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_200_buyers_for_50_units_gives_exactly_50_paid_orders(commerce: Commerce) -> None:
    await build_shop(commerce, stock=0)
    await commerce.inventory.set_on_hand("H1-BLK", 50, actor="test")
    buyers = [await commerce.customers.identify("test", f"buyer-{n}") for n in range(200)]

    async def buy(customer_id: int) -> str | None:
        try:
            order = await commerce.orders.place(
                customer_id, ADDRESS, "flash", items=[LineRequest("H1-BLK", 1)]
            )
        except OutOfStock:
            return None
        payment = await commerce.payments.start(order.number, customer_id=customer_id)
        result = await commerce.payments.sandbox_pay(payment.payment_id)
        assert result.outcome == "captured"
        return order.number

    results = await asyncio.gather(*[buy(b.id) for b in buyers])
    sold = [r for r in results if r]
    assert len(sold) == 50
    assert (await commerce.inventory.levels(["H1-BLK"]))["H1-BLK"] == (0, 0)
    async with commerce.units.orm() as uow:
        statuses = dict(
            (await uow.session.execute(select(Order.status, func.count()).group_by(Order.status))).all()
        )
    assert statuses == {"paid": 50}  # no order exists without stock behind it
