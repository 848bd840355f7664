"""Payments: start one for an order, apply provider notifications exactly once, run refunds.

Idempotency: every notification's ``(provider, event_id)`` is inserted into ``payment_events`` in the
same transaction that applies it; a replay hits the unique key and changes nothing. A payment that
is already captured ignores a second success with another event id. Amount and currency must equal
what we asked for, or the notification is rejected and nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select

from commerce_core.errors import NotAllowed, NotFound, PaymentRejected
from commerce_core.events import PaymentCaptured, PaymentFailed, RefundSucceeded
from commerce_core.ids import PAYMENT_PREFIX, new_public_id
from commerce_core.inventory import service as inventory
from commerce_core.money import Money
from commerce_core.orders import transitions
from commerce_core.orders.model import Order
from commerce_core.orders.types import OrderStatus, OrderView
from commerce_core.payments import statements
from commerce_core.payments.model import PAYMENT_STATUS, Payment, Refund
from commerce_core.payments.payable import check_payable
from commerce_core.payments.provider import Notification, PaymentIntentRequest, PaymentProvider
from commerce_core.payments.refunds import request_refund
from commerce_core.payments.types import (
    NotificationResult,
    Outcome,
    PayableProblem,
    PaymentRequestView,
    PaymentStatus,
    RefundStatus,
)
from commerce_core.uow import Units, Work

log = logging.getLogger(__name__)

#: ``(unit, order id, customer id, provider)``: runs inside the unit that captures the payment
PaidHook = Callable[[Work, int, int, str], Awaitable[None]]


class PaymentService:
    def __init__(self, units: Units, providers: Mapping[str, PaymentProvider]) -> None:
        self._units = units
        self._providers = dict(providers)
        #: writes the ``paid`` behaviour event in the capturing unit (set by the edge when behaviour
        #: events are on; see ``commerce_core.analytics.service.paid_event_writer``)
        self.on_paid: PaidHook | None = None

    def register(self, provider: PaymentProvider) -> None:
        self._providers[provider.name] = provider

    def provider(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise NotFound(f"no payment provider {name!r}", code="provider_not_found") from None

    async def start(
        self,
        order_number: str,
        *,
        customer_id: int | None = None,
        provider: str = "sandbox",
        placed: OrderView | None = None,
    ) -> PaymentRequestView:
        """A payment request for an unpaid order; asking again returns the same pending payment.

        ``placed``: the order as placing it answered, a moment ago (with ``customer_id``): its amount
        is known, so the order is not read first; the insert itself checks what the read would
        have (one round trip instead of two), and anything unusual takes the usual way."""
        gateway = self.provider(provider)
        if placed is not None and placed.number == order_number and placed.customer_id == customer_id:
            started = await self._start_placed(gateway, placed, provider)
            if started is not None:
                return started
        async with self._units.hot() as uow:
            order = (
                await uow.execute(
                    statements.PAYABLE_ORDER, {"b_provider": provider, "b_number": order_number}
                )
            ).first()
            if order is None or (customer_id is not None and order.customer_id != customer_id):
                raise NotFound("no such order", code="order_not_found", order=order_number)
            if order.status != OrderStatus.PENDING_PAYMENT.value:
                raise NotAllowed(
                    "this order is not awaiting payment", code="order_not_payable", status=order.status
                )
            if order.frozen:
                raise NotAllowed("a seller in this order is suspended", code="merchant_frozen")
        amount = Money(order.total, order.currency)
        if order.public_id is not None:
            return PaymentRequestView(
                order.public_id, order_number, provider, amount, order.pay_url, None, order.provider_ref
            )
        # the provider is called outside any transaction, so a slow provider never holds locks; if the
        # insert below fails, the provider's unused payment simply expires on its side
        reference = new_public_id(PAYMENT_PREFIX)
        created = await gateway.create_payment(
            PaymentIntentRequest(
                reference, amount.amount, amount.currency, f"Order {order_number}", order_number
            )
        )
        async with self._units.hot(single_statement=True) as uow:
            await uow.execute(
                statements.INSERT_PAYMENT,
                self._payment_row(uow, reference, order.id, provider, amount, created),
            )
            await uow.commit()
        return PaymentRequestView(
            reference,
            order_number,
            provider,
            amount,
            created.pay_url,
            created.client_token,
            created.provider_ref,
        )

    async def _start_placed(
        self, gateway: PaymentProvider, placed: OrderView, provider: str
    ) -> PaymentRequestView | None:
        """:meth:`start` for an order just placed; None when the conditional insert found it not
        payable as it stood (the provider's unused payment then expires on its side)."""
        reference = new_public_id(PAYMENT_PREFIX)
        amount, number = placed.total, placed.number
        created = await gateway.create_payment(
            PaymentIntentRequest(reference, amount.amount, amount.currency, f"Order {number}", number)
        )
        async with self._units.hot(single_statement=True) as uow:
            row = self._payment_row(uow, reference, placed.id, provider, amount, created)
            inserted = (
                await uow.execute(statements.INSERT_FOR_PLACED, row | {"b_customer": placed.customer_id})
            ).first()
            await uow.commit()
        if inserted is None:
            return None
        return PaymentRequestView(
            reference, number, provider, amount, created.pay_url, created.client_token, created.provider_ref
        )

    @staticmethod
    def _payment_row(
        uow: Work, reference: str, order_id: int, provider: str, amount: Money, created: Any
    ) -> dict[str, Any]:
        return dict(
            public_id=reference,
            order_id=order_id,
            provider=provider,
            provider_ref=created.provider_ref,
            pay_url=created.pay_url,
            amount=amount.amount,
            currency=amount.currency,
            status=PaymentStatus.PENDING.value,
            refunded_amount=0,
            created_at=uow.now(),
        )

    async def pending_pay_url(self, payment_id: str) -> tuple[str, str] | None:
        """(provider, pay URL) of a payment still awaiting money, for the web chat's QR image; None once
        it is paid, failed or unknown (the random payment id is what the shopper was handed)."""
        async with self._units.hot() as uow:
            row = (await uow.execute(statements.PENDING_PAY_URL, {"b_reference": payment_id})).first()
        return (str(row.provider), str(row.pay_url)) if row is not None and row.pay_url else None

    async def check_payable(self, order_number: str, amount: int, currency: str) -> PayableProblem | None:
        """Whether ``amount`` in ``currency`` may be taken for the order now (None) or why not; see
        :mod:`commerce_core.payments.payable`. Reads only, on the hot unit."""
        async with self._units.hot() as uow:
            return await check_payable(uow, order_number, amount, currency)

    async def handle_notification(
        self, provider: str, body: bytes, headers: Mapping[str, str]
    ) -> NotificationResult:
        """Verify and apply a provider's notification (raises PaymentRejected when forged)."""
        notification = self.provider(provider).verify_notification(body, headers)
        return await self.apply(provider, notification)

    async def apply(self, provider: str, note: Notification) -> NotificationResult:
        """Apply a notification whose authenticity is established (signature, or the platform itself).

        Locks the payment and its order together, records the event id (a replay inserts nothing
        and stops there), then captures.
        """
        result = await self._apply(provider, note)
        for refund_id in result.refund_ids:
            await self.process_refund(refund_id)
        return result

    async def _apply(self, provider: str, note: Notification) -> NotificationResult:
        async with self._units.hot() as uow:
            event: dict[str, Any] = dict(
                provider=provider,
                event_id=note.event_id,
                kind=note.kind,
                payload={"provider_ref": note.provider_ref},
                received_at=uow.now(),
            )
            lookup: dict[str, Any] = {"b_reference": note.reference, "b_provider": provider}
            one_trip = uow.dialect_name == "postgresql"
            if one_trip:  # lock, record the event and read the held stock: one round trip
                lookup |= event | {"b_amount": note.amount, "b_currency": note.currency}
            locked = (
                await uow.execute(statements.LOCK_AND_RECORD if one_trip else statements.LOCK_PAYMENT, lookup)
            ).first()
            if locked is None:
                raise PaymentRejected("notification for an unknown payment", code="unknown_payment")
            order = payment = locked
            if note.amount != payment.amount or note.currency != payment.currency:
                log.warning("payment %s: amount mismatch (%s %s)", note.reference, note.amount, note.currency)
                raise PaymentRejected("amount or currency does not match the order", code="amount_mismatch")
            if one_trip:
                recorded = locked.event_row
            else:
                event["payment_id"] = payment.id
                recorded = (await uow.execute(statements.record_event(uow.dialect_name), event)).scalar()
            if recorded is None:
                return NotificationResult("duplicate", order.number, order.customer_id, note.reference)
            result = await self._apply_locked(uow, provider, note, payment, order)
            await uow.commit()
        return result

    async def _apply_locked(
        self, uow: Work, provider: str, note: Notification, payment: Any, order: Any
    ) -> NotificationResult:
        """``payment`` and ``order`` are the locked rows read by :meth:`apply`."""

        def result(outcome: Outcome, refunds: tuple[str, ...] = ()) -> NotificationResult:
            return NotificationResult(outcome, order.number, order.customer_id, note.reference, refunds)

        status = PaymentStatus(payment.status)
        if note.kind == "failed":
            if status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
                return result("ignored")
            # every failed attempt counts towards the failed-payment burst alerts (R3.4-2)
            uow.emit(PaymentFailed(note.reference, order.number, order.customer_id, provider))
            if status is PaymentStatus.FAILED:
                return result("ignored")  # already failed: recorded, nothing to change
            PAYMENT_STATUS.check(status, PaymentStatus.FAILED)
            await uow.execute(statements.PAYMENT_FAILED, {"b_payment": payment.id})
            return result("failed")
        if status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            return result("duplicate")  # a second success for an already captured payment
        PAYMENT_STATUS.check(status, PaymentStatus.CAPTURED)
        captured = {
            "b_payment": payment.id,
            "b_now": uow.now(),
            "b_provider_ref": payment.provider_ref or note.provider_ref,
        }
        captured_event = PaymentCaptured(
            note.reference, order.number, order.customer_id, payment.amount, payment.currency, provider
        )
        if order.order_status != OrderStatus.PENDING_PAYMENT.value:
            # money arrived for an order that was already cancelled (e.g. payment timeout): capture it
            # now (the refund below reads the captured payment) and queue its refund, in this unit
            await uow.execute(statements.PAYMENT_CAPTURED, captured)
            uow.emit(captured_event)
            refund_id = await request_refund(
                uow, order.order_id, order.number, payment.amount, "late_payment"
            )
            return result("refunding_late_payment", (refund_id,) if refund_id else ())
        # the payment and order rows are locked above, and the products' counts are the last rows a
        # capture locks: these writes all go with the commit, in one round trip on PostgreSQL
        await uow.write_later(statements.PAYMENT_CAPTURED, captured)
        uow.emit(captured_event)
        await transitions.move_row(
            uow,
            order.order_id,
            order.number,
            order.customer_id,
            order.order_status,
            OrderStatus.PAID,
            actor=f"provider:{provider}",
        )
        if uow.dialect_name == "postgresql":  # the locking statement read the held stock
            await inventory.commit_held(uow, order.order_id, order.held_skus or (), order.held_units or ())
        else:
            await inventory.commit(uow, order.order_id)
        await uow.write_later(statements.COUNT_SALES, {"b_order": order.order_id})
        if self.on_paid is not None:
            await self.on_paid(uow, order.order_id, order.customer_id, provider)
        return result("captured")

    async def process_refund(self, refund_id: str) -> str:
        """Ask the provider to pay a pending refund back; returns the refund's status."""
        async with self._units.orm() as uow:
            row = (
                await uow.session.execute(
                    select(Refund, Payment)
                    .join(Payment, Payment.id == Refund.payment_id)
                    .where(Refund.public_id == refund_id)
                )
            ).first()
            if row is None:
                raise NotFound("no such refund", code="refund_not_found")
            refund, payment = row
            if refund.status != RefundStatus.PENDING.value:
                return refund.status
            provider_name, provider_ref = payment.provider, payment.provider_ref or ""
            amount, currency = refund.amount, payment.currency
        outcome = await self.provider(provider_name).refund(provider_ref, amount, currency, refund_id)
        async with self._units.orm() as uow:
            locked = await uow.session.scalar(
                select(Refund).where(Refund.public_id == refund_id).with_for_update()
            )
            assert locked is not None
            refund = locked
            if refund.status != RefundStatus.PENDING.value:
                return refund.status
            refund.attempts += 1
            if not outcome.succeeded:
                if refund.attempts >= 5:
                    refund.status = RefundStatus.FAILED.value
                await uow.commit()
                return refund.status
            paid = await uow.session.scalar(
                select(Payment).where(Payment.id == refund.payment_id).with_for_update()
            )
            order = await uow.session.scalar(
                select(Order).where(Order.id == refund.order_id).with_for_update()
            )
            assert paid is not None and order is not None
            payment = paid
            refund.status = RefundStatus.SUCCEEDED.value
            refund.provider_ref = outcome.provider_ref
            refund.completed_at = uow.now()
            payment.refunded_amount += refund.amount
            target = (
                PaymentStatus.REFUNDED
                if payment.refunded_amount >= payment.amount
                else PaymentStatus.PARTIALLY_REFUNDED
            )
            PAYMENT_STATUS.check(PaymentStatus(payment.status), target)
            payment.status = target.value
            order.refunded_total = min(order.total, order.refunded_total + refund.amount)
            if order.refunded_total >= order.total and order.status in (
                OrderStatus.DELIVERED.value,
                OrderStatus.COMPLETED.value,
            ):
                transitions.move(uow, order, OrderStatus.REFUNDED, actor="system", reason=refund.reason)
            uow.emit(
                RefundSucceeded(
                    refund.public_id, order.number, order.customer_id, refund.amount, payment.currency
                )
            )
            await uow.commit()
            return refund.status

    async def retry_pending_refunds(self) -> int:
        async with self._units.orm() as uow:
            ids = (
                await uow.session.scalars(
                    select(Refund.public_id).where(Refund.status == RefundStatus.PENDING.value).limit(100)
                )
            ).all()
        for refund_id in ids:
            await self.process_refund(refund_id)
        return len(ids)

    async def sandbox_pay(self, payment_id: str, *, succeed: bool = True) -> NotificationResult:
        """The sandbox "pay" button: the sandbox signs a notification and we receive it like any other."""
        from commerce_core.payments.sandbox import SandboxProvider

        sandbox = self._providers.get("sandbox")
        if not isinstance(sandbox, SandboxProvider):  # production: no sandbox, no sandbox payments
            raise NotFound("there is no sandbox payment provider here", code="payment_not_found")
        known = sandbox.intents.get(payment_id)
        if known is None:  # created by another process: read what the sandbox would know
            async with self._units.hot() as uow:
                row = (await uow.execute(statements.SANDBOX_PAYMENT, {"b_reference": payment_id})).first()
            if row is None:
                raise NotFound("no such sandbox payment", code="payment_not_found")
            known = (row.provider_ref or "", row.amount, row.currency)
        provider_ref, amount, currency = known
        body, headers = sandbox.build_notification(
            reference=payment_id,
            provider_ref=provider_ref,
            amount=amount,
            currency=currency,
            kind="succeeded" if succeed else "failed",
        )
        return await self.handle_notification("sandbox", body, headers)

    async def refunds_for_order(self, order_number: str) -> list[tuple[str, int, str]]:
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(Refund.public_id, Refund.amount, Refund.status)
                    .join(Order, Order.id == Refund.order_id)
                    .where(Order.number == order_number)
                    .order_by(Refund.id)
                )
            ).all()
            return [(r[0], r[1], r[2]) for r in rows]
