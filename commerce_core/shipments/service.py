"""Shipping paid orders, applying carrier events idempotently, and detecting delays."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commerce_core.errors import NotAllowed, NotFound
from commerce_core.events import OrderShipped, ShipmentDelayed, ShipmentUpdated
from commerce_core.orders import transitions
from commerce_core.orders.model import Order
from commerce_core.orders.types import OrderStatus
from commerce_core.security import FieldCipher
from commerce_core.shipments.carrier import Carrier, CarrierEvent
from commerce_core.shipments.model import SHIPMENT_STATUS, Shipment, TrackingEvent
from commerce_core.shipments.types import ShipmentStatus, ShipmentView, TrackingEventView
from commerce_core.uow import Units

OPEN_STATUSES = [s.value for s in ShipmentStatus if s is not ShipmentStatus.DELIVERED]


class ShipmentService:
    def __init__(
        self,
        units: Units,
        carriers: dict[str, Carrier],
        cipher: FieldCipher,
        *,
        warehouse_city: str = "杭州",
        delay_after: timedelta = timedelta(hours=48),
    ) -> None:
        self._units = units
        self._carriers = carriers
        self._cipher = cipher
        self._warehouse = warehouse_city
        self.delay_after = delay_after

    def _carrier(self, name: str) -> Carrier:
        if name not in self._carriers:
            raise NotFound(f"no carrier {name!r}", code="carrier_not_found")
        return self._carriers[name]

    async def ship(
        self, order_number: str, *, carrier: str = "simulated", actor: str = "system"
    ) -> ShipmentView:
        """Hand a paid order to the carrier: the order becomes shipped and gets a tracking number."""
        gateway = self._carrier(carrier)
        async with self._units.orm() as uow:
            order = await uow.session.scalar(select(Order).where(Order.number == order_number))
            if order is None:
                raise NotFound("no such order", code="order_not_found")
            if order.status != OrderStatus.PAID.value:
                raise NotAllowed(
                    "only paid orders can be shipped", code="order_not_shippable", status=order.status
                )
            city = str(self._cipher.decrypt_json(order.address_enc).get("city") or "")
        parcel = await gateway.create_shipment(order_number, self._warehouse, city)
        async with self._units.orm() as uow:
            order = await uow.session.scalar(
                select(Order).where(Order.number == order_number).with_for_update()
            )
            assert order is not None
            transitions.move(uow, order, OrderStatus.SHIPPED, actor=actor)  # re-checked under the lock
            now = uow.now()
            uow.session.add(
                Shipment(
                    order_id=order.id,
                    carrier=carrier,
                    tracking_number=parcel.tracking_number,
                    status=ShipmentStatus.CREATED.value,
                    origin=parcel.origin,
                    destination=parcel.destination,
                    eta=parcel.eta,
                    last_event_at=now,
                    created_at=now,
                )
            )
            uow.emit(OrderShipped(order.number, order.customer_id, carrier, parcel.tracking_number))
            await uow.commit()
        return await self.track(order_number)

    async def refresh(self, tracking_number: str) -> int:
        """Pull the carrier's events for one parcel and apply the new ones; returns how many were new."""
        async with self._units.orm() as uow:
            carrier = await uow.session.scalar(
                select(Shipment.carrier).where(Shipment.tracking_number == tracking_number)
            )
        if carrier is None:
            raise NotFound("no such shipment", code="shipment_not_found")
        return await self.apply_events(tracking_number, await self._carrier(carrier).events(tracking_number))

    async def apply_events(self, tracking_number: str, events: list[CarrierEvent]) -> int:
        """Apply carrier events (pushed by webhook or pulled); duplicates are ignored."""
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
                if status is ShipmentStatus.DELIVERED and order.status == OrderStatus.SHIPPED.value:
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
                    .where(Shipment.status.in_(OPEN_STATUSES))
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
        async with self._units.orm() as uow:
            row = (
                await uow.session.execute(
                    select(Shipment, Order)
                    .join(Order, Order.id == Shipment.order_id)
                    .where(Order.number == order_number)
                    .order_by(Shipment.id.desc())
                )
            ).first()
            if row is None or (customer_id is not None and row[1].customer_id != customer_id):
                raise NotFound("no shipment for that order", code="shipment_not_found")
            shipment = row[0]
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
                tuple(
                    TrackingEventView(e.status, e.location, dict(e.description), e.occurred_at)
                    for e in events
                ),
            )
