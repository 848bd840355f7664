"""A local fake of Alipay's open platform gateway (never the internet), with RSA keys made per test run.

It plays Alipay's side with the same SDK the provider uses, keys swapped: it checks our requests with
our app's public key and signs its answers and notifications with "Alipay's" private key.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from alipay import AliPay
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.payments.settings import AlipaySettings

APP_ID = "2021000000000001"


def rsa_pair() -> tuple[str, str]:
    """(private PEM, public PEM), 2048-bit, generated here and never stored."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class FakeAlipay:
    def __init__(self) -> None:
        app_private, app_public = rsa_pair()
        alipay_private, alipay_public = rsa_pair()
        self.settings = AlipaySettings(
            app_id=APP_ID, private_key=app_private, public_key=alipay_public, gateway="https://alipay.test/gw"
        )
        self._side = AliPay(
            appid=APP_ID,
            app_private_key_string=alipay_private,
            alipay_public_key_string=app_public,
            sign_type="RSA2",
        )
        self.trades: dict[str, str] = {}  # out_trade_no -> total_amount (yuan)
        self.status: dict[str, str] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = dict(parse_qsl(request.url.query.decode()))
        signature = params.pop("sign")
        assert params["sign_type"] == "RSA2"
        signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()))  # requests sign sign_type too
        assert self._side._verify(signed, signature), "request not signed by the app's key"
        method = params["method"]
        biz = json.loads(params["biz_content"])
        self.calls.append((method, biz))
        if method == "alipay.trade.precreate":
            self.trades[biz["out_trade_no"]] = biz["total_amount"]
            answer = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": biz["out_trade_no"],
                "qr_code": "https://qr.alipay.com/bax" + secrets.token_hex(8),
            }
        elif method == "alipay.trade.query":
            answer = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": biz["out_trade_no"],
                "trade_status": self.status.get(biz["out_trade_no"], "WAIT_BUYER_PAY"),
                "total_amount": self.trades[biz["out_trade_no"]],
            }
        elif method == "alipay.trade.refund":
            answer = {"code": "10000", "msg": "Success", "trade_no": "2026" + secrets.token_hex(6)}
        else:
            return httpx.Response(404)
        return self.answer(method, answer)

    def answer(self, method: str, content: dict[str, Any], *, sign: bool = True) -> httpx.Response:
        inner = json.dumps(content, separators=(",", ":"), ensure_ascii=False)
        signature = self._side._sign(inner if sign else inner + " ")  # a real signature of other bytes
        name = method.replace(".", "_") + "_response"
        return httpx.Response(200, text=f'{{"{name}":{inner},"sign":"{signature}"}}')

    def notification(
        self, reference: str, *, amount: str | None = None, status: str = "TRADE_SUCCESS", **extra: str
    ) -> bytes:
        """The form Alipay POSTs to the notify URL, signed with Alipay's key (``extra`` overrides)."""
        self.status[reference] = status
        fields = {
            "app_id": APP_ID,
            "notify_id": "n" + secrets.token_hex(10),
            "notify_time": "2026-12-03 09:00:00",
            "notify_type": "trade_status_sync",
            "out_trade_no": reference,
            "trade_no": "2026" + reference[-10:],
            "trade_status": status,
            "total_amount": amount or self.trades[reference],
            "charset": "utf-8",
            "version": "1.0",
            **extra,
        }
        signed = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        return urlencode({**fields, "sign_type": "RSA2", "sign": self._side._sign(signed)}).encode()
