"""The after-sales desk: what support staff do with a case (R5.4-1, R7.1-3).

Staff decide by the policy and arbitrate: accept or reject with a reason, ask for more information or
photos, refund in full or in part through the order's payment provider, exchange for another variant
(the replacement ships when the return arrives), repair with pushed progress stages, close. Every
action is audited, meets the 24-hour first-response deadline, and is told to the shopper through the
outbox (:class:`~commerce_core.events.AfterSalesDeskUpdate`).

Merchants and shoppers act through :mod:`commerce_core.after_sales.parties`; the periodic jobs
(overdue alerts, returns that arrived) live there too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy import select

from commerce_core.after_sales.model import OPEN_CASE_STATUSES, AfterSalesCase, AfterSalesItem
from commerce_core.after_sales.records import (
    Told,
    actor_label,
    audit,
    items_value,
    locked_case,
    merchants_of,
    move,
    order_of,
)
from commerce_core.after_sales.service import case_view
from commerce_core.after_sales.types import (
    REPAIR_STAGES,
    AfterSalesPolicy,
    CaseKind,
    CaseStatus,
    CaseUpdate,
    CaseView,
    RepairStage,
)
from commerce_core.catalog.model import Sku
from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.ids import normalise_public_id
from commerce_core.operators.types import Actor
from commerce_core.orders.model import OrderLine
from commerce_core.payments.refunds import request_refund
from commerce_core.shipments.carrier import Carrier
from commerce_core.shipments.model import Shipment
from commerce_core.shipments.types import ShipmentStatus
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

REASON_LIMIT = 500
DECIDING = (CaseStatus.OPEN, CaseStatus.AWAITING_INFO)
WORKING = (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS)
RETURNS = (CaseKind.RETURN.value, CaseKind.EXCHANGE.value, CaseKind.REFUND.value)
WAREHOUSE = "杭州"

RefundRunner = Callable[[str], Awaitable[object]]
CityOf = Callable[[str], Awaitable[str]]


async def wanted_variant(uow: UnitOfWork, case: AfterSalesCase, code: str) -> Sku:
    """Record ``code`` as the variant wanted in exchange: a SKU of the same product as the case's item."""
    if case.kind != CaseKind.EXCHANGE.value:
        raise NotAllowed("only an exchange case takes a variant", code="not_an_exchange")
    if case.replacement_tracking:
        raise NotAllowed("the replacement has shipped", code="replacement_shipped")
    sku = await uow.session.scalar(select(Sku).where(Sku.code == code))
    lines = await uow.session.scalars(
        select(OrderLine.product_id)
        .join(AfterSalesItem, AfterSalesItem.order_line_id == OrderLine.id)
        .where(AfterSalesItem.case_id == case.id)
    )
    if sku is None or sku.product_id not in set(lines.all()):
        raise NotFound("no such variant of this product", code="variant_not_found")
    case.wanted_sku = sku.code
    return sku


def variant_label(options: Mapping[str, object]) -> str:
    """``{"size": "L", "color": "red"}`` -> ``"red / L"`` (by option name: JSONB keeps no order)."""
    return " / ".join(str(value) for _, value in sorted(options.items()))


def _require(case: AfterSalesCase, allowed: tuple[CaseStatus, ...], code: str) -> None:
    if CaseStatus(case.status) not in allowed:
        raise NotAllowed(f"not possible while the case is {case.status}", code=code, status=case.status)


class CaseDesk:
    """Staff actions on cases; ``refund_runner`` calls the payment provider after commit."""

    def __init__(
        self,
        units: Units,
        policy: AfterSalesPolicy,
        *,
        carriers: Mapping[str, Carrier],
        city_of: CityOf,
        refund_runner: RefundRunner | None = None,
    ) -> None:
        self._units = units
        self.policy = policy
        self._carriers = carriers
        self._city_of = city_of
        self.refund_runner = refund_runner

    # -- reading -----------------------------------------------------------------------------------
    async def queue(self, *, include_closed: bool = False, limit: int = 200) -> list[CaseView]:
        """Open cases, the one due soonest first (with ``include_closed``: every case, newest first)."""
        async with self._units.orm() as uow:
            query = select(AfterSalesCase)
            if include_closed:
                query = query.order_by(AfterSalesCase.id.desc())
            else:
                query = query.where(
                    AfterSalesCase.status.in_([s.value for s in OPEN_CASE_STATUSES])
                ).order_by(AfterSalesCase.first_response_due_at, AfterSalesCase.id)
            cases = (await uow.session.scalars(query.limit(limit))).all()
            return [await case_view(uow, c) for c in cases]

    async def case(self, number: str) -> CaseView:
        async with self._units.orm() as uow:
            found = await uow.session.scalar(
                select(AfterSalesCase).where(AfterSalesCase.number == normalise_public_id(number[:32]))
            )
            if found is None:
                raise NotFound("no such case", code="case_not_found")
            return await case_view(uow, found)

    async def variants(self, number: str) -> list[tuple[str, dict[str, str]]]:
        """The SKUs an exchange may ask for: the same product's (code, options)."""
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            product_ids = (
                await uow.session.scalars(
                    select(OrderLine.product_id)
                    .join(AfterSalesItem, AfterSalesItem.order_line_id == OrderLine.id)
                    .where(AfterSalesItem.case_id == case.id)
                )
            ).all()
            skus = (
                await uow.session.scalars(select(Sku).where(Sku.product_id.in_(product_ids)).order_by(Sku.id))
            ).all()
            return [(s.code, dict(s.options)) for s in skus]

    # -- deciding ----------------------------------------------------------------------------------
    async def accept(self, number: str, actor: Actor, *, note: str | None = None) -> CaseView:
        note_text = clean_text(note, "note", max_length=REASON_LIMIT, required=False)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            _require(case, DECIDING, "case_decided")
            told = Told(CaseUpdate.ACCEPTED, note_text)
            move(uow, case, CaseStatus.ACCEPTED, actor=actor_label(actor), note=note_text, told=told)
            await audit(uow, actor, "accept", case, note_text)
            return await self._done(uow, case)

    async def reject(self, number: str, actor: Actor, *, reason: str) -> CaseView:
        """Refuse, with the reason the shopper reads (a quality problem is always accepted: R5.4-1)."""
        text = clean_text(reason, "reason", max_length=REASON_LIMIT)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            _require(case, DECIDING, "case_decided")
            if case.quality_issue:
                raise NotAllowed("quality problems are always accepted", code="quality_always_accepted")
            told = Told(CaseUpdate.REJECTED, text)
            move(uow, case, CaseStatus.REJECTED, actor=actor_label(actor), note=text, told=told)
            await audit(uow, actor, "reject", case, text)
            return await self._done(uow, case)

    async def ask_info(self, number: str, actor: Actor, *, question: str) -> CaseView:
        """Ask the shopper for more information or photos; their answer reopens the case."""
        text = clean_text(question, "question", max_length=REASON_LIMIT)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            _require(case, DECIDING, "case_decided")
            told = Told(CaseUpdate.INFO_REQUESTED, text)
            move(uow, case, CaseStatus.AWAITING_INFO, actor=actor_label(actor), note=text, told=told)
            await audit(uow, actor, "ask_info", case, text)
            return await self._done(uow, case)

    # -- resolving ---------------------------------------------------------------------------------
    async def refund(self, number: str, actor: Actor, *, amount: int | None = None) -> CaseView:
        """Refund the case's items in full (``amount`` None) or in part, through the order's payment
        provider. Never more than the items cost less what the case refunded already, and never
        more than the payment has left (``request_refund`` checks that under the payment's lock)."""
        refund_id = None
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            _require(case, WORKING, "case_not_accepted")
            order = await order_of(uow, case, lock=True)
            view = await case_view(uow, case)
            left = await items_value(uow, case.id) - view.refunded
            wanted = left if amount is None else amount
            if not isinstance(wanted, int) or isinstance(wanted, bool) or not 0 < wanted <= left:
                raise InvalidInput(
                    "a refund is more than zero and at most what the items cost",
                    code="refund_too_large" if isinstance(wanted, int) and wanted > 0 else "invalid_amount",
                    maximum=max(left, 0),
                )
            refund_id = await request_refund(
                uow, order.id, order.number, wanted, f"after_sales:{case.kind}", case_id=case.id
            )
            if refund_id is None:
                raise NotAllowed("nothing was paid on this order", code="nothing_paid")
            told = Told(CaseUpdate.REFUNDED, "full" if wanted == left else "partial", wanted, order.currency)
            move(uow, case, CaseStatus.RESOLVED, actor=actor_label(actor), note=f"refund {wanted}", told=told)
            await audit(uow, actor, "refund", case, f"{wanted} {order.currency} ({refund_id})")
            result = await self._done(uow, case)
        if self.refund_runner is not None:
            await self.refund_runner(refund_id)
        return result

    async def exchange(self, number: str, actor: Actor, *, sku_code: str) -> CaseView:
        """Record the variant the shopper wants instead (same product); accepts an undecided case.
        The replacement ships when the return arrives (:meth:`receive_return`)."""
        code = clean_text(sku_code, "sku", max_length=64)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            if case.kind != CaseKind.EXCHANGE.value:
                raise NotAllowed("only an exchange case takes a variant", code="not_an_exchange")
            _require(case, (*DECIDING, CaseStatus.ACCEPTED), "case_decided")
            if case.replacement_tracking:
                raise NotAllowed("the replacement has shipped", code="replacement_shipped")
            sku = await wanted_variant(uow, case, code)
            options = variant_label(sku.options) or sku.code
            target = CaseStatus.ACCEPTED
            move(
                uow,
                case,
                target,
                actor=actor_label(actor),
                note=sku.code,
                told=Told(CaseUpdate.EXCHANGE_RECORDED, options),
            )
            await audit(uow, actor, "exchange", case, sku.code)
            return await self._done(uow, case)

    async def receive_return(self, number: str, actor: Actor) -> CaseView:
        """The returned item arrived (staff say so, or its parcel was delivered): an exchange's
        replacement ships now, through the merchant's own fulfilment (a parcel in its name)."""
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            number = case.number
            _require(case, WORKING, "case_not_accepted")
            if case.return_received_at is not None:
                raise NotAllowed("the return has already arrived", code="return_received")
            case.return_received_at = uow.now()
            order_number = (await order_of(uow, case)).number
            ship = case.kind == CaseKind.EXCHANGE.value and case.wanted_sku is not None
            merchant = next(iter(await merchants_of(uow, case.id)), None)
            told = Told(CaseUpdate.RETURN_RECEIVED)
            move(uow, case, CaseStatus.IN_PROGRESS, actor=actor_label(actor), told=told)
            await audit(uow, actor, "receive_return", case)
            await uow.commit()
        if ship:
            await self._ship_replacement(number, order_number, merchant, actor)
        return await self.case(number)

    async def _ship_replacement(
        self, number: str, order_number: str, merchant: int | None, actor: Actor
    ) -> None:
        carrier = self._carriers["simulated"]
        parcel = await carrier.create_shipment(order_number, WAREHOUSE, await self._city_of(order_number))
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            if case.replacement_tracking:
                return  # shipped meanwhile by another worker
            now = uow.now()
            uow.session.add(
                Shipment(
                    order_id=case.order_id,
                    merchant_id=merchant,
                    carrier=carrier.name,
                    tracking_number=parcel.tracking_number,
                    status=ShipmentStatus.CREATED.value,
                    origin=parcel.origin,
                    destination=parcel.destination,
                    eta=parcel.eta,
                    last_event_at=now,
                    created_at=now,
                )
            )
            case.replacement_tracking = parcel.tracking_number
            told = Told(CaseUpdate.REPLACEMENT_SHIPPED, parcel.tracking_number)
            move(
                uow,
                case,
                CaseStatus.RESOLVED,
                actor=actor_label(actor),
                note=parcel.tracking_number,
                told=told,
            )
            await audit(uow, actor, "ship_replacement", case, parcel.tracking_number)
            await uow.commit()

    async def repair(self, number: str, actor: Actor, *, stage: str) -> CaseView:
        """Move a repair on to its next stage (received, diagnosing, repairing, shipped back); each
        stage is pushed to the shopper, and shipping it back resolves the case."""
        try:
            wanted = RepairStage(stage)
        except ValueError:
            raise InvalidInput("unknown repair stage", code="invalid_stage") from None
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            if case.kind != CaseKind.REPAIR.value:
                raise NotAllowed("only a repair has stages", code="not_a_repair")
            _require(case, WORKING, "case_not_accepted")
            done = REPAIR_STAGES.index(RepairStage(case.repair_stage)) if case.repair_stage else -1
            if REPAIR_STAGES.index(wanted) <= done:
                raise NotAllowed("a repair only moves forward", code="stage_passed")
            case.repair_stage = wanted.value
            target = CaseStatus.RESOLVED if wanted is RepairStage.SHIPPED_BACK else CaseStatus.IN_PROGRESS
            move(
                uow,
                case,
                target,
                actor=actor_label(actor),
                note=wanted.value,
                told=Told(CaseUpdate.REPAIR_STAGE, wanted.value),
            )
            await audit(uow, actor, "repair", case, wanted.value)
            return await self._done(uow, case)

    async def close(self, number: str, actor: Actor, *, note: str | None = None) -> CaseView:
        """Close the case (a working one is resolved first); the shopper is asked for a 1-5 rating."""
        note_text = clean_text(note, "note", max_length=REASON_LIMIT, required=False)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number)
            _require(case, (*WORKING, CaseStatus.RESOLVED, CaseStatus.REJECTED), "case_not_closable")
            label = actor_label(actor)
            if CaseStatus(case.status) in WORKING:
                move(uow, case, CaseStatus.RESOLVED, actor=label, note=note_text)
            move(
                uow,
                case,
                CaseStatus.CLOSED,
                actor=label,
                note=note_text,
                told=Told(CaseUpdate.CLOSED, note_text),
            )
            await audit(uow, actor, "close", case, note_text)
            return await self._done(uow, case)

    @staticmethod
    async def _done(uow: UnitOfWork, case: AfterSalesCase) -> CaseView:
        await uow.flush()
        view = await case_view(uow, case)
        await uow.commit()
        return view
