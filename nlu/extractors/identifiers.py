"""Order numbers, tracking numbers and phone numbers: exact formats, so plain regular expressions.

Order numbers are ours: ``SB`` + 10 Crockford base-32 characters (no I, L, O, U), typed in any case;
the value is upper-case. Tracking numbers follow the carriers we integrate: our simulated carrier
``SX`` + 12 digits, SF Express ``SF`` + 12-13 digits, YTO/J&T/ZTO ``YT``/``JT``/``ZT`` + 12-15 digits,
UPS ``1Z`` + 16 characters. Phones: Chinese mobiles (optional +86, spaces or dashes between groups)
become ``+86`` + 11 digits; other ``+country`` numbers keep their digits.
"""

from __future__ import annotations

import re

from nlu.extractors.base import RANK_ID, Candidate

_ORDER = re.compile(r"(?<![0-9a-z])sb[0-9a-hjkmnp-tv-z]{10}(?![0-9a-z])")
_TRACKING = re.compile(
    r"(?<![0-9a-z])(?:sx\d{12}|sf\d{12,13}|(?:yt|jt|zt)\d{12,15}|1z[0-9a-z]{16})(?![0-9a-z])"
)
_CARRIERS = {"sx": "sx", "sf": "sf", "yt": "yto", "jt": "jt", "zt": "zto", "1z": "ups"}
_CN_MOBILE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_DIGIT = re.compile(r"\d")
_MAY_BE_PHONE = re.compile(r"1[3-9]|\+")
_INTL = re.compile(r"(?<![\d+])\+(\d{1,3})[ -]?(\d(?:[ -]?\d){5,13})(?!\d)")


def order_numbers(text: str) -> list[Candidate]:
    """``SB7K3M9Q2XAB`` (any case) -> value ``"SB7K3M9Q2XAB"``."""
    if "sb" not in text:
        return []
    return [
        Candidate("order_number", m.group().upper(), m.start(), m.end(), RANK_ID)
        for m in _ORDER.finditer(text)
    ]


def tracking_numbers(text: str) -> list[Candidate]:
    """Value ``{"number": "SF1234567890123", "carrier": "sf"}``."""
    out: list[Candidate] = []
    if not _DIGIT.search(text):  # every carrier's format has digits
        return out
    for m in _TRACKING.finditer(text):
        number = m.group().upper()
        value = {"number": number, "carrier": _CARRIERS[m.group()[:2]]}
        out.append(Candidate("tracking_number", value, m.start(), m.end(), RANK_ID))
    return out


def phone_numbers(text: str) -> list[Candidate]:
    """Value ``"+8613812345678"`` for Chinese mobiles, ``"+" + digits`` for other international numbers."""
    if not _MAY_BE_PHONE.search(text):  # a mobile's first digits or an international "+"
        return []
    out = [
        Candidate("phone", "+86" + "".join(m.groups()), m.start(), m.end(), RANK_ID)
        for m in _CN_MOBILE.finditer(text)
    ]
    for m in _INTL.finditer(text):
        if m.group(1).startswith("86") or any(c.start <= m.start() < c.end for c in out):
            continue
        digits = re.sub(r"\D", "", m.group())
        if 8 <= len(digits) <= 15:
            out.append(Candidate("phone", "+" + digits, m.start(), m.end(), RANK_ID))
    return out
