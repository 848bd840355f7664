"""Tencent Cloud SMS against a local fake (httpx.MockTransport) that checks the TC3-HMAC-SHA256
signature the way Tencent documents it; errors become SmsFailed; the verifier sends through it."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

import fakeredis
import httpx
import pytest

from bot.settings import Settings
from bot.settings_checks import production_secret_errors
from bot.sms.tencent import SmsFailed, SmsSettings, TencentSms, sms_sender
from commerce_core.api import Commerce, PhoneVerifier, SandboxSms

SETTINGS = SmsSettings(
    provider="tencent",
    secret_id="AKIDtest",
    secret_key="k" * 32,
    sdk_app_id="1400000001",
    sign_name="Shopbot",
    template_id="123456",
)


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class FakeTencent:
    """Checks each request as Tencent's gateway would, then answers ``Ok`` or a queued error."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.error: dict[str, str] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        timestamp = int(request.headers["X-TC-Timestamp"])
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        hashed_payload = hashlib.sha256(request.content).hexdigest()
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{request.headers['Content-Type']}\nhost:{request.url.host}\n",
                "content-type;host",
                hashed_payload,
            ]
        )
        scope = f"{date}/sms/tc3_request"
        string_to_sign = "\n".join(
            ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = _sign(_sign(_sign(("TC3" + SETTINGS.secret_key).encode(), date), "sms"), "tc3_request")
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        expected = (
            f"TC3-HMAC-SHA256 Credential={SETTINGS.secret_id}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        )
        if request.headers["Authorization"] != expected or request.headers["X-TC-Action"] != "SendSms":
            return httpx.Response(200, json={"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}})
        if self.error:
            return httpx.Response(200, json={"Response": {"Error": self.error, "RequestId": "r"}})
        self.sent.append(json.loads(request.content))
        status = {"Code": "Ok", "Message": "send success", "PhoneNumber": "+8613812345678"}
        return httpx.Response(200, json={"Response": {"SendStatusSet": [status], "RequestId": "r"}})


async def test_a_signed_request_sends_the_template_with_the_code() -> None:
    fake = FakeTencent()
    await TencentSms(SETTINGS, httpx.MockTransport(fake)).send("+8613812345678", "code 123456", code="123456")
    assert fake.sent == [
        {
            "PhoneNumberSet": ["+8613812345678"],
            "SmsSdkAppId": "1400000001",
            "SignName": "Shopbot",
            "TemplateId": "123456",
            "TemplateParamSet": ["123456", "5"],
        }
    ]


async def test_a_wrong_key_or_a_provider_error_raises() -> None:
    fake = FakeTencent()
    wrong = SETTINGS.model_copy(update={"secret_key": "x" * 32})
    with pytest.raises(SmsFailed) as failed:
        await TencentSms(wrong, httpx.MockTransport(fake)).send("+8613812345678", "t", code="1")
    assert failed.value.code == "AuthFailure.SignatureFailure"
    fake.error = {"Code": "LimitExceeded.PhoneNumberDailyLimit", "Message": "daily limit"}
    with pytest.raises(SmsFailed, match="PhoneNumberDailyLimit"):
        await TencentSms(SETTINGS, httpx.MockTransport(fake)).send("+8613812345678", "t", code="1")
    assert fake.sent == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_verifier_sends_codes_through_tencent(commerce: Commerce) -> None:
    fake = FakeTencent()
    store: Any = fakeredis.FakeAsyncRedis()
    sender = TencentSms(SETTINGS, httpx.MockTransport(fake))
    verifier = PhoneVerifier(store, sender, commerce.customers, secret="s")
    customer = await commerce.customers.identify("web", "tencent-user")
    await verifier.start(customer.id, "13812345678", "code {code}")
    code = fake.sent[0]["TemplateParamSet"][0]
    assert len(code) == 6 and (await verifier.confirm(customer.id, code)).phone_verified


def test_the_provider_is_chosen_by_settings_and_needs_its_credentials() -> None:
    sandbox = SandboxSms()
    assert sms_sender(SmsSettings(), sandbox) is sandbox
    assert isinstance(sms_sender(SETTINGS, sandbox), TencentSms)
    incomplete = Settings(
        sms=SmsSettings(provider="tencent", secret_id="AKID"), public_base_url="https://x.example"
    )
    errors = production_secret_errors(incomplete)
    assert any("SHOPBOT_SMS_SECRET_KEY" in e and "SHOPBOT_SMS_TEMPLATE_ID" in e for e in errors)
