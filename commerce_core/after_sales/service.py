"""After-sales cases: policy check on opening, a 24-hour first-response deadline, resolution.

Policy (R5.4-1): returns and exchanges within ``return_window`` of delivery; quality problems are
always accepted, whatever the window; repairs within the warranty. A refund is paid when a return or
refund case is resolved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from commerce_core.after_sales.model import CASE_STATUS, OPEN_CASE_STATUSES, AfterSalesCase, AfterSalesItem
from commerce_core.after_sales.types import AfterSalesPolicy, CaseItemRequest, CaseKind, CaseStatus, CaseView
from commerce_core.errors import InvalidInput, NotFound, PolicyViolation
from commerce_core.events import AfterSalesOpened, AfterSalesStatusChanged
from commerce_core.ids import CASE_PREFIX, new_public_id, normalise_public_id
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.types import OrderStatus
from commerce_core.payments.model import Refund
from commerce_core.payments.refunds import request_refund
from commerce_core.payments.types import RefundStatus
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import check_quantity, clean_text

REASONS = frozenset(
    {
        "quality_issue",
        "wrong_item",
        "not_as_described",
        "damaged_in_transit",
        "missing_parts",
        "size_fit",
        "changed_mind",
        "not_received",
        "broken",
        "other",
    }
)
QUALITY_REASONS = frozenset(
    {"quality_issue", "wrong_item", "not_as_described", "damaged_in_transit", "missing_parts", "broken"}
)
RECEIVED = (OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value)
#: a parcel can be reported from the moment it left until after delivery
SHIPPED_OR_RECEIVED = (OrderStatus.SHIPPED.value, *RECEIVED)
PARCEL_REASONS = frozenset({"not_received", "damaged_in_transit", "other"})


async def case_view(uow: UnitOfWork, case: AfterSalesCase) -> CaseView:
    """The case as every reader sees it: items by line number, refunds paid or queued on it, and the
    merchants whose items it is about (who may see it in their console)."""
    order = (
        await uow.session.execute(select(Order.number, Order.currency).where(Order.id == case.order_id))
    ).one()
    items = (
        await uow.session.execute(
            select(OrderLine.line_no, AfterSalesItem.quantity, OrderLine.merchant_id)
            .join(OrderLine, OrderLine.id == AfterSalesItem.order_line_id)
            .where(AfterSalesItem.case_id == case.id)
            .order_by(OrderLine.line_no)
        )
    ).all()
    refunded = await uow.session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.after_sales_case_id == case.id, Refund.status != RefundStatus.FAILED.value
        )
    )
    return CaseView(
        case.number,
        order.number,
        case.kind,
        case.status,
        case.reason_code,
        case.quality_issue,
        tuple((int(a), int(b)) for a, b, _ in items),
        case.refund_amount,
        case.first_response_due_at,
        case.first_responded_at,
        tuple(case.progress),
        case.created_at,
        wanted_sku=case.wanted_sku,
        return_carrier=case.return_carrier,
        return_tracking=case.return_tracking,
        return_received_at=case.return_received_at,
        replacement_tracking=case.replacement_tracking,
        returns_address=case.returns_address,
        repair_stage=case.repair_stage,
        refunded=int(refunded or 0),
        currency=order.currency,
        rating=case.rating,
        alerted_at=case.alerted_at,
        escalated_at=case.escalated_at,
        merchant_ids=tuple(sorted({int(m) for _, _, m in items})),
        reason_text=case.reason_text,
        photos=tuple(case.photos),
    )


class AfterSalesService:
    def __init__(self, units: Units, policy: AfterSalesPolicy | None = None) -> None:
        self._units = units
        self.policy = policy or AfterSalesPolicy()
        self.refund_runner: object = None

    async def open(
        self,
        customer_id: int,
        order_number: str,
        kind: CaseKind,
        items: Sequence[CaseItemRequest],
        *,
        reason_code: str,
        reason_text: str | None = None,
        photos: Sequence[str] = (),
    ) -> CaseView:
        if reason_code not in REASONS:
            raise InvalidInput(f"unknown reason {reason_code!r}", code="invalid_reason")
        text = clean_text(reason_text, "reason", max_length=1000, required=False) or None
        photo_refs = [clean_text(p, "photo", max_length=500) for p in photos][:9]
        if not items:
            raise InvalidInput("pick at least one item", code="no_items")
        async with self._units.orm() as uow:
            order = await uow.session.scalar(
                select(Order).where(Order.number == normalise_public_id(order_number)).with_for_update()
            )
            if order is None or order.customer_id != customer_id:
                raise NotFound("no such order", code="order_not_found")
            quality = reason_code in QUALITY_REASONS
            self._check_policy(order, kind, quality, uow.now())
            lines = {
                line.line_no: line
                for line in (
                    await uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
                ).all()
            }
            claimed = await self._claimed(uow, order.id)
            chosen: list[tuple[OrderLine, int]] = []
            for item in items:
                check_quantity(item.quantity)
                line = lines.get(item.line_no)
                if line is None:
                    raise NotFound(
                        "no such item in the order", code="order_line_not_found", line=item.line_no
                    )
                if item.quantity + claimed.get(line.id, 0) > line.quantity:
                    raise InvalidInput(
                        "more items than were ordered",
                        code="invalid_quantity",
                        maximum=line.quantity - claimed.get(line.id, 0),
                    )
                chosen.append((line, item.quantity))
            refund_amount = (
                sum(line.unit_price * q for line, q in chosen)
                if kind in (CaseKind.RETURN, CaseKind.REFUND)
                else 0
            )
            return await self._open(
                uow, order, customer_id, kind, reason_code, text, quality, photo_refs, refund_amount, chosen
            )

    async def report_parcel_problem(
        self, customer_id: int, order_number: str, *, reason_code: str, reason_text: str | None = None
    ) -> CaseView:
        """A shopper's "problem with my parcel" (lost, late, damaged): a case about every item of the
        shipped order, so the merchants of those items and the desk see it (R4.4-3, R5.4-1).

        Why not a return: nothing is sent back or refunded yet; the merchant and the desk find out
        what happened first. Such a case claims no quantity (a return can follow), and asking again
        while one is open gives the same case, so the shopper keeps one number."""
        if reason_code not in PARCEL_REASONS:
            raise InvalidInput(f"unknown reason {reason_code!r}", code="invalid_reason")
        text = clean_text(reason_text, "reason", max_length=1000, required=False) or None
        async with self._units.orm() as uow:
            order = await uow.session.scalar(
                select(Order).where(Order.number == normalise_public_id(order_number)).with_for_update()
            )
            if order is None or order.customer_id != customer_id:
                raise NotFound("no such order", code="order_not_found")
            if order.status not in SHIPPED_OR_RECEIVED:
                raise PolicyViolation(
                    "the order has not been shipped", code="not_shipped", status=order.status
                )
            open_case = await uow.session.scalar(
                select(AfterSalesCase).where(
                    AfterSalesCase.order_id == order.id,
                    AfterSalesCase.kind == CaseKind.PARCEL_PROBLEM.value,
                    AfterSalesCase.status.in_([s.value for s in OPEN_CASE_STATUSES]),
                )
            )
            if open_case is not None:
                return await self._view(uow, open_case)
            lines = (await uow.session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
            kind, quality = CaseKind.PARCEL_PROBLEM, reason_code == "damaged_in_transit"
            items = [(line, line.quantity) for line in lines]
            return await self._open(uow, order, customer_id, kind, reason_code, text, quality, [], 0, items)

    async def _open(
        self,
        uow: UnitOfWork,
        order: Order,
        customer_id: int,
        kind: CaseKind,
        reason_code: str,
        text: str | None,
        quality: bool,
        photos: list[str],
        refund_amount: int,
        items: list[tuple[OrderLine, int]],
    ) -> CaseView:
        """A new open case on ``items`` (line, quantity), its status history and its
        ``AfterSalesOpened`` event, committed: every way a shopper opens a case ends here."""
        now = uow.now()
        case = AfterSalesCase(
            number=new_public_id(CASE_PREFIX),
            order_id=order.id,
            customer_id=customer_id,
            kind=kind.value,
            status=CaseStatus.OPEN.value,
            reason_code=reason_code,
            reason_text=text,
            quality_issue=quality,
            photos=photos,
            refund_amount=refund_amount,
            progress=[],
            first_response_due_at=now + self.policy.first_response_sla,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(case)
        await uow.flush()
        uow.session.add_all(
            AfterSalesItem(case_id=case.id, order_line_id=line.id, quantity=q) for line, q in items
        )
        uow.record_status("after_sales_case", case.id, None, CaseStatus.OPEN.value, f"customer:{customer_id}")
        uow.emit(
            AfterSalesOpened(
                case.number, order.number, customer_id, kind.value, case.first_response_due_at.isoformat()
            )
        )
        await uow.flush()
        view = await self._view(uow, case)
        await uow.commit()
        return view

    def _check_policy(self, order: Order, kind: CaseKind, quality: bool, now: datetime) -> None:
        if kind is CaseKind.REFUND and order.status == OrderStatus.SHIPPED.value and not quality:
            raise PolicyViolation("wait for delivery, or cancel before shipping", code="not_yet_delivered")
        if order.status not in RECEIVED and not (
            kind is CaseKind.REFUND and order.status == OrderStatus.SHIPPED.value
        ):
            raise PolicyViolation(
                "after-sales opens once the order is delivered", code="not_delivered", status=order.status
            )
        delivered = order.delivered_at or now
        if kind is CaseKind.REPAIR:
            if now - delivered > self.policy.warranty:
                raise PolicyViolation("the warranty has ended", code="warranty_expired")
        elif not quality and now - delivered > self.policy.return_window:
            raise PolicyViolation(
                "the return window has passed",
                code="return_window_passed",
                days=self.policy.return_window.days,
            )

    @staticmethod
    async def _claimed(uow: UnitOfWork, order_id: int) -> dict[int, int]:
        rows = (
            await uow.session.execute(
                select(AfterSalesItem.order_line_id, func.sum(AfterSalesItem.quantity))
                .join(AfterSalesCase, AfterSalesCase.id == AfterSalesItem.case_id)
                .where(
                    AfterSalesCase.order_id == order_id,
                    AfterSalesCase.status.not_in([CaseStatus.REJECTED.value, CaseStatus.WITHDRAWN.value]),
                    AfterSalesCase.kind != CaseKind.PARCEL_PROBLEM.value,  # reports claim no items
                )
                .group_by(AfterSalesItem.order_line_id)
            )
        ).all()
        return {line_id: int(total) for line_id, total in rows}

    async def _view(self, uow: UnitOfWork, case: AfterSalesCase) -> CaseView:
        return await case_view(uow, case)

    async def get(self, number: str, *, customer_id: int | None = None) -> CaseView:
        async with self._units.orm() as uow:
            case = await uow.session.scalar(
                select(AfterSalesCase).where(AfterSalesCase.number == normalise_public_id(number))
            )
            if case is None or (customer_id is not None and case.customer_id != customer_id):
                raise NotFound("no such case", code="case_not_found")
            return await self._view(uow, case)

    async def for_customer(self, customer_id: int) -> list[CaseView]:
        async with self._units.orm() as uow:
            cases = (
                await uow.session.scalars(
                    select(AfterSalesCase)
                    .where(AfterSalesCase.customer_id == customer_id)
                    .order_by(AfterSalesCase.id.desc())
                )
            ).all()
            return [await self._view(uow, c) for c in cases]

    async def transition(
        self, number: str, target: CaseStatus, *, actor: str, note: str | None = None
    ) -> CaseView:
        """Staff move a case on; the first staff action meets the first-response deadline."""
        refund_id = None
        async with self._units.orm() as uow:
            case = await uow.session.scalar(
                select(AfterSalesCase)
                .where(AfterSalesCase.number == normalise_public_id(number))
                .with_for_update()
            )
            if case is None:
                raise NotFound("no such case", code="case_not_found")
            current = CaseStatus(case.status)
            CASE_STATUS.check(current, target)
            now = uow.now()
            case.status = target.value
            case.updated_at = now
            if case.first_responded_at is None and not actor.startswith("customer:"):
                case.first_responded_at = now
            case.progress = [
                *case.progress,
                {
                    "at": now.isoformat(),
                    "status": target.value,
                    "note": clean_text(note, "note", max_length=500, required=False),
                },
            ]
            if target is CaseStatus.RESOLVED and case.refund_amount > 0:
                order = await uow.session.scalar(
                    select(Order).where(Order.id == case.order_id).with_for_update()
                )
                assert order is not None
                refund_id = await request_refund(
                    uow,
                    order.id,
                    order.number,
                    case.refund_amount,
                    f"after_sales:{case.kind}",
                    case_id=case.id,
                )
            uow.record_status("after_sales_case", case.id, current.value, target.value, actor, note)
            uow.emit(AfterSalesStatusChanged(case.number, case.customer_id, current.value, target.value))
            await uow.flush()
            view = await self._view(uow, case)
            await uow.commit()
        runner = self.refund_runner
        if refund_id and callable(runner):
            await runner(refund_id)
        return view

    async def overdue_first_response(self, now: datetime | None = None) -> list[str]:
        async with self._units.orm() as uow:
            now = now or uow.now()
            return list(
                (
                    await uow.session.scalars(
                        select(AfterSalesCase.number)
                        .where(
                            AfterSalesCase.status.in_([s.value for s in OPEN_CASE_STATUSES]),
                            AfterSalesCase.first_responded_at.is_(None),
                            AfterSalesCase.first_response_due_at <= now,
                        )
                        .order_by(AfterSalesCase.id)
                    )
                ).all()
            )
