"""A sandbox payment provider that behaves like a real one, without money or network.

It hands out a pay URL; "paying" (the sandbox pay button, or a test) makes it send a notification
signed like Stripe's: header ``X-Sandbox-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." +
body)>``. Notifications older than the tolerance are refused, so a captured notification cannot be
replayed later; replays inside the window are harmless because capture is idempotent by event id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from commerce_core.clock import Clock
from commerce_core.errors import PaymentRejected
from commerce_core.payments.provider import (
    Notification,
    NotificationKind,
    PaymentIntentRequest,
    ProviderPayment,
    ProviderRefund,
    parse_amount,
)

SIGNATURE_HEADER = "x-sandbox-signature"
Deliver = Callable[[bytes, dict[str, str]], Awaitable[Any]]


class SandboxProvider:
    name = "sandbox"

    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        pay_base_url: str = "http://127.0.0.1:8080",
        tolerance_seconds: int = 300,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("the sandbox payment secret must be at least 16 characters")
        self._secret = secret.encode()
        self._clock = clock
        self._base = pay_base_url.rstrip("/")
        self._tolerance = tolerance_seconds
        self._outcomes: dict[str, NotificationKind] = {}
        # what the sandbox "server" knows of each payment it created, like a real provider does
        self.intents: dict[str, tuple[str, int, str]] = {}
        self.refunds: list[tuple[str, int, str]] = []

    async def create_payment(self, request: PaymentIntentRequest) -> ProviderPayment:
        provider_ref = "sbx_" + secrets.token_hex(12)
        self.intents[request.reference] = (provider_ref, request.amount, request.currency)
        return ProviderPayment(
            provider_ref,
            f"{self._base}/sandbox/pay/{request.reference}",
            client_token=secrets.token_urlsafe(16),
        )

    def sign(self, body: bytes, timestamp: int | None = None) -> str:
        ts = int(self._clock.now().timestamp()) if timestamp is None else timestamp
        digest = hmac.new(self._secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={ts},v1={digest}"

    def build_notification(
        self,
        *,
        reference: str,
        provider_ref: str,
        amount: int,
        currency: str,
        kind: NotificationKind = "succeeded",
        event_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """The exact bytes and headers the sandbox would POST to our notify endpoint."""
        body = json.dumps(
            {
                "event_id": event_id or "evt_" + secrets.token_hex(10),
                "type": f"payment.{kind}",
                "reference": reference,
                "provider_ref": provider_ref,
                "amount": amount,
                "currency": currency,
                "created": int(self._clock.now().timestamp()),
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        self._outcomes[provider_ref] = kind
        return body, {SIGNATURE_HEADER: self.sign(body), "content-type": "application/json"}

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        header = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            ts = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError) as exc:
            raise PaymentRejected("missing or malformed signature", code="bad_signature") from exc
        expected = hmac.new(self._secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise PaymentRejected("signature does not match", code="bad_signature")
        if abs(self._clock.now().timestamp() - ts) > self._tolerance:
            raise PaymentRejected("notification is too old", code="stale_notification")
        try:
            data = json.loads(body)
            kind = str(data["type"]).removeprefix("payment.")
            if kind not in ("succeeded", "failed"):
                raise ValueError(kind)
            return Notification(
                str(data["event_id"]),
                kind,  # type: ignore[arg-type]
                str(data["reference"]),
                str(data["provider_ref"]),
                parse_amount(data["amount"]),
                str(data["currency"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise PaymentRejected("malformed notification", code="malformed_notification") from exc

    async def refund(
        self, provider_ref: str, amount: int, currency: str, refund_reference: str
    ) -> ProviderRefund:
        self.refunds.append((provider_ref, amount, refund_reference))
        return ProviderRefund("sbx_rf_" + secrets.token_hex(8), succeeded=True)

    async def query(self, provider_ref: str) -> NotificationKind | None:
        return self._outcomes.get(provider_ref)
