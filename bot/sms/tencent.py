"""Tencent Cloud SMS (``SendSms``, API 2021-01-11) with TC3-HMAC-SHA256 signed requests.

Why a template: mainland carriers deliver only pre-approved templates under an approved signature, so
the provider sends the template ``SHOPBOT_SMS_TEMPLATE_ID`` with the code (and the minutes it lasts)
as parameters, not our rendered text. Errors raise :class:`SmsFailed` with Tencent's code, so the
caller can tell the shopper the code was not sent instead of waiting for it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Literal

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from commerce_core.api import SandboxSms

SERVICE = "sms"
VERSION = "2021-01-11"


class SmsSettings(BaseSettings):
    """``SHOPBOT_SMS_*``: which provider sends verification codes, and its credentials."""

    model_config = SettingsConfigDict(env_prefix="SHOPBOT_SMS_", extra="ignore")

    provider: Literal["sandbox", "tencent"] = "sandbox"
    secret_id: str = ""
    secret_key: str = ""
    sdk_app_id: str = ""
    sign_name: str = ""
    template_id: str = ""
    region: str = "ap-guangzhou"
    endpoint: str = "https://sms.tencentcloudapi.com"
    #: minutes a code lasts, the template's second parameter
    code_minutes: int = 5


class SmsFailed(RuntimeError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def tc3_authorization(secret_id: str, secret_key: str, host: str, payload: bytes, timestamp: int) -> str:
    """The ``Authorization`` header of Tencent Cloud API v3 (TC3-HMAC-SHA256) for a JSON POST to ``/``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = (
        f"POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:{host}\n\ncontent-type;host\n"
        + hashlib.sha256(payload).hexdigest()
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signing = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, "
        f"Signature={signature}"
    )


class TencentSms:
    """Sends the verification template through Tencent Cloud SMS."""

    def __init__(self, settings: SmsSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport  # tests hand in a local fake (httpx.MockTransport)

    async def send(self, phone: str, text: str, *, code: str = "") -> None:
        s = self.settings
        payload = json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": s.sdk_app_id,
                "SignName": s.sign_name,
                "TemplateId": s.template_id,
                "TemplateParamSet": [code, str(s.code_minutes)],
            }
        ).encode()
        host = httpx.URL(s.endpoint).host
        timestamp = int(time.time())
        headers = {
            "Authorization": tc3_authorization(s.secret_id, s.secret_key, host, payload, timestamp),
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": s.region,
        }
        # a client per code: codes are rare, and nothing is left open when the process stops
        async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as http:
            response = await http.post(s.endpoint, content=payload, headers=headers)
        try:
            answer = response.json().get("Response", {})
        except ValueError:
            raise SmsFailed(f"http_{response.status_code}", "not JSON") from None
        if "Error" in answer:
            raise SmsFailed(str(answer["Error"].get("Code")), str(answer["Error"].get("Message")))
        statuses = answer.get("SendStatusSet") or [{}]
        if statuses[0].get("Code") != "Ok":
            raise SmsFailed(str(statuses[0].get("Code")), str(statuses[0].get("Message")))


def sms_sender(settings: SmsSettings, sandbox: SandboxSms) -> SandboxSms | TencentSms:
    """The configured provider; the sandbox (which the demo shows) unless Tencent is chosen."""
    return TencentSms(settings) if settings.provider == "tencent" else sandbox


def sms_setting_errors(settings: SmsSettings) -> list[str]:
    """With Tencent chosen, every credential must be given (reported with the other settings)."""
    if settings.provider != "tencent":
        return []
    fields = ("secret_id", "secret_key", "sdk_app_id", "sign_name", "template_id")
    missing = [f"SHOPBOT_SMS_{name.upper()}" for name in fields if not getattr(settings, name)]
    return [f"Tencent Cloud SMS needs {', '.join(missing)}"] if missing else []
