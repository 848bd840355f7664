"""The payment service's hot-path statements, built once (compiled and prepared once per database,
not once per payment); a module of their own so the service reads as the steps it takes."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql

from commerce_core.catalog.model import Product
from commerce_core.db.base import table_of
from commerce_core.db.dialect import insert_ignoring_conflicts
from commerce_core.inventory import service as inventory
from commerce_core.merchants.visibility import merchant_on_sale
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.types import OrderStatus
from commerce_core.payments.model import Payment, PaymentEvent
from commerce_core.payments.types import PaymentStatus

_PENDING = (
    select(Payment.order_id, Payment.public_id, Payment.pay_url, Payment.provider_ref)
    .where(Payment.provider == bindparam("b_provider"), Payment.status == PaymentStatus.PENDING.value)
    .subquery()
)
PAYABLE_ORDER = (
    select(
        Order.id,
        Order.customer_id,
        Order.status,
        Order.total,
        Order.currency,
        _PENDING.c.public_id,
        _PENDING.c.pay_url,
        _PENDING.c.provider_ref,
        # ``frozen``: a line of the order is sold by a frozen merchant (R4.2-3: its unpaid orders
        # refuse payment); in the same statement, one query per payment request, not two
        select(OrderLine.id)
        .where(OrderLine.order_id == Order.id, ~merchant_on_sale(OrderLine.merchant_id))
        .exists()
        .label("frozen"),
    )
    .outerjoin(_PENDING, _PENDING.c.order_id == Order.id)
    .where(Order.number == bindparam("b_number"))
    .limit(1)
)
INSERT_PAYMENT = insert(table_of(Payment))

_PAYMENT_COLUMNS = (
    "public_id",
    "order_id",
    "provider",
    "provider_ref",
    "pay_url",
    "amount",
    "currency",
    "status",
    "refunded_amount",
    "created_at",
)


def _insert_for_placed() -> Any:
    """A pending payment for an order just placed, only if :data:`PAYABLE_ORDER` would have let it
    start: the order is this customer's, awaiting payment, of this amount, no seller of it is frozen,
    and it has no pending payment with this provider yet. Returns the payment's id, or no row."""
    payments = table_of(Payment)
    values = {name: bindparam(name, type_=payments.c[name].type) for name in _PAYMENT_COLUMNS}
    order_id, provider, status = values["order_id"], values["provider"], values["status"]
    payable = exists().where(
        Order.id == order_id,
        Order.customer_id == bindparam("b_customer", type_=Order.customer_id.type),
        Order.status == OrderStatus.PENDING_PAYMENT.value,
        Order.total == values["amount"],
        Order.currency == values["currency"],
    )
    frozen = exists().where(OrderLine.order_id == order_id, ~merchant_on_sale(OrderLine.merchant_id))
    pending = exists().where(
        Payment.order_id == order_id, Payment.provider == provider, Payment.status == status
    )
    return (
        insert(payments)
        .from_select(list(_PAYMENT_COLUMNS), select(*values.values()).where(payable, ~frozen, ~pending))
        .returning(payments.c.id)
    )


INSERT_FOR_PLACED = _insert_for_placed()
_LOCKED_COLUMNS = (
    Order.id.label("order_id"),
    Order.number,
    Order.customer_id,
    Order.status.label("order_status"),
    Payment.id,
    Payment.status,
    Payment.amount,
    Payment.currency,
    Payment.provider_ref,
)
LOCK_PAYMENT = (
    select(*_LOCKED_COLUMNS)
    .join(Payment, Payment.order_id == Order.id)
    .where(Payment.public_id == bindparam("b_reference"), Payment.provider == bindparam("b_provider"))
    .with_for_update()
)


def _lock_and_record() -> Any:
    """PostgreSQL: :data:`LOCK_PAYMENT`, the notification's event row (``event_row``: its id, or NULL
    when the event id was seen before or the amount does not match) and the stock the order holds
    (``held_skus``/``held_units``, see :func:`inventory.held_by`), in one statement. The event is
    inserted from the locked row, so only once the payment and order are locked, as before."""
    held_skus, held_units = inventory.held_by(Order.id)
    locked = (
        select(*_LOCKED_COLUMNS, held_skus.label("held_skus"), held_units.label("held_units"))
        .join(Payment, Payment.order_id == Order.id)
        .where(Payment.public_id == bindparam("b_reference"), Payment.provider == bindparam("b_provider"))
        .with_for_update(of=(Order, Payment))
        .cte("locked")
    )
    events = table_of(PaymentEvent)
    values = select(
        bindparam("provider", type_=events.c.provider.type),
        bindparam("event_id", type_=events.c.event_id.type),
        locked.c.id,
        bindparam("kind", type_=events.c.kind.type),
        bindparam("payload", type_=events.c.payload.type),
        bindparam("received_at", type_=events.c.received_at.type),
    ).where(locked.c.amount == bindparam("b_amount"), locked.c.currency == bindparam("b_currency"))
    recorded = (
        postgresql.insert(events)
        .from_select(["provider", "event_id", "payment_id", "kind", "payload", "received_at"], values)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(events.c.id)
        .cte("recorded")
    )
    return select(*locked.c, select(recorded.c.id).scalar_subquery().label("event_row")).add_cte(recorded)


LOCK_AND_RECORD = _lock_and_record()
PAYMENT_FAILED = (
    update(Payment).where(Payment.id == bindparam("b_payment")).values(status=PaymentStatus.FAILED.value)
)
PAYMENT_CAPTURED = (
    update(Payment)
    .where(Payment.id == bindparam("b_payment"))
    .values(
        status=PaymentStatus.CAPTURED.value,
        captured_at=bindparam("b_now"),
        provider_ref=bindparam("b_provider_ref"),
    )
)
#: add an order's units to its products' sales counts, in one statement (rows are visited in the same
#: plan order by every capture, so concurrent captures lock products consistently)
_SOLD_UNITS = (
    select(func.coalesce(func.sum(OrderLine.quantity), 0))
    .where(OrderLine.order_id == bindparam("b_order"), OrderLine.product_id == Product.id)
    .scalar_subquery()
)
COUNT_SALES = (
    update(Product)
    .where(Product.id.in_(select(OrderLine.product_id).where(OrderLine.order_id == bindparam("b_order"))))
    .values(sales_count=Product.sales_count + _SOLD_UNITS)
)
SANDBOX_PAYMENT = select(Payment.provider_ref, Payment.amount, Payment.currency).where(
    Payment.public_id == bindparam("b_reference"), Payment.provider == "sandbox"
)

PENDING_PAY_URL = select(Payment.provider, Payment.pay_url).where(
    Payment.public_id == bindparam("b_reference"), Payment.status == PaymentStatus.PENDING.value
)


@functools.cache
def record_event(dialect_name: str) -> Any:
    """Insert a notification's (provider, event id) unless seen before; returns its id, or no row."""
    events = table_of(PaymentEvent)
    return insert_ignoring_conflicts(dialect_name, events, "provider", "event_id").returning(events.c.id)
