"""The other parties to a case, and the desk's clock.

* The merchant of the items sees the cases on its products (another merchant's case is "not found",
  exactly as an unknown number), may accept a return within the policy and gives its returns address.
  Anything outside the policy is left to staff, who arbitrate.
* The shopper enters the return parcel's carrier and tracking number (a shipment row like any other,
  so carrier webhooks and the tracking timeline work for it), answers a request for information, and
  rates a closed case 1-5.
* The periodic jobs: overdue cases alert the staff queue, then escalate to the admins, each once;
  a return parcel that was delivered counts as the return received (an exchange's replacement ships).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commerce_core.after_sales.desk import RETURNS, CaseDesk, wanted_variant
from commerce_core.after_sales.model import OPEN_CASE_STATUSES, AfterSalesCase, AfterSalesItem
from commerce_core.after_sales.records import (
    Told,
    actor_label,
    audit,
    locked_case,
    merchants_of,
    move,
    order_of,
)
from commerce_core.after_sales.service import case_view
from commerce_core.after_sales.types import CaseStatus, CaseUpdate, CaseView
from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import AfterSalesOverdue
from commerce_core.operators.types import SYSTEM_ACTOR, Actor
from commerce_core.orders.model import OrderLine
from commerce_core.shipments.model import Shipment
from commerce_core.shipments.types import ShipmentStatus
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

ADDRESS_LIMIT = 300
_WAYBILL = re.compile(r"[A-Za-z0-9-]{6,40}")
SENDING_BACK = (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS)


class CaseParties:
    """Merchant and shopper actions on cases, and the desk's periodic jobs."""

    def __init__(self, units: Units, desk: CaseDesk) -> None:
        self._units = units
        self._desk = desk

    # -- the merchant of the items -----------------------------------------------------------------
    async def for_merchant(self, merchant_id: int, *, limit: int = 100) -> list[CaseView]:
        async with self._units.orm() as uow:
            ids = (
                select(AfterSalesItem.case_id)
                .join(OrderLine, OrderLine.id == AfterSalesItem.order_line_id)
                .where(OrderLine.merchant_id == merchant_id)
            )
            cases = (
                await uow.session.scalars(
                    select(AfterSalesCase)
                    .where(AfterSalesCase.id.in_(ids))
                    .order_by(AfterSalesCase.id.desc())
                    .limit(limit)
                )
            ).all()
            return [await case_view(uow, c) for c in cases]

    async def merchant_case(self, merchant_id: int, number: str) -> CaseView:
        """One case, only if it is about this merchant's items (else "not found")."""
        view = await self._desk.case(number)
        if merchant_id not in view.merchant_ids:
            raise NotFound("no such case", code="case_not_found")
        return view

    async def merchant_accept(
        self, merchant_id: int, number: str, actor: Actor, *, returns_address: str | None = None
    ) -> CaseView:
        """Accept a return or exchange within the policy (the return window from delivery, or a
        quality problem), giving the address to send it to. Outside the policy staff decide."""
        address = clean_text(returns_address, "returns_address", max_length=ADDRESS_LIMIT, required=False)
        async with self._units.orm() as uow:
            case = await self._mine(uow, merchant_id, number)
            if case.kind not in RETURNS or CaseStatus(case.status) not in (
                CaseStatus.OPEN,
                CaseStatus.AWAITING_INFO,
            ):
                raise NotAllowed("only an undecided return can be accepted", code="case_decided")
            order = await order_of(uow, case)
            delivered = order.delivered_at or case.created_at
            within = case.created_at - delivered <= self._desk.policy.return_window
            if not (case.quality_issue or within):
                raise NotAllowed("outside the return policy: staff decide", code="outside_policy")
            case.returns_address = address or case.returns_address
            if not case.returns_address:
                raise InvalidInput("give the address the return goes to", code="required", field="address")
            told = Told(CaseUpdate.ACCEPTED)
            move(uow, case, CaseStatus.ACCEPTED, actor=actor_label(actor), note="merchant", told=told)
            await audit(uow, actor, "merchant_accept", case, case.returns_address)
            await uow.flush()
            view = await case_view(uow, case)
            await uow.commit()
            return view

    async def set_returns_address(
        self, merchant_id: int, number: str, actor: Actor, *, address: str
    ) -> CaseView:
        text = clean_text(address, "returns_address", max_length=ADDRESS_LIMIT)
        async with self._units.orm() as uow:
            case = await self._mine(uow, merchant_id, number)
            if CaseStatus(case.status) not in OPEN_CASE_STATUSES:
                raise NotAllowed("the case is over", code="case_closed")
            case.returns_address = text
            accepted = CaseStatus(case.status) in SENDING_BACK
            told = Told(CaseUpdate.RETURNS_ADDRESS, text) if accepted else None
            move(uow, case, None, actor=actor_label(actor), note="returns address", told=told)
            await audit(uow, actor, "returns_address", case, text)
            await uow.flush()
            view = await case_view(uow, case)
            await uow.commit()
            return view

    @staticmethod
    async def _mine(uow: UnitOfWork, merchant_id: int, number: str) -> AfterSalesCase:
        case = await locked_case(uow, number)
        if merchant_id not in await merchants_of(uow, case.id):
            raise NotFound("no such case", code="case_not_found")
        return case

    # -- the shopper -------------------------------------------------------------------------------
    async def waiting_for_parcel(self, customer_id: int) -> list[CaseView]:
        """The shopper's accepted cases that still wait for the item to be sent back."""
        cases = await self._for_customer(customer_id)
        return [
            c
            for c in cases
            if c.status in SENDING_BACK
            and c.kind != "refund"
            and not c.return_tracking
            and not c.return_received_at
        ]

    async def _for_customer(self, customer_id: int) -> Sequence[CaseView]:
        async with self._units.orm() as uow:
            rows = (
                await uow.session.scalars(
                    select(AfterSalesCase)
                    .where(AfterSalesCase.customer_id == customer_id)
                    .order_by(AfterSalesCase.id.desc())
                    .limit(20)
                )
            ).all()
            return [await case_view(uow, c) for c in rows]

    async def return_parcel(
        self, customer_id: int, number: str, *, carrier: str, tracking_number: str
    ) -> CaseView:
        """The shopper sent the item back: the parcel becomes a shipment in the merchant's name (its
        tracking events arrive and show like any other parcel's)."""
        name = clean_text(carrier, "carrier", max_length=32)
        waybill = tracking_number.strip().upper()
        if not _WAYBILL.fullmatch(waybill):
            raise InvalidInput("a tracking number is 6-40 letters, digits or dashes", code="tracking_invalid")
        async with self._units.orm() as uow:
            case = await locked_case(uow, number, customer_id=customer_id)
            waiting = case.return_tracking is None and case.return_received_at is None
            if CaseStatus(case.status) not in SENDING_BACK or not waiting:
                raise NotAllowed("this case is not waiting for a parcel", code="case_not_waiting")
            merchant = next(iter(await merchants_of(uow, case.id)), None)
            now = uow.now()
            uow.session.add(
                Shipment(
                    order_id=case.order_id,
                    merchant_id=merchant,
                    carrier=name,
                    tracking_number=waybill,
                    status=ShipmentStatus.CREATED.value,
                    origin="",
                    destination=(case.returns_address or "")[:64],
                    eta=None,
                    last_event_at=now,
                    created_at=now,
                )
            )
            case.return_carrier, case.return_tracking = name, waybill
            move(uow, case, None, actor=f"customer:{customer_id}", note=f"{name} {waybill}", staff=False)
            try:
                await uow.flush()
                view = await case_view(uow, case)
                await uow.commit()
            except IntegrityError:
                raise NotAllowed("that tracking number is already in use", code="tracking_in_use") from None
            return view

    async def want_variant(self, customer_id: int, number: str, sku_code: str) -> CaseView:
        """The shopper names the variant they want in exchange (staff can still change it)."""
        code = clean_text(sku_code, "sku", max_length=64)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number, customer_id=customer_id)
            if CaseStatus(case.status) not in (
                CaseStatus.OPEN,
                CaseStatus.AWAITING_INFO,
                CaseStatus.ACCEPTED,
            ):
                raise NotAllowed("the exchange is under way", code="case_decided")
            sku = await wanted_variant(uow, case, code)
            move(uow, case, None, actor=f"customer:{customer_id}", note=sku.code, staff=False)
            await uow.flush()
            view = await case_view(uow, case)
            await uow.commit()
            return view

    async def answer_info(
        self, customer_id: int, number: str, text: str, photos: Sequence[str] = ()
    ) -> CaseView:
        """The shopper's answer to "more information, please": kept on the case, which reopens."""
        answer = clean_text(text, "answer", max_length=1000, required=not photos)
        async with self._units.orm() as uow:
            case = await locked_case(uow, number, customer_id=customer_id)
            if case.status != CaseStatus.AWAITING_INFO.value:
                raise NotAllowed("nobody asked for more", code="case_not_waiting")
            case.photos = [*case.photos, *[clean_text(p, "photo", max_length=500) for p in photos]][:9]
            move(uow, case, CaseStatus.OPEN, actor=f"customer:{customer_id}", note=answer, staff=False)
            await uow.flush()
            view = await case_view(uow, case)
            await uow.commit()
            return view

    async def rate(self, customer_id: int, number: str, rating: int) -> CaseView:
        if not 1 <= rating <= 5:
            raise InvalidInput("a rating is 1 to 5", code="rating_range")
        async with self._units.orm() as uow:
            case = await locked_case(uow, number, customer_id=customer_id)
            if case.status != CaseStatus.CLOSED.value:
                raise NotAllowed("only a closed case is rated", code="case_not_closed")
            case.rating = rating
            await uow.flush()
            view = await case_view(uow, case)
            await uow.commit()
            return view

    # -- the clock ---------------------------------------------------------------------------------
    async def alert_overdue(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Cases past the first-response deadline: an alert to the staff queue once, then, still
        unanswered ``escalate_after`` later, an escalation to the admins once. Returns (number, level)."""
        raised: list[tuple[str, str]] = []
        async with self._units.orm() as uow:
            now = now or uow.now()
            cases = (
                await uow.session.scalars(
                    select(AfterSalesCase)
                    .where(
                        AfterSalesCase.status.in_([s.value for s in OPEN_CASE_STATUSES]),
                        AfterSalesCase.first_responded_at.is_(None),
                        AfterSalesCase.first_response_due_at <= now,
                        AfterSalesCase.escalated_at.is_(None),
                    )
                    .order_by(AfterSalesCase.id)
                    .limit(200)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for case in cases:
                level = None
                if case.alerted_at is None:
                    case.alerted_at, level = now, "alert"
                elif now >= case.first_response_due_at + self._desk.policy.escalate_after:
                    case.escalated_at, level = now, "escalation"
                if level is None:
                    continue
                order = await order_of(uow, case)
                minutes = int((now - case.first_response_due_at).total_seconds() // 60)
                uow.emit(AfterSalesOverdue(case.number, order.number, level, minutes))
                raised.append((case.number, level))
            await uow.commit()
        return raised

    async def receive_returns(self) -> list[str]:
        """Return parcels the carrier delivered: the return counts as received (once)."""
        async with self._units.orm() as uow:
            numbers = (
                await uow.session.scalars(
                    select(AfterSalesCase.number)
                    .join(Shipment, Shipment.tracking_number == AfterSalesCase.return_tracking)
                    .where(
                        AfterSalesCase.return_received_at.is_(None),
                        AfterSalesCase.status.in_([s.value for s in SENDING_BACK]),
                        Shipment.status == ShipmentStatus.DELIVERED.value,
                    )
                    .limit(100)
                )
            ).all()
        received = []
        for number in numbers:
            try:
                await self._desk.receive_return(number, SYSTEM_ACTOR)
            except (NotAllowed, NotFound):
                continue  # received meanwhile by a person or another worker
            received.append(number)
        return received
