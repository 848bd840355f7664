"""Shipments of orders and the carrier's tracking events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, PortableJSON, UTCDateTime
from commerce_core.shipments.types import ShipmentStatus
from commerce_core.status import StatusMachine

_MOVING = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
        ShipmentStatus.EXCEPTION,
    }
)
SHIPMENT_STATUS = StatusMachine[ShipmentStatus](
    "shipment",
    {
        ShipmentStatus.CREATED: _MOVING,
        ShipmentStatus.PICKED_UP: _MOVING,
        ShipmentStatus.IN_TRANSIT: _MOVING,
        ShipmentStatus.OUT_FOR_DELIVERY: _MOVING,
        # a parcel in trouble can get moving again
        ShipmentStatus.EXCEPTION: _MOVING,
        ShipmentStatus.DELIVERED: frozenset(),
    },
)


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    # whose part of the order this parcel carries (fulfilment is per merchant); None: shipped before
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id"), nullable=True, index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.CREATED.value)
    origin: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delay_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the express company's code at a waybill-tracking service (Kuaidi100: "shunfeng", "yuantong")
    carrier_company: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: when a waybill service last told us about the parcel (push or query): the fallback's clock
    tracked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: how often the waybill service stopped tracking the waybill ("abort": no scans for days); the
    #: first stop is subscribed again (``resubscribe_at``), the second is a problem for people
    tracking_stops: Mapped[int] = mapped_column(default=0, server_default="0")
    resubscribe_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_shipments_open", "status", "last_event_at"),)


class TrackingEvent(Base):
    __tablename__ = "tracking_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    carrier_event_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    location: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[dict[str, str]] = mapped_column(PortableJSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("shipment_id", "carrier_event_id"),)


class CarrierRoute(Base):
    """The simulated carrier's planned scans for one parcel (absolute times), shared by all processes."""

    __tablename__ = "carrier_routes"

    tracking_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(32))
    # [[iso time, status, location or null], ...] oldest first
    steps: Mapped[list[list[str | None]]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
