"""What every after-sales desk action shares: finding and locking a case, moving its status with a
line of progress, telling the shopper (one outbox event per action), and the audit row.

Why one place: staff, merchants, the shopper and the periodic jobs act on the same row; each action
is then three lines of intent, and none of them can forget the audit (R7.1-3), the status history or
the first-response clock (R5.4-1).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from commerce_core.after_sales.model import CASE_STATUS, AfterSalesCase, AfterSalesItem
from commerce_core.after_sales.types import CaseStatus, CaseUpdate
from commerce_core.errors import NotFound
from commerce_core.events import AfterSalesDeskUpdate
from commerce_core.ids import normalise_public_id
from commerce_core.operators.audit import add_actor_audit
from commerce_core.operators.types import Actor
from commerce_core.orders.model import Order, OrderLine
from commerce_core.uow import UnitOfWork
from commerce_core.validation import clean_text

NUMBER_LIMIT = 32


@dataclass(frozen=True, slots=True)
class Told:
    """What the shopper hears of an action: the update, and its detail (reason, stage, address)."""

    update: CaseUpdate
    detail: str = ""
    amount: int = 0
    currency: str = ""


async def locked_case(uow: UnitOfWork, number: str, *, customer_id: int | None = None) -> AfterSalesCase:
    """The case by its public number, row-locked; another shopper's case is "not found"."""
    wanted = normalise_public_id(str(number)[:NUMBER_LIMIT])
    case = await uow.session.scalar(
        select(AfterSalesCase).where(AfterSalesCase.number == wanted).with_for_update()
    )
    if case is None or (customer_id is not None and case.customer_id != customer_id):
        raise NotFound("no such case", code="case_not_found")
    return case


async def merchants_of(uow: UnitOfWork, case_id: int) -> list[int]:
    """The merchants whose items the case is about."""
    rows = await uow.session.scalars(
        select(OrderLine.merchant_id)
        .join(AfterSalesItem, AfterSalesItem.order_line_id == OrderLine.id)
        .where(AfterSalesItem.case_id == case_id)
        .distinct()
    )
    return sorted(int(m) for m in rows.all())


async def items_value(uow: UnitOfWork, case_id: int) -> int:
    """What the case's items cost the shopper: the most a case can refund."""
    total = await uow.session.scalar(
        select(func.coalesce(func.sum(OrderLine.unit_price * AfterSalesItem.quantity), 0))
        .join(AfterSalesItem, AfterSalesItem.order_line_id == OrderLine.id)
        .where(AfterSalesItem.case_id == case_id)
    )
    return int(total or 0)


async def order_of(uow: UnitOfWork, case: AfterSalesCase, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.id == case.order_id)
    order = await uow.session.scalar(query.with_for_update() if lock else query)
    assert order is not None, "a case always has its order"
    return order


def actor_label(actor: Actor) -> str:
    return f"operator:{actor.operator_id}" if actor.operator_id else "system"


async def audit(uow: UnitOfWork, actor: Actor, action: str, case: AfterSalesCase, detail: str = "") -> None:
    """One audit row for a person's action on a case, in the action's own transaction."""
    await add_actor_audit(
        uow,
        actor,
        action=f"case.{action}",
        object_type="after_sales_case",
        object_id=case.number,
        detail=detail or None,
    )


def move(
    uow: UnitOfWork,
    case: AfterSalesCase,
    target: CaseStatus | None,
    *,
    actor: str,
    note: str = "",
    told: Told | None = None,
    staff: bool = True,
) -> None:
    """Move the case to ``target`` (None: keep its status), add a progress line, meet the first-response
    deadline if a person of the shop acted, and queue the shopper's notification."""
    current = CaseStatus(case.status)
    now = uow.now()
    if target is not None and target is not current:
        CASE_STATUS.check(current, target)
        case.status = target.value
        uow.record_status("after_sales_case", case.id, current.value, target.value, actor, note or None)
    case.updated_at = now
    if staff and case.first_responded_at is None:
        case.first_responded_at = now
    entry = {
        "at": now.isoformat(),
        "status": case.status,
        "note": clean_text(note, "note", max_length=500, required=False),
    }
    if told is not None:
        entry["update"] = told.update.value
    case.progress = [*case.progress, entry]
    if told is not None:
        uow.emit(
            AfterSalesDeskUpdate(
                case.number,
                case.customer_id,
                told.update.value,
                current.value,
                case.status,
                told.detail,
                told.amount,
                told.currency,
                case.kind,
                (case.returns_address or "") if case.kind != "refund" else "",
            )
        )
