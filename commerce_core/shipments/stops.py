"""A waybill service that stops tracking a waybill (Kuaidi100's push ``status: abort``).

Kuaidi100 gives up on a waybill it could not follow: no scan within 3 days of the subscription ("3天
查询无记录"), or none new for 60 days ("60天无变化"). It then checks the express company's code: if
ours was wrong it subscribes the right one itself and says so in the abort (``comNew``), and the
parcel carries on under that code. Otherwise the waybill is no longer watched, and the query fallback
alone would keep asking about it forever. Kuaidi100 accepts a new subscription for it half an hour
after the abort (earlier is refused as a duplicate). So:

- a corrected company code is taken over, and that is all (Kuaidi100 tracks it already);
- the first stop schedules one new subscription (with Kuaidi100 guessing the company as well) for
  half an hour later, made by the periodic job (:meth:`WaybillStops.resubscribe_due`);
- a stop after that is a tracking problem for people: the merchant who shipped it and staff are told
  once (:class:`~commerce_core.events.WaybillTrackingStopped`), and nothing is subscribed again.

A repeated abort push (Kuaidi100 repeats pushes it is unsure we got) while the new subscription
still waits counts once. (A repeat arriving after the half hour would count as the second stop: the
pushes carry no time of their own to tell a late repeat from a new stop.)
"""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from commerce_core.errors import NotFound
from commerce_core.events import WaybillTrackingStopped
from commerce_core.orders.model import Order
from commerce_core.shipments.carrier import WaybillCarrier
from commerce_core.shipments.model import Shipment
from commerce_core.shipments.types import ShipmentStatus
from commerce_core.uow import Units

log = logging.getLogger(__name__)
#: Kuaidi100 refuses a new subscription of an aborted waybill for half an hour
RESUBSCRIBE_AFTER = timedelta(minutes=30)
#: stops after which people are told instead of subscribing again
STOPS_RAISED = 2


class StopOutcome(StrEnum):
    CORRECTED = "corrected"  # the service fixed the company code and tracks on
    RESUBSCRIBE = "resubscribe"  # subscribed once more, half an hour from now
    RAISED = "raised"  # the merchant and staff are told
    IGNORED = "ignored"  # delivered already, a repeated push, or raised before


class WaybillStops:
    """``commerce.shipments.stops``."""

    def __init__(self, units: Units, waybills: dict[str, WaybillCarrier]) -> None:
        self._units = units
        self._waybills = waybills

    async def stopped(
        self, tracking_number: str, *, reason: str, corrected_company: str | None = None
    ) -> StopOutcome:
        """The service stopped tracking ``tracking_number`` (``reason``: its own words)."""
        async with self._units.orm() as uow:
            shipment = await uow.session.scalar(
                select(Shipment)
                .where(
                    Shipment.tracking_number == tracking_number,
                    Shipment.carrier.in_(list(self._waybills)),
                )
                .with_for_update()
            )
            if shipment is None:
                raise NotFound("no such shipment", code="shipment_not_found")
            carrier, company = shipment.carrier, (corrected_company or "").strip().lower()[:32]
            if shipment.status == ShipmentStatus.DELIVERED.value:
                outcome = StopOutcome.IGNORED
            elif company and company != shipment.carrier_company:
                shipment.carrier_company, outcome = company, StopOutcome.CORRECTED
            elif shipment.resubscribe_at is not None or shipment.tracking_stops >= STOPS_RAISED:
                outcome = StopOutcome.IGNORED
            else:
                shipment.tracking_stops += 1
                if shipment.tracking_stops < STOPS_RAISED:
                    shipment.resubscribe_at = uow.now() + RESUBSCRIBE_AFTER
                    outcome = StopOutcome.RESUBSCRIBE
                else:
                    order_number = await uow.session.scalar(
                        select(Order.number).where(Order.id == shipment.order_id)
                    )
                    uow.emit(
                        WaybillTrackingStopped(
                            str(order_number),
                            shipment.tracking_number,
                            shipment.carrier,
                            shipment.carrier_company or "",
                            reason[:200],
                            shipment.merchant_id,
                        )
                    )
                    outcome = StopOutcome.RAISED
            await uow.commit()
        log.info("%s stopped tracking %s (%s): %s", carrier, tracking_number, reason, outcome)
        return outcome

    async def resubscribe_due(self, *, limit: int = 50) -> int:
        """Subscribe again the stopped waybills whose half hour has passed. Returns how many; one that
        fails (refused, unreachable) is tried again next round."""
        if not self._waybills:
            return 0
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(Shipment.id, Shipment.carrier, Shipment.carrier_company, Shipment.tracking_number)
                    .where(
                        Shipment.resubscribe_at.is_not(None),
                        Shipment.resubscribe_at <= uow.now(),
                        Shipment.status != ShipmentStatus.DELIVERED.value,
                        Shipment.carrier.in_(list(self._waybills)),
                    )
                    .order_by(Shipment.resubscribe_at)
                    .limit(limit)
                )
            ).all()
        done = 0
        for shipment_id, carrier, company, number in rows:
            try:
                await self._waybills[carrier].subscribe(str(company or ""), number, guess_company=True)
            except Exception:
                log.warning(
                    "subscribing %s waybill %s again failed; next round", carrier, number, exc_info=True
                )
                continue
            async with self._units.orm() as uow:
                shipment = await uow.session.get(Shipment, shipment_id)
                if shipment is not None:
                    shipment.resubscribe_at = None
                await uow.commit()
            done += 1
        return done
