"""Shipping paid orders, applying carrier events idempotently, and detecting delays."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError

from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import OrderShipped, ShipmentDelayed, ShipmentUpdated
from commerce_core.orders import transitions
from commerce_core.orders.model import Order, OrderLine
from commerce_core.orders.parts import OrderPartCancellation
from commerce_core.orders.types import OrderStatus
from commerce_core.security import FieldCipher
from commerce_core.shipments.carrier import Carrier, CarrierEvent, WaybillCarrier
from commerce_core.shipments.model import SHIPMENT_STATUS, Shipment, TrackingEvent
from commerce_core.shipments.stops import WaybillStops
from commerce_core.shipments.types import ShipmentStatus, ShipmentView, TrackingEventView
from commerce_core.uow import UnitOfWork, Units

OPEN_STATUSES = [s.value for s in ShipmentStatus if s is not ShipmentStatus.DELIVERED]
log = logging.getLogger(__name__)


class ShipmentService:
    def __init__(
        self,
        units: Units,
        carriers: dict[str, Carrier],
        cipher: FieldCipher,
        *,
        warehouse_city: str = "杭州",
        delay_after: timedelta = timedelta(hours=48),
        waybills: dict[str, WaybillCarrier] | None = None,
    ) -> None:
        self._units = units
        self._carriers = carriers
        #: waybill-tracking services (Kuaidi100) by name: they track merchants' waybills, create none
        self.waybills: dict[str, WaybillCarrier] = dict(waybills or {})
        self.stops = WaybillStops(units, self.waybills)  # a service that gave up on a waybill
        self._cipher = cipher
        self._warehouse = warehouse_city
        self.delay_after = delay_after

    def _carrier(self, name: str) -> Carrier:
        if name not in self._carriers:
            raise NotFound(f"no carrier {name!r}", code="carrier_not_found")
        return self._carriers[name]

    async def ship(
        self,
        order_number: str,
        *,
        merchant_id: int | None = None,
        carrier: str = "simulated",
        tracking_number: str | None = None,
        company: str | None = None,
        actor: str = "system",
    ) -> ShipmentView:
        """Hand a merchant's part of a paid order to a carrier; returns the new parcel's tracking view.

        Fulfilment is per merchant: each merchant in the order ships its own lines as one parcel, and
        the order becomes shipped when the last part has gone. ``merchant_id=None`` ships every part
        not shipped yet (the operator's and the tests' shortcut). A merchant that has no line in the
        order gets NotFound, exactly as for an unknown order. With ``tracking_number`` the merchant
        hands the parcel to a carrier of its own (any carrier name) and nothing is asked of a gateway;
        without it the named gateway (the simulated carrier by default) creates the parcel. A
        waybill-tracking service (``carrier="kuaidi100"``) needs the waybill and the express
        ``company``'s code; the waybill is subscribed there so its scans are pushed to us.
        """
        if carrier.strip() in self.waybills:
            if tracking_number is None:
                raise InvalidInput("a tracking number is needed for this carrier", code="tracking_invalid")
            company = _checked_company(company)
        else:
            company = None
        if tracking_number is not None:
            carrier, tracking_number = _checked_waybill(carrier, tracking_number)
        else:
            self._carrier(carrier)
        waybill = (tracking_number, company)
        if merchant_id is not None:
            view = await self._ship_part(order_number, merchant_id, carrier, waybill, actor)
        else:
            parts = await self.unshipped_merchants(order_number)
            if not parts:
                raise NotAllowed("only paid orders can be shipped", code="order_not_shippable")
            view = [await self._ship_part(order_number, m, carrier, waybill, actor) for m in parts][-1]
        if company is not None and tracking_number is not None:
            await self._subscribe(carrier, company, tracking_number)
        return view

    async def _subscribe(self, carrier: str, company: str, tracking_number: str) -> None:
        """Subscribe the waybill; a refusal or outage is logged, not raised: the parcel is shipped and
        the query fallback (:meth:`query_quiet_waybills`) tracks it all the same."""
        try:
            await self.waybills[carrier].subscribe(company, tracking_number)
        except Exception:
            log.warning(
                "subscribing %s waybill %s failed; the query fallback tracks it",
                carrier,
                tracking_number,
                exc_info=True,
            )

    async def query_quiet_waybills(self, quiet_for: timedelta, *, limit: int = 50) -> int:
        """Ask the tracking service about open waybills it has not told us about for ``quiet_for``
        (no push: a lost callback, an outage, a subscription that failed). Returns the new events.

        Every answer (even an empty one) resets the waybill's clock, so one quiet waybill is asked at
        most once per ``quiet_for``; a failing query is logged and tried again next round.
        """
        if not self.waybills:
            return 0
        async with self._units.orm() as uow:
            due = uow.now() - quiet_for
            rows = (
                await uow.session.execute(
                    select(Shipment.carrier, Shipment.carrier_company, Shipment.tracking_number)
                    .where(
                        Shipment.status.in_(OPEN_STATUSES),
                        Shipment.carrier.in_(list(self.waybills)),
                        Shipment.carrier_company.is_not(None),
                        Shipment.created_at <= due,
                        (Shipment.tracked_at.is_(None)) | (Shipment.tracked_at <= due),
                    )
                    .order_by(Shipment.tracked_at.is_not(None), Shipment.tracked_at, Shipment.id)
                    .limit(limit)
                )
            ).all()
        applied = 0
        for carrier, company, number in rows:
            try:
                events = await self.waybills[carrier].query(str(company), number)
            except Exception:
                log.warning("querying %s waybill %s failed; again next round", carrier, number, exc_info=True)
                continue
            applied += await self.apply_events(number, events, tracked=True)
        return applied

    async def ship_waiting(self, older_than: timedelta, *, limit: int = 50) -> list[str]:
        """Ship, with the simulated carrier, every part of orders paid at least ``older_than`` ago.

        Why: the demo has no merchant at a desk; its merchants "ship" a few seconds after payment so a
        newcomer sees the parcel move, arrive and become returnable. A part shipped meanwhile (by a
        merchant or another process) is skipped. Returns the order numbers that got a parcel.
        """
        async with self._units.orm() as uow:
            due = uow.now() - older_than
            numbers = (
                await uow.session.scalars(
                    select(Order.number)
                    .where(Order.status == OrderStatus.PAID.value, Order.paid_at <= due)
                    .order_by(Order.paid_at)
                    .limit(limit)
                )
            ).all()
        shipped = []
        for number in numbers:
            for merchant_id in await self.unshipped_merchants(number):
                try:
                    await self._ship_part(number, merchant_id, "simulated", (None, None), "demo:auto_ship")
                except (NotAllowed, NotFound):
                    continue  # shipped, cancelled or refunded meanwhile
                shipped.append(number)
        return shipped

    async def unshipped_merchants(self, order_number: str) -> list[int]:
        """The merchants whose part of a paid order still waits to be shipped (none unless paid)."""
        async with self._units.hot() as uow:  # every paid order asks this (its merchants are told)
            waiting = (await uow.execute(_UNSHIPPED, {"b_number": order_number})).scalars().all()
        if waiting:
            return sorted(set(waiting))
        async with self._units.orm() as uow:  # none: say why (unknown order, not paid, all shipped)
            order = await uow.session.scalar(select(Order).where(Order.number == order_number))
            if order is None:
                raise NotFound("no such order", code="order_not_found")
            if order.status != OrderStatus.PAID.value:
                return []
            return await _unshipped(uow, order.id)

    async def delivery_city(self, order_number: str) -> str:
        """Only the city of the delivery address: what a merchant is told before shipping (the full
        address, name and phone stay encrypted until a label is printed)."""
        async with self._units.orm() as uow:
            sealed = await uow.session.scalar(select(Order.address_enc).where(Order.number == order_number))
            if sealed is None:
                raise NotFound("no such order", code="order_not_found")
            return str(self._cipher.decrypt_json(sealed).get("city") or "")

    async def _ship_part(
        self, number: str, merchant_id: int, carrier: str, waybill: tuple[str | None, str | None], actor: str
    ) -> ShipmentView:
        tracking_number, company = waybill
        async with self._units.orm() as uow:
            order = await uow.session.scalar(select(Order).where(Order.number == number))
            if order is None or merchant_id not in await _merchants_of(uow, order.id):
                raise NotFound("no such order", code="order_not_found")
            _check_shippable(order, merchant_id, await _unshipped(uow, order.id))
            city = str(self._cipher.decrypt_json(order.address_enc).get("city") or "")
        if tracking_number is None:
            parcel = await self._carrier(carrier).create_shipment(number, self._warehouse, city)
            origin, destination, eta = parcel.origin, parcel.destination, parcel.eta
            tracking = parcel.tracking_number
        else:
            origin, destination, eta, tracking = self._warehouse, city, None, tracking_number
        async with self._units.orm() as uow:
            order = await uow.session.scalar(select(Order).where(Order.number == number).with_for_update())
            assert order is not None
            waiting = await _unshipped(uow, order.id)
            _check_shippable(order, merchant_id, waiting)  # re-checked under the lock
            if waiting == [merchant_id]:
                transitions.move(uow, order, OrderStatus.SHIPPED, actor=actor)
            now = uow.now()
            uow.session.add(
                Shipment(
                    order_id=order.id,
                    merchant_id=merchant_id,
                    carrier=carrier,
                    tracking_number=tracking,
                    status=ShipmentStatus.CREATED.value,
                    origin=origin,
                    destination=destination,
                    eta=eta,
                    last_event_at=now,
                    created_at=now,
                    carrier_company=company,
                )
            )
            uow.emit(OrderShipped(order.number, order.customer_id, carrier, tracking))
            try:
                await uow.commit()
            except IntegrityError:
                raise NotAllowed("that tracking number is already in use", code="tracking_in_use") from None
        return await self.parcel(tracking)

    async def refresh(self, tracking_number: str) -> int:
        """Pull the carrier's events for one parcel and apply the new ones; returns how many were new."""
        async with self._units.orm() as uow:
            carrier = await uow.session.scalar(
                select(Shipment.carrier).where(Shipment.tracking_number == tracking_number)
            )
        if carrier is None:
            raise NotFound("no such shipment", code="shipment_not_found")
        return await self.apply_events(tracking_number, await self._carrier(carrier).events(tracking_number))

    async def apply_events(
        self, tracking_number: str, events: list[CarrierEvent], *, tracked: bool = False
    ) -> int:
        """Apply carrier events (pushed by webhook or pulled); duplicates are ignored.

        ``tracked``: a waybill service's push or query answer, which also resets the clock of the
        query fallback (even when it brought nothing new)."""
        applied = 0
        async with self._units.orm() as uow:
            shipment = await uow.session.scalar(
                select(Shipment).where(Shipment.tracking_number == tracking_number).with_for_update()
            )
            if shipment is None:
                raise NotFound("no such shipment", code="shipment_not_found")
            known = set(
                (
                    await uow.session.scalars(
                        select(TrackingEvent.carrier_event_id).where(TrackingEvent.shipment_id == shipment.id)
                    )
                ).all()
            )
            order = await uow.session.scalar(
                select(Order).where(Order.id == shipment.order_id).with_for_update()
            )
            assert order is not None
            if tracked:
                shipment.tracked_at = uow.now()
            for event in sorted(events, key=lambda e: e.occurred_at):
                if event.event_id in known:
                    continue
                status = ShipmentStatus(event.status)
                uow.session.add(
                    TrackingEvent(
                        shipment_id=shipment.id,
                        carrier_event_id=event.event_id,
                        status=status.value,
                        location=event.location,
                        description=event.description,
                        occurred_at=event.occurred_at,
                    )
                )
                known.add(event.event_id)
                applied += 1
                current = ShipmentStatus(shipment.status)
                if SHIPMENT_STATUS.can(current, status):
                    shipment.status = status.value
                shipment.last_event_at = max(shipment.last_event_at, event.occurred_at)
                shipment.delay_flagged_at = None
                uow.emit(
                    ShipmentUpdated(
                        order.number, order.customer_id, tracking_number, status.value, event.location
                    )
                )
                if (
                    status is ShipmentStatus.DELIVERED
                    and order.status == OrderStatus.SHIPPED.value
                    and await _all_delivered(uow, order.id, shipment.id)
                ):
                    transitions.move(uow, order, OrderStatus.DELIVERED, actor=f"carrier:{shipment.carrier}")
            try:
                await uow.commit()
            except IntegrityError:
                return 0  # another worker applied the same events first
        return applied

    async def refresh_open(self, limit: int = 500) -> int:
        async with self._units.orm() as uow:
            numbers = (
                await uow.session.scalars(
                    select(Shipment.tracking_number)
                    .where(Shipment.status.in_(OPEN_STATUSES), Shipment.carrier.in_(list(self._carriers)))
                    .order_by(Shipment.id)
                    .limit(limit)
                )
            ).all()
        return sum([await self.refresh(n) for n in numbers])

    async def detect_delays(self, now: datetime | None = None) -> list[str]:
        """Flag open shipments with no event for ``delay_after``; each delay is announced once."""
        flagged = []
        async with self._units.orm() as uow:
            now = now or uow.now()
            rows = (
                await uow.session.execute(
                    select(Shipment, Order)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(
                        Shipment.status.in_(OPEN_STATUSES),
                        Shipment.delay_flagged_at.is_(None),
                        Shipment.last_event_at <= now - self.delay_after,
                    )
                    .with_for_update(of=Shipment)
                )
            ).all()
            for shipment, order in rows:
                shipment.delay_flagged_at = now
                hours = int((now - shipment.last_event_at).total_seconds() // 3600)
                uow.emit(ShipmentDelayed(order.number, order.customer_id, shipment.tracking_number, hours))
                flagged.append(shipment.tracking_number)
            await uow.commit()
        return flagged

    async def track(self, order_number: str, *, customer_id: int | None = None) -> ShipmentView:
        """The order's latest parcel (an order shipped by two merchants has two: see ``parcels``)."""
        views = await self.parcels(order_number, customer_id=customer_id)
        if not views:
            raise NotFound("no shipment for that order", code="shipment_not_found")
        return views[-1]

    async def parcels(
        self, order_number: str, *, customer_id: int | None = None, merchant_id: int | None = None
    ) -> list[ShipmentView]:
        """Every parcel of the order, oldest first; with ``merchant_id`` only that merchant's."""
        async with self._units.orm() as uow:
            query = (
                select(Shipment, Order)
                .join(Order, Order.id == Shipment.order_id)
                .where(Order.number == order_number)
                .order_by(Shipment.id)
            )
            if merchant_id is not None:
                query = query.where(Shipment.merchant_id == merchant_id)
            rows = (await uow.session.execute(query)).all()
            if rows and customer_id is not None and rows[0][1].customer_id != customer_id:
                return []
            return [await _view(uow, shipment, order_number) for shipment, _ in rows]

    async def parcel(self, tracking_number: str) -> ShipmentView:
        async with self._units.orm() as uow:
            row = (
                await uow.session.execute(
                    select(Shipment, Order.number)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(Shipment.tracking_number == tracking_number)
                )
            ).first()
            if row is None:
                raise NotFound("no such shipment", code="shipment_not_found")
            return await _view(uow, row[0], row[1])


async def _view(uow: UnitOfWork, shipment: Shipment, order_number: str) -> ShipmentView:
    events = (
        await uow.session.scalars(
            select(TrackingEvent)
            .where(TrackingEvent.shipment_id == shipment.id)
            .order_by(TrackingEvent.occurred_at)
        )
    ).all()
    return ShipmentView(
        order_number,
        shipment.carrier,
        shipment.tracking_number,
        shipment.status,
        shipment.origin,
        shipment.destination,
        shipment.eta,
        shipment.delay_flagged_at is not None,
        tuple(TrackingEventView(e.status, e.location, dict(e.description), e.occurred_at) for e in events),
        shipment.merchant_id,
        shipment.carrier_company,
    )


#: a paid order's merchants with no parcel and no cancelled part, in one statement on the hot unit
_UNSHIPPED = (
    select(OrderLine.merchant_id)
    .join(Order, Order.id == OrderLine.order_id)
    .where(
        Order.number == bindparam("b_number"),
        Order.status == OrderStatus.PAID.value,
        ~exists().where(
            Shipment.order_id == Order.id,
            or_(Shipment.merchant_id == OrderLine.merchant_id, Shipment.merchant_id.is_(None)),
        ),
        ~exists().where(
            OrderPartCancellation.order_id == Order.id,
            OrderPartCancellation.merchant_id == OrderLine.merchant_id,
        ),
    )
)


async def _merchants_of(uow: UnitOfWork, order_id: int) -> list[int]:
    rows = await uow.session.scalars(
        select(OrderLine.merchant_id).where(OrderLine.order_id == order_id).distinct()
    )
    return sorted(rows.all())


async def _unshipped(uow: UnitOfWork, order_id: int) -> list[int]:
    """Merchants of the order with no parcel yet (parcels from before per-merchant shipping count for all);
    a part its merchant cancelled waits for nothing."""
    shipped = set(
        (await uow.session.scalars(select(Shipment.merchant_id).where(Shipment.order_id == order_id))).all()
    )
    if None in shipped:
        return []
    shipped |= set(
        (
            await uow.session.scalars(
                select(OrderPartCancellation.merchant_id).where(OrderPartCancellation.order_id == order_id)
            )
        ).all()
    )
    return [m for m in await _merchants_of(uow, order_id) if m not in shipped]


async def _all_delivered(uow: UnitOfWork, order_id: int, but: int) -> bool:
    waiting = await uow.session.scalar(
        select(Shipment.id).where(
            Shipment.order_id == order_id,
            Shipment.id != but,
            Shipment.status != ShipmentStatus.DELIVERED.value,
        )
    )
    return waiting is None and not await _unshipped(uow, order_id)


def _check_shippable(order: Order, merchant_id: int, waiting: list[int]) -> None:
    if order.status != OrderStatus.PAID.value:
        raise NotAllowed("only paid orders can be shipped", code="order_not_shippable", status=order.status)
    if merchant_id not in waiting:
        raise NotAllowed("this part of the order has already been shipped", code="already_shipped")


_WAYBILL = re.compile(r"[A-Za-z0-9-]{4,40}")
_COMPANY = re.compile(r"[a-z0-9]{2,32}")


def _checked_company(company: str | None) -> str:
    """An express company's code at the tracking service (``shunfeng``, ``yuantong``), lower case."""
    code = (company or "").strip().lower()
    if not _COMPANY.fullmatch(code):
        raise InvalidInput("name the express company by its code, e.g. shunfeng", code="company_invalid")
    return code


def _checked_waybill(carrier: str, tracking_number: str) -> tuple[str, str]:
    """A merchant-typed carrier name and waybill number, trimmed; anything odd is refused clearly."""
    name, number = carrier.strip(), tracking_number.strip()
    if not 1 <= len(name) <= 32 or not name.isprintable():
        raise InvalidInput("name the carrier (up to 32 characters)", code="carrier_invalid")
    if not _WAYBILL.fullmatch(number):
        raise InvalidInput("a tracking number is 4-40 letters, digits or dashes", code="tracking_invalid")
    return name, number
