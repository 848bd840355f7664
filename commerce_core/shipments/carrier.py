"""The carrier protocol and a simulated carrier with realistic tracking.

The simulator is deterministic per tracking number (its random generator is seeded by it), so a
shipment's whole journey is fixed at creation and revealed as time passes: picked up, several
in-transit scans in real Chinese hub cities, out for delivery, delivered; about one in twelve
parcels hits an exception (address problem, weather delay) before moving on. ``speed`` compresses
time for the demo (speed=3600 turns an hour into a second). Routes are stored in ``carrier_routes`` so
any process, before or after a restart, sees the same parcel move on.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from commerce_core.clock import Clock
from commerce_core.shipments.model import CarrierRoute
from commerce_core.uow import Units


@dataclass(frozen=True, slots=True)
class CarrierEvent:
    event_id: str
    status: str  # a ShipmentStatus value
    location: str | None
    description: dict[str, str]
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CarrierShipment:
    tracking_number: str
    origin: str
    destination: str
    eta: datetime


class Carrier(Protocol):
    name: str

    async def create_shipment(self, order_number: str, origin: str, destination: str) -> CarrierShipment: ...

    async def events(self, tracking_number: str) -> list[CarrierEvent]:
        """Every event known so far for the parcel, oldest first."""
        ...


class WaybillCarrier(Protocol):
    """A tracking service for waybills a merchant got from an express company (Kuaidi100).

    Why apart from :class:`Carrier`: such a service creates no parcel; the merchant types the
    express company's code and the waybill number, we subscribe it (the service then pushes scans to
    our callback) and query it as a fallback when pushes stop. Both need the company's code.
    """

    name: str

    async def subscribe(self, company: str, tracking_number: str, *, guess_company: bool = False) -> None:
        """Ask the service to push this waybill's scans to us; raises on refusal or outage.
        ``guess_company``: let the service work out the express company too (a second subscription
        after it stopped tracking: the merchant's code may be the reason)."""
        ...

    async def query(self, company: str, tracking_number: str) -> list[CarrierEvent]:
        """Every scan known so far for the waybill (the pull fallback)."""
        ...


HUBS = [
    "杭州",
    "上海",
    "南京",
    "合肥",
    "武汉",
    "郑州",
    "长沙",
    "广州",
    "深圳",
    "成都",
    "西安",
    "北京",
    "天津",
    "济南",
]
_TEXT = {
    "picked_up": {"zh-Hans": "快递员已揽收", "zh-Hant": "快遞員已攬收", "en": "Picked up by courier"},
    "in_transit": {
        "zh-Hans": "运输中，已到达{loc}转运中心",
        "zh-Hant": "運輸中，已到達{loc}轉運中心",
        "en": "In transit: arrived at {loc} hub",
    },
    "out_for_delivery": {
        "zh-Hans": "派送中，快递员正在为您派件",
        "zh-Hant": "派送中，快遞員正在為您派件",
        "en": "Out for delivery",
    },
    "delivered": {"zh-Hans": "已签收", "zh-Hant": "已簽收", "en": "Delivered"},
    "exception": {
        "zh-Hans": "运输异常：天气原因延误",
        "zh-Hant": "運輸異常：天氣原因延誤",
        "en": "Exception: delayed by weather",
    },
}


class SimulatedCarrier:
    """A carrier whose parcels follow a generated route, kept in the database.

    Why the database: the route used to live in this object's memory, so a restart (or a parcel
    shipped by another process) left the parcel frozen at its last scan. Each route is written when
    the parcel is created, with absolute times, and read back by whichever process asks; a small
    in-process cache spares the read on the busy path.
    """

    name = "simulated"

    def __init__(
        self, clock: Clock, *, speed: float = 1.0, seed: int = 7, units: Units | None = None
    ) -> None:
        self._clock = clock
        self._speed = speed
        self._seed = seed
        self._units = units
        self._plans: dict[str, list[tuple[datetime, str, str | None]]] = {}

    def keep_routes_in(self, units: Units) -> None:
        """Persist routes through ``units`` (the core wires this once its units exist)."""
        self._units = units

    async def create_shipment(self, order_number: str, origin: str, destination: str) -> CarrierShipment:
        tracking = "SX" + "".join(secrets.choice("0123456789") for _ in range(12))
        rng = random.Random(f"{self._seed}:{order_number}:{tracking}")
        start = self._clock.now()
        plan = [
            (start + timedelta(hours=hours / self._speed), status, location)
            for hours, status, location in self._plan(rng, origin, destination)
        ]
        if self._units is not None:
            async with self._units.orm() as uow:
                uow.session.add(
                    CarrierRoute(
                        tracking_number=tracking,
                        carrier=self.name,
                        steps=[[at.isoformat(), status, location] for at, status, location in plan],
                        created_at=start,
                    )
                )
                await uow.commit()
        self._plans[tracking] = plan
        return CarrierShipment(tracking, origin, destination, plan[-1][0])

    def _plan(self, rng: random.Random, origin: str, destination: str) -> list[tuple[float, str, str | None]]:
        hours = rng.uniform(2, 8)
        steps: list[tuple[float, str, str | None]] = [(hours, "picked_up", origin)]
        hubs = rng.sample([h for h in HUBS if h not in (origin, destination)], k=rng.randint(1, 3))
        for hub in [*hubs, destination]:
            hours += rng.uniform(6, 20)
            steps.append((hours, "in_transit", hub))
            if rng.random() < 1 / 12:
                hours += rng.uniform(8, 30)
                steps.append((hours, "exception", hub))
        hours += rng.uniform(4, 10)
        steps.append((hours, "out_for_delivery", destination))
        hours += rng.uniform(1, 5)
        steps.append((hours, "delivered", destination))
        return steps

    async def _route(self, tracking_number: str) -> list[tuple[datetime, str, str | None]] | None:
        if tracking_number in self._plans:
            return self._plans[tracking_number]
        if self._units is None:
            return None
        async with self._units.orm() as uow:
            row = await uow.session.get(CarrierRoute, tracking_number)
            if row is None:
                return None
            plan = [(datetime.fromisoformat(str(at)), str(status), loc) for at, status, loc in row.steps]
        self._plans[tracking_number] = plan
        return plan

    async def events(self, tracking_number: str) -> list[CarrierEvent]:
        plan = await self._route(tracking_number)
        if plan is None:
            return []
        now = self._clock.now()
        result = []
        for n, (at, status, location) in enumerate(plan):
            if at > now:
                break
            text = {lang: t.format(loc=location or "") for lang, t in _TEXT[status].items()}
            result.append(CarrierEvent(f"{tracking_number}-{n}", status, location, text, at))
        return result
