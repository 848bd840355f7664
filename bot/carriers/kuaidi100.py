"""Kuaidi100 (快递100): the tracking aggregator for Chinese express companies, as a waybill carrier.

Three parts of its API, each with its own signature:

- **subscribe** (``POST {api}/poll``, ``schema=json&param=...``): ``param`` is JSON with the express
  company's code, the waybill number, our key and ``parameters`` (our callback URL, the salt it signs
  pushes with, ``resultv2=1`` for per-scan status codes). Answer ``{"result": true, "returnCode":
  "200"}``; ``501`` means the waybill is already subscribed, which is fine for us.
- **push** (Kuaidi100 posts to our callback): form fields ``param`` (JSON whose ``lastResult`` has
  ``nu``, ``com``, ``state`` and ``data`` [{time, context, areaName, statusCode}], newest first) and
  ``sign`` = MD5(param + salt), upper-case hex. A forged or unsigned push is refused with 403 and
  changes nothing; duplicates are harmless (events are keyed by their time and text).
- **abort** (a push with ``status: abort``): Kuaidi100 gave up on the waybill; handled by
  ``commerce_core.shipments.stops`` (take over a corrected company code, else subscribe once more
  with ``autoCom`` half an hour later, else tell the merchant and staff).
- **query** (``POST {api}/poll/query.do``): ``customer``, ``param`` (JSON with ``com`` and ``num``) and
  ``sign`` = MD5(param + key + customer), upper-case hex: the fallback for waybills with no push.

Kuaidi100's state codes map onto our shipment statuses in :data:`STATES`; its scan texts are Chinese
(the express company's words), shown as they are, with our status name in front for English readers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
from aiohttp import web

from bot.carriers.settings import Kuaidi100Settings
from commerce_core.api import CarrierEvent, DomainError, ShipmentStatus

log = logging.getLogger(__name__)

NAME = "kuaidi100"
#: Kuaidi100's main state codes -> our shipment statuses (returns and refusals are exceptions for us)
STATES: Mapping[int, ShipmentStatus] = {
    0: ShipmentStatus.IN_TRANSIT,  # 在途
    1: ShipmentStatus.PICKED_UP,  # 揽收
    2: ShipmentStatus.EXCEPTION,  # 疑难
    3: ShipmentStatus.DELIVERED,  # 签收
    4: ShipmentStatus.EXCEPTION,  # 退签
    5: ShipmentStatus.OUT_FOR_DELIVERY,  # 派件
    6: ShipmentStatus.EXCEPTION,  # 退回
    7: ShipmentStatus.IN_TRANSIT,  # 转投
    8: ShipmentStatus.IN_TRANSIT,  # 清关
    10: ShipmentStatus.IN_TRANSIT,  # 待清关
    11: ShipmentStatus.IN_TRANSIT,  # 清关中
    12: ShipmentStatus.IN_TRANSIT,  # 已清关
    13: ShipmentStatus.EXCEPTION,  # 清关异常
    14: ShipmentStatus.EXCEPTION,  # 拒签
}
_EN = {
    ShipmentStatus.PICKED_UP: "Picked up",
    ShipmentStatus.IN_TRANSIT: "In transit",
    ShipmentStatus.OUT_FOR_DELIVERY: "Out for delivery",
    ShipmentStatus.DELIVERED: "Delivered",
    ShipmentStatus.EXCEPTION: "Problem",
}
#: the push status of a waybill Kuaidi100 stopped tracking (see commerce_core.shipments.stops)
ABORT = "abort"
#: Kuaidi100 reports scan times in China Standard Time
_CST = timezone(timedelta(hours=8))


class Kuaidi100Error(RuntimeError):
    """Kuaidi100 refused a request or could not be reached."""


class PushRefused(ValueError):
    """A push whose signature does not match, or whose body is not Kuaidi100's."""


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()  # noqa: S324 - Kuaidi100's scheme


def status_of(code: object) -> ShipmentStatus | None:
    """Our status for a Kuaidi100 state: a main code (0-14) or a resultv2 sub-state (101, 1001, 501)."""
    try:
        value = int(str(code))
    except ValueError:
        return None
    if 1000 <= value < 1100:  # 在途 sub-states (1001 到达派件城市, ...)
        value = 0
    elif value >= 100:
        value //= 100
    return STATES.get(value, ShipmentStatus.IN_TRANSIT if value >= 0 else None)


def events_of(result: Mapping[str, Any]) -> list[CarrierEvent]:
    """Our events from a query answer or a push's ``lastResult``: every scan, oldest first.

    The newest scan takes the waybill's overall state; older ones their own ``statusCode`` (resultv2),
    else "in transit". An event's id is its time and text, so a repeated push adds nothing."""
    scans = [scan for scan in result.get("data") or [] if isinstance(scan, dict)]
    overall = status_of(result.get("state")) or ShipmentStatus.IN_TRANSIT
    events = []
    for n, scan in enumerate(scans):
        when, context = str(scan.get("ftime") or scan.get("time") or ""), str(scan.get("context") or "")
        try:
            at = datetime.strptime(when, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_CST).astimezone(UTC)
        except ValueError:
            continue  # a scan without a readable time cannot be placed on the parcel's timeline
        own = status_of(scan.get("statusCode")) if scan.get("statusCode") not in (None, "") else None
        status = overall if n == 0 else (own or ShipmentStatus.IN_TRANSIT)
        key = hashlib.sha256(f"{when}|{context}".encode()).hexdigest()[:32]
        area = str(scan.get("areaName") or "")[:64] or None
        text = context[:500]
        description = {"zh-Hans": text, "zh-Hant": text, "en": f"{_EN.get(status, 'Update')}: {text}"}
        events.append(CarrierEvent(f"k100:{key}", status.value, area, description, at))
    return sorted(events, key=lambda e: e.occurred_at)


@dataclass(frozen=True, slots=True)
class Push:
    tracking_number: str
    company: str
    events: list[CarrierEvent]
    #: Kuaidi100's watch on the waybill: polling, shutdown (delivered), abort (gave up), updateall
    status: str = "polling"
    #: why it gave up ("3天查询无记录", "60天无变化")
    message: str = ""
    #: the express company's code Kuaidi100 corrected ours to (with an abort), else ""
    corrected_company: str = ""


def read_push(salt: str, form: Mapping[str, str]) -> Push:
    """A verified push: the signature checked against our salt before anything in it is believed."""
    param, sign = form.get("param", ""), form.get("sign", "")
    if not param or not hmac.compare_digest(md5_upper(param + salt), sign.strip().upper()):
        raise PushRefused("signature does not match")
    try:
        body = json.loads(param)
        result = body["lastResult"]
        number, company = str(result["nu"]), str(result.get("com") or "")
        status, message = str(body.get("status") or "polling"), str(body.get("message") or "")
        corrected = str(body.get("comNew") or "") if status == ABORT else ""
    except (ValueError, KeyError, TypeError, AttributeError):
        raise PushRefused("not a Kuaidi100 push") from None
    return Push(number, company, events_of(result), status, message[:200], corrected[:32])


class Kuaidi100Carrier:
    """Kuaidi100's subscribe and query, as the core's ``WaybillCarrier``."""

    name = NAME

    def __init__(self, settings: Kuaidi100Settings, public_base_url: str) -> None:
        self._settings = settings
        base = settings.callback_base_url or public_base_url
        self.callback_url = base.rstrip("/") + settings.callback_path

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        url = self._settings.api_base_url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_seconds)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url, data=form) as response:
                text = await response.text()
                if response.status >= 400:
                    raise Kuaidi100Error(f"{path} answered HTTP {response.status}")
        except (aiohttp.ClientError, TimeoutError) as failed:
            raise Kuaidi100Error(f"{path} unreachable: {failed}") from failed
        try:
            answer = json.loads(text)
        except ValueError:
            raise Kuaidi100Error(f"{path} answered something that is not JSON") from None
        if not isinstance(answer, dict):
            raise Kuaidi100Error(f"{path} answered something that is not an object")
        return answer

    async def subscribe(self, company: str, tracking_number: str, *, guess_company: bool = False) -> None:
        settings = self._settings
        parameters = {"callbackurl": self.callback_url, "salt": settings.salt, "resultv2": "1"}
        if guess_company:  # autoCom: Kuaidi100 works out the express company from the number too
            parameters["autoCom"] = "1"
        param = {"company": company, "number": tracking_number, "key": settings.key, "parameters": parameters}
        answer = await self._post("/poll", {"schema": "json", "param": _compact(param)})
        if not answer.get("result") and str(answer.get("returnCode")) != "501":  # 501: already subscribed
            raise Kuaidi100Error(f"subscription refused: {answer.get('returnCode')} {answer.get('message')}")

    async def query(self, company: str, tracking_number: str) -> list[CarrierEvent]:
        settings = self._settings
        param = _compact({"com": company, "num": tracking_number, "resultv2": "1"})
        sign = md5_upper(param + settings.key + settings.customer)
        answer = await self._post(
            "/poll/query.do", {"customer": settings.customer, "param": param, "sign": sign}
        )
        if str(answer.get("status")) != "200":  # e.g. {"result": false, "returnCode": "500"}: no scans yet
            return []
        return events_of(answer)


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _answer(ok: bool, code: int, message: str) -> web.Response:
    body = {"result": ok, "returnCode": str(code), "message": message}
    return web.json_response(body, status=code)


class Kuaidi100Callback:
    """The push route: verify, apply (idempotently), answer as Kuaidi100 expects."""

    def __init__(self, settings: Kuaidi100Settings, shipments: Any) -> None:
        self._settings = settings
        self._shipments = shipments  # commerce.shipments: apply_events(number, events, tracked=True)

    def install(self, app: web.Application) -> None:
        app.router.add_post(self._settings.callback_path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        try:
            form = {key: str(value) for key, value in (await request.post()).items()}
        except ValueError:
            return _answer(False, 400, "malformed form")
        try:
            push = read_push(self._settings.salt, form)
        except PushRefused as refused:
            log.warning("Kuaidi100 push refused: %s", refused)
            return _answer(False, 403, str(refused))
        try:
            await self._shipments.apply_events(push.tracking_number, push.events, tracked=True)
            if push.status == ABORT:  # Kuaidi100 gave up on it: subscribe once more, or raise it
                await self._shipments.stops.stopped(
                    push.tracking_number, reason=push.message, corrected_company=push.corrected_company
                )
        except DomainError as unknown:  # not our waybill (or no longer): nothing to change
            return _answer(False, 404, unknown.code or "unknown waybill")
        return _answer(True, 200, "成功")
