"""Production refuses weak secrets: each check returns the problems it found as sentences that name
the setting, so ``load_settings`` can report them all at once.

Why these checks: a reviewer started production with an all-zero Fernet key, a one-character
blind-index key, the webhook secret ``a``, the blind-index key equal to the encryption key and an
``http://`` public URL, and all were accepted. A secret that is short, or whose characters repeat too
much to hold the entropy its length promises, is guessable; two settings sharing one secret means one
leak opens both doors.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import Counter
from typing import TYPE_CHECKING

from bot.sms.tencent import sms_setting_errors

if TYPE_CHECKING:
    from bot.settings import Settings

#: a random 32-byte Fernet key has ~30 distinct bytes; fewer than this is not random
MIN_DISTINCT_KEY_BYTES = 16
GENERATE_HEX = "`python -c 'import secrets; print(secrets.token_hex(32))'`"


def estimated_bits(secret: str) -> float:
    """Shannon entropy of the characters times the length: what the secret could hold at best (a
    random hex string of 64 characters gives ~240 bits; ``"a" * 64`` gives 0)."""
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def _weak(name: str, secret: str, *, min_length: int, min_bits: float) -> str | None:
    if len(secret) < min_length:
        return f"{name} is too short: use at least {min_length} random characters"
    if estimated_bits(secret) < min_bits:
        return f"{name} is not random enough: generate it, e.g. with {GENERATE_HEX}"
    return None


def fernet_key_errors(keys: list[str]) -> list[str]:
    """Each key must be a Fernet key whose 32 bytes look random (an all-zero key is refused)."""
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            continue  # load_settings reports "not a Fernet key"
        if len(raw) == 32 and len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
            errors.append(
                f"SHOPBOT_ENCRYPTION_KEYS key {position} is not random: generate one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
            )
    return errors


def secret_strength_errors(settings: Settings) -> list[str]:
    """Length and entropy of every secret that is set."""
    checks: list[tuple[str, str | None, int, float]] = [
        ("SHOPBOT_BLIND_INDEX_KEY", settings.blind_index_key, 32, 128),
        ("SHOPBOT_SANDBOX_PAYMENT_SECRET", settings.sandbox_payment_secret, 32, 128),
        ("SHOPBOT_BACKOFFICE_SECRET", settings.backoffice.secret, 32, 128),
        ("SHOPBOT_TELEGRAM_WEBHOOK_SECRET", settings.telegram.webhook_secret, 24, 96),
        ("SHOPBOT_WECHAT_TOKEN", settings.wechat.token or None, 16, 64),
        ("SHOPBOT_WECHAT_PAY_API_KEY", settings.wechat.pay_api_key or None, 32, 128),
    ]
    errors = [
        problem
        for name, value, length, bits in checks
        if value and (problem := _weak(name, value, min_length=length, min_bits=bits))
    ]
    return errors + fernet_key_errors(settings.key_list)


def distinct_secret_errors(settings: Settings) -> list[str]:
    """No secret may be reused for another purpose (e.g. the blind-index key equal to an encryption key)."""
    named: list[tuple[str, str | None]] = [
        *(("SHOPBOT_ENCRYPTION_KEYS", key) for key in settings.key_list),
        ("SHOPBOT_BLIND_INDEX_KEY", settings.blind_index_key),
        ("SHOPBOT_SANDBOX_PAYMENT_SECRET", settings.sandbox_payment_secret),
        ("SHOPBOT_BACKOFFICE_SECRET", settings.backoffice.secret),
        ("SHOPBOT_TELEGRAM_WEBHOOK_SECRET", settings.telegram.webhook_secret),
        ("SHOPBOT_WECHAT_TOKEN", settings.wechat.token),
        ("SHOPBOT_WECHAT_PAY_API_KEY", settings.wechat.pay_api_key),
    ]
    first_use: dict[str, str] = {}
    errors = []
    for name, value in named:
        if not value:
            continue
        if value in first_use and first_use[value] != name:
            errors.append(f"{name} must differ from {first_use[value]}: use a separate random secret")
        first_use.setdefault(value, name)
    return errors


def public_url_errors(settings: Settings) -> list[str]:
    """Shoppers' payment links, cookies and webhooks need TLS in production."""
    if not settings.public_base_url.startswith("https://"):
        return ["SHOPBOT_PUBLIC_BASE_URL must be an https:// address in production"]
    return []


def production_secret_errors(settings: Settings) -> list[str]:
    """Every weak-secret problem at once (called by ``load_settings`` in production)."""
    return (
        secret_strength_errors(settings)
        + distinct_secret_errors(settings)
        + public_url_errors(settings)
        + sms_setting_errors(settings.sms)
    )
