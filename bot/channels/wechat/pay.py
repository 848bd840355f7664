"""WeChat Pay (API v2, HMAC-SHA256 signatures) as a :class:`PaymentProvider`.

- ``create_payment``: ``/pay/unifiedorder`` with ``trade_type`` NATIVE (a QR code URL to scan) or
  JSAPI (inside WeChat; needs the payer's openid, looked up from the order).
- ``verify_notification``: the XML WeChat POSTs to the notify URL, parsed without DTDs/entities, its
  ``sign`` checked in constant time, app and merchant ids checked; the amount is checked against the
  payment by :meth:`PaymentService.apply`, which applies it idempotently under a row lock.
- ``query`` / :meth:`query_notification`: ``/pay/orderquery`` when no notification arrived in time.
- ``refund``: ``/secapi/pay/refund`` (needs the merchant's client certificate in production).

Our payment id is the ``out_trade_no`` and also our ``provider_ref`` (WeChat's own transaction id is
only known after payment), so query and refund work from it alone.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import redis.asyncio as aioredis
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

from bot.channels.wechat.security import Rejected, parse_xml
from bot.channels.wechat.settings import WeChatSettings
from commerce_core.api import (
    NotAllowed,
    Notification,
    NotificationKind,
    PaymentIntentRequest,
    PaymentRejected,
    ProviderPayment,
    ProviderRefund,
    parse_amount,
)

SUCCESS_XML = (
    "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
)
PENDING_KEY = "shopbot:wechatpay:pending"
FAILED_STATES = frozenset({"CLOSED", "REVOKED", "PAYERROR"})


def fail_xml(message: str) -> str:
    safe = "".join(c for c in message if c.isalnum() or c in " _-.")[:64]
    return (
        f"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[{safe}]]></return_msg></xml>"
    )


def sign(params: Mapping[str, Any], key: str, sign_type: str = "HMAC-SHA256") -> str:
    """WeChat Pay v2: ``k=v`` pairs sorted by key (empty values and ``sign`` left out) + ``&key=``."""
    data = {k: v for k, v in params.items() if k != "sign"}
    if sign_type.upper() == "MD5":
        return str(calculate_signature(data, key))
    return str(calculate_signature_hmac(data, key))


def signature_ok(params: Mapping[str, Any], key: str, sign_type: str = "HMAC-SHA256") -> bool:
    """Whether ``params`` are signed with ``key`` by the CONFIGURED ``sign_type``.

    A ``sign_type`` in the message must name the configured one, and the signature is always checked
    the configured way: trusting the message's choice let a sender pick MD5 while HMAC-SHA256 is
    configured (issue 11, finding 12). WeChat leaves ``sign_type`` out of some answers, so absence is
    not an error; an MD5 signature then simply does not match the HMAC.
    """
    given = str(params.get("sign") or "")
    claimed = str(params.get("sign_type") or "").upper()
    if claimed and claimed != sign_type.upper():
        return False
    expected = sign(params, key, sign_type)
    return bool(given) and hmac.compare_digest(expected.encode(), given.upper().encode())


class WeChatPayProvider:
    def __init__(
        self,
        settings: WeChatSettings,
        http: httpx.AsyncClient,
        redis: aioredis.Redis,
        *,
        payer: Callable[[str], Awaitable[str | None]] | None = None,
        secure_http: httpx.AsyncClient | None = None,
        now: Callable[[], float] = time.time,
        name: str = "wechatpay",
        trade_type: str | None = None,
        notify_path: str | None = None,
    ) -> None:
        """``name``, ``trade_type`` and ``notify_path`` let a second instance (the web chat's NATIVE QR
        payments, ``wechatpay_native``) run beside the WeChat channel's JSAPI one on the same merchant."""
        self.name = name
        self._trade_type = trade_type or settings.pay_trade_type
        self._notify_path = notify_path or settings.pay_notify_path
        self._pending_key = f"shopbot:{name}:pending"  # shopbot:wechatpay:pending for the channel's
        self._s = settings
        self._http = http
        self._secure = secure_http or http
        self._redis = redis
        self._payer = payer
        self._now = now
        self._base = settings.pay_base.rstrip("/")

    # -- signing and transport ---------------------------------------------------------------------
    def signed(self, params: dict[str, Any]) -> str:
        params = {
            **params,
            "appid": self._s.app_id,
            "mch_id": self._s.pay_mch_id,
            "nonce_str": secrets.token_hex(16),
            "sign_type": self._s.pay_sign_type,
        }
        return str(dict_to_xml(params, sign(params, self._s.pay_api_key, self._s.pay_sign_type)))

    async def _post(self, path: str, params: dict[str, Any], *, secure: bool = False) -> dict[str, Any]:
        client = self._secure if secure else self._http
        response = await client.post(f"{self._base}{path}", content=self.signed(params).encode())
        response.raise_for_status()
        data = parse_xml(response.content)
        if data.get("return_code") != "SUCCESS":
            raise PaymentRejected(f"WeChat Pay: {data.get('return_msg')}", code="provider_error")
        if not signature_ok(data, self._s.pay_api_key, self._s.pay_sign_type):
            raise PaymentRejected("WeChat Pay answer with a bad signature", code="bad_signature")
        return data

    # -- PaymentProvider ---------------------------------------------------------------------------
    async def create_payment(self, request: PaymentIntentRequest) -> ProviderPayment:
        if request.currency != "CNY":
            raise NotAllowed("WeChat Pay takes CNY only", code="currency_not_supported")
        params: dict[str, Any] = {
            "body": request.description[:120],
            "out_trade_no": request.reference,
            "total_fee": request.amount,
            "fee_type": "CNY",
            "spbill_create_ip": "127.0.0.1",
            "notify_url": self._s.public_base_url.rstrip("/") + self._notify_path,
            "trade_type": self._trade_type,
            "product_id": request.order_number,
        }
        openid = await self._payer(request.order_number) if self._payer else None
        if self._trade_type == "JSAPI":
            if not openid:
                raise NotAllowed("JSAPI payments need the payer's WeChat account", code="payer_unknown")
            params["openid"] = openid
        data = await self._post("/pay/unifiedorder", params)
        if data.get("result_code") != "SUCCESS":
            raise PaymentRejected(f"WeChat Pay: {data.get('err_code_des')}", code="provider_error")
        await self._redis.zadd(self._pending_key, {request.reference.encode(): self._now()})
        prepay = str(data.get("prepay_id") or "")
        if self._trade_type == "JSAPI":
            url = f"{self._s.public_base_url.rstrip('/')}/wechat/pay/{request.reference}"
            await self._redis.set(f"shopbot:wechatpay:prepay:{request.reference}", prepay.encode(), ex=7200)
            return ProviderPayment(request.reference, url, client_token=prepay)
        return ProviderPayment(request.reference, str(data.get("code_url") or ""), client_token=prepay)

    def jsapi_parameters(self, prepay_id: str) -> dict[str, str]:
        """What the pay page hands to ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)``."""
        params = {
            "appId": self._s.app_id,
            "timeStamp": str(int(self._now())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": self._s.pay_sign_type,
        }
        return {**params, "paySign": sign(params, self._s.pay_api_key, self._s.pay_sign_type)}

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        try:
            data = parse_xml(body)
        except Rejected as exc:
            raise PaymentRejected("unreadable notification", code="malformed_notification") from exc
        if not signature_ok(data, self._s.pay_api_key, self._s.pay_sign_type):
            raise PaymentRejected("signature does not match", code="bad_signature")
        if data.get("appid") != self._s.app_id or data.get("mch_id") != self._s.pay_mch_id:
            raise PaymentRejected("notification for another merchant", code="bad_signature")
        return self._notification(data)

    @staticmethod
    def _notification(data: Mapping[str, Any]) -> Notification:
        try:
            if data.get("return_code") != "SUCCESS":
                raise ValueError("return_code")
            state = str(data.get("trade_state") or data.get("result_code"))
            kind: NotificationKind = "succeeded" if state == "SUCCESS" else "failed"
            reference = str(data["out_trade_no"])
            transaction = str(data.get("transaction_id") or "")
            return Notification(
                transaction or f"{reference}:{state}",
                kind,
                reference,
                transaction or reference,
                parse_amount(data["total_fee"]),
                str(data.get("fee_type") or "CNY"),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PaymentRejected("malformed notification", code="malformed_notification") from exc

    async def query_notification(self, reference: str) -> Notification | None:
        """The order's outcome as a notification, or None while it is still unpaid."""
        data = await self._post("/pay/orderquery", {"out_trade_no": reference})
        state = str(data.get("trade_state") or "")
        if data.get("result_code") != "SUCCESS" or (state != "SUCCESS" and state not in FAILED_STATES):
            return None
        return self._notification(data)

    async def query(self, provider_ref: str) -> NotificationKind | None:
        found = await self.query_notification(provider_ref)
        return found.kind if found else None

    async def refund(
        self, provider_ref: str, amount: int, currency: str, refund_reference: str
    ) -> ProviderRefund:
        try:
            order = await self._post("/pay/orderquery", {"out_trade_no": provider_ref})
            data = await self._post(
                "/secapi/pay/refund",
                {
                    "out_trade_no": provider_ref,
                    "out_refund_no": refund_reference,
                    "total_fee": int(order["total_fee"]),
                    "refund_fee": amount,
                    "refund_fee_type": currency,
                },
                secure=True,
            )
        except (PaymentRejected, httpx.HTTPError, KeyError, ValueError) as exc:
            return ProviderRefund("", succeeded=False, error=str(exc)[:200])
        if data.get("result_code") != "SUCCESS":
            return ProviderRefund("", succeeded=False, error=str(data.get("err_code_des") or "refused"))
        return ProviderRefund(str(data.get("refund_id") or refund_reference), succeeded=True)

    async def due_for_query(self, older_than: float) -> list[str]:
        """Payments we created that have waited ``older_than`` seconds without a notification."""
        due = self._now() - older_than
        rows = await self._redis.zrangebyscore(self._pending_key, 0, due, start=0, num=100)
        return [bytes(r).decode() for r in rows]

    async def settled(self, reference: str) -> None:
        await self._redis.zrem(self._pending_key, reference.encode())
