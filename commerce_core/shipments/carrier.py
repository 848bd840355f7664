"""The carrier protocol and a simulated carrier with realistic tracking.

The simulator is deterministic per tracking number (its random generator is seeded by it), so a
shipment's whole journey is fixed at creation and revealed as time passes: picked up, several
in-transit scans in real Chinese hub cities, out for delivery, delivered; about one in twelve
parcels hits an exception (address problem, weather delay) before moving on. ``speed`` compresses
time for the demo (speed=3600 turns an hour into a second).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from commerce_core.clock import Clock


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
    name = "simulated"

    def __init__(self, clock: Clock, *, speed: float = 1.0, seed: int = 7) -> None:
        self._clock = clock
        self._speed = speed
        self._seed = seed
        self._plans: dict[str, tuple[datetime, list[tuple[float, str, str | None]]]] = {}
        self._counter = 0

    async def create_shipment(self, order_number: str, origin: str, destination: str) -> CarrierShipment:
        rng = random.Random(f"{self._seed}:{order_number}")
        self._counter += 1
        tracking = "SX" + "".join(str(rng.randrange(10)) for _ in range(10)) + f"{self._counter % 100:02d}"
        start = self._clock.now()
        plan = self._plan(rng, origin, destination)
        self._plans[tracking] = (start, plan)
        eta_hours = plan[-1][0]
        return CarrierShipment(
            tracking, origin, destination, start + timedelta(hours=eta_hours / self._speed)
        )

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

    async def events(self, tracking_number: str) -> list[CarrierEvent]:
        if tracking_number not in self._plans:
            return []
        start, plan = self._plans[tracking_number]
        now = self._clock.now()
        result = []
        for n, (hours, status, location) in enumerate(plan):
            at = start + timedelta(hours=hours / self._speed)
            if at > now:
                break
            text = {lang: t.format(loc=location or "") for lang, t in _TEXT[status].items()}
            result.append(CarrierEvent(f"{tracking_number}-{n}", status, location, text, at))
        return result
