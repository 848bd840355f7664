"""Alipay (open platform, RSA2) as a :class:`PaymentProvider`, on python-alipay-sdk.

The SDK builds and signs requests (RSA2 with our app's private key) and verifies Alipay's answers and
notifications with Alipay's public key; the transport is our async ``httpx`` client (the SDK's own is
blocking ``urlopen``), so tests run it against a local fake.

- ``create_payment``: ``alipay.trade.precreate`` gives a ``qr_code`` URL, which the web chat draws as a
  QR image for the Alipay app to scan.
- ``verify_notification``: the form Alipay POSTs to the notify URL; its ``sign`` is checked with
  Alipay's public key, ``sign_type`` must be RSA2, ``app_id`` must be ours, and the amount must be a
  whole number of fen as written (``259.00``; ``259.009`` is refused). :meth:`PaymentService.apply`
  checks it against the payment and applies it once per notification id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from alipay import AliPay
from alipay.exceptions import AliPayException, AliPayValidationError

from bot.payments.settings import ALIPAY, AlipaySettings
from commerce_core.api import (
    NotAllowed,
    Notification,
    NotificationKind,
    PaymentIntentRequest,
    PaymentRejected,
    ProviderPayment,
    ProviderRefund,
)

SUCCESS_BODY = "success"  # what Alipay expects back, or it retries
_YUAN = re.compile(r"(0|[1-9][0-9]{0,14})(?:\.([0-9]{1,2}))?")
_STATES: Mapping[str, NotificationKind] = {
    "TRADE_SUCCESS": "succeeded",
    "TRADE_FINISHED": "succeeded",
    "TRADE_CLOSED": "failed",
}


def yuan(amount: int) -> str:
    """Fen to Alipay's ``total_amount`` (yuan with two decimals), exactly."""
    return f"{amount // 100}.{amount % 100:02d}"


def fen(text: object) -> int:
    """Alipay's yuan string to fen, refusing anything that is not exact (no float on the way)."""
    match = _YUAN.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not an amount in yuan: {text!r}")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


class AlipayProvider:
    name = ALIPAY

    def __init__(self, settings: AlipaySettings, public_base_url: str, http: httpx.AsyncClient) -> None:
        self._s = settings
        self._http = http
        self._sdk = AliPay(
            appid=settings.app_id,
            app_notify_url=public_base_url.rstrip("/") + settings.notify_path,
            app_private_key_string=settings.private_key,
            alipay_public_key_string=settings.public_key,
            sign_type="RSA2",
        )

    async def _call(self, method: str, biz_content: dict[str, Any]) -> dict[str, Any]:
        """One signed gateway call; the answer's signature is checked before anything is read."""
        query = self._sdk.sign_data(self._sdk.build_body(method, biz_content))
        try:
            response = await self._http.get(f"{self._s.gateway}?{query}", timeout=self._s.timeout_seconds)
            response.raise_for_status()
            answer = self._sdk._verify_and_return_sync_response(
                response.text, method.replace(".", "_") + "_response"
            )
        except AliPayValidationError as exc:
            raise PaymentRejected("Alipay answer with a bad signature", code="bad_signature") from exc
        except (AliPayException, httpx.HTTPError, ValueError, KeyError) as exc:
            raise PaymentRejected("Alipay did not answer usefully", code="provider_error") from exc
        if not isinstance(answer, dict) or answer.get("code") != "10000":
            raise PaymentRejected("Alipay refused the request", code="provider_error")
        return answer

    async def create_payment(self, request: PaymentIntentRequest) -> ProviderPayment:
        if request.currency != "CNY":
            raise NotAllowed("Alipay takes CNY only", code="currency_not_supported")
        answer = await self._call(
            "alipay.trade.precreate",
            {
                "out_trade_no": request.reference,
                "total_amount": yuan(request.amount),
                "subject": request.description[:128],
                "notify_url": self._sdk._app_notify_url,
            },
        )
        code_url = str(answer.get("qr_code") or "")
        if answer.get("out_trade_no") != request.reference or not code_url.startswith("https://"):
            raise PaymentRejected("Alipay answered for another payment", code="provider_error")
        return ProviderPayment(request.reference, code_url)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        try:
            fields = dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PaymentRejected("unreadable notification", code="malformed_notification") from exc
        signature = fields.pop("sign", "")
        if fields.pop("sign_type", "RSA2") != "RSA2" or not signature:
            raise PaymentRejected("notification not signed with RSA2", code="bad_signature")
        try:
            verified = self._sdk.verify(dict(fields), signature)
        except (AliPayException, ValueError, TypeError) as exc:
            raise PaymentRejected("signature does not match", code="bad_signature") from exc
        if not verified:
            raise PaymentRejected("signature does not match", code="bad_signature")
        if fields.get("app_id") != self._s.app_id:
            raise PaymentRejected("notification for another app", code="bad_signature")
        return self._notification(fields)

    @staticmethod
    def _notification(fields: Mapping[str, Any]) -> Notification:
        try:
            kind = _STATES[str(fields["trade_status"])]
            reference = str(fields["out_trade_no"])
            trade_no = str(fields.get("trade_no") or reference)
            return Notification(
                str(fields.get("notify_id") or f"{trade_no}:{fields['trade_status']}"),
                kind,
                reference,
                trade_no,
                fen(fields["total_amount"]),
                "CNY",
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PaymentRejected("malformed notification", code="malformed_notification") from exc

    async def query(self, provider_ref: str) -> NotificationKind | None:
        answer = await self._call("alipay.trade.query", {"out_trade_no": provider_ref})
        return _STATES.get(str(answer.get("trade_status") or ""))

    async def refund(
        self, provider_ref: str, amount: int, currency: str, refund_reference: str
    ) -> ProviderRefund:
        try:
            answer = await self._call(
                "alipay.trade.refund",
                {
                    "out_trade_no": provider_ref,
                    "refund_amount": yuan(amount),
                    "out_request_no": refund_reference,
                },
            )
        except PaymentRejected as exc:
            return ProviderRefund("", succeeded=False, error=exc.code)
        return ProviderRefund(str(answer.get("trade_no") or refund_reference), succeeded=True)
