"""Shipments' vocabulary: statuses and the tracking views shown to shoppers.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ShipmentStatus(StrEnum):
    CREATED = "created"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class TrackingEventView:
    status: str
    location: str | None
    description: dict[str, str]
    at: datetime


@dataclass(frozen=True, slots=True)
class ShipmentView:
    order_number: str
    carrier: str
    tracking_number: str
    status: str
    origin: str
    destination: str
    eta: datetime | None
    delayed: bool
    events: tuple[TrackingEventView, ...]
    #: whose part of the order the parcel carries (None: shipped before fulfilment was per merchant)
    merchant_id: int | None = None
    #: the express company at a waybill-tracking service (Kuaidi100's code), else None
    carrier_company: str | None = None
