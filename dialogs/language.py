"""Which language to answer in: explicit requests first, then what the shopper writes."""

from __future__ import annotations

import re

from dialogs.routing import outside_catalogue
from nlu import Interpretation

_COMMAND = re.compile(r"^/lang(?:uage)?\s+(zh-hans|zh-hant|en|zh|cn|tw|hk)\s*$", re.IGNORECASE)
_REQUESTS = (
    (
        re.compile(
            r"(english|英文|英語|英语)\s*(please|pls|plz|吧|谢谢|謝謝)?"
            r"|speak english|switch to english|in english",
            re.IGNORECASE,
        ),
        "en",
    ),
    (re.compile(r"(繁體|繁体|正體)(中文)?|traditional chinese"), "zh-Hant"),
    (
        re.compile(
            r"(切换|切換|换成|換成|说|說|用)?(简体)?中文(吧|谢谢)?$"
            r"|simplified chinese|chinese please|中文please",
            re.IGNORECASE,
        ),
        "zh-Hans",
    ),
)
_ALIASES = {
    "zh": "zh-Hans",
    "cn": "zh-Hans",
    "zh-hans": "zh-Hans",
    "zh-hant": "zh-Hant",
    "tw": "zh-Hant",
    "hk": "zh-Hant",
    "en": "en",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ADDRESSES = re.compile(r"\S+@\S+|https?://\S+|www\.\S+", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_COMMAND_WORD = re.compile(r"(?:^|\s)/\w+")
#: a Chinese shopper's message switches to English only with this many English words of its own
SWITCH_WORDS = 3
#: channels whose language hint is the channel's default for everyone, not the user's own setting:
#: WeChat says "zh" for every user (most are Chinese), so a plainly English first message overrules it
DEFAULT_HINT_CHANNELS = frozenset({"wechat"})


def requested_language(text: str) -> str | None:
    """An explicit switch: "/lang en", "English please", "切换中文", "繁體中文"."""
    stripped = text.strip()
    if match := _COMMAND.match(stripped):
        return _ALIASES[match.group(1).lower()]
    if len(stripped) > 30:
        return None
    for pattern, lang in _REQUESTS:
        if pattern.search(stripped):
            return lang
    return None


def detected_language(
    nlu: Interpretation,
    current: str | None,
    *,
    first: bool = False,
    hinted: bool = False,
    default_hint: bool = False,
) -> str | None:
    """The language the message is clearly written in, or None when it does not say (IDs, "ok", emoji).

    A conversation's first message decides on less evidence ("hi" is English) than a later one, which
    must be clearly in another language to switch. ``hinted``: the platform told us the user's language
    (Telegram's ``language_code``), which a first short English word does not overrule.
    ``default_hint``: the hint is only the channel's default (WeChat's "zh" for everyone); then a first
    message that is plainly English (``nlu.plain_english``: "Red Floral Dress", "red dress please";
    never a brand, a model name or pinyin alone) is English.
    """
    text = _COMMAND_WORD.sub(" ", outside_catalogue(nlu))  # "/start", "AirPods Pro" say no language
    text = _ADDRESSES.sub(" ", text)  # an e-mail or web address is in no language (onboarding asks one)
    cjk = len(_CJK.findall(nlu.text))
    words = len(_LATIN_WORD.findall(text))
    chinese = current in ("zh-Hans", "zh-Hant")
    if first and not hinted and words and not cjk and not any(ch.isdigit() for ch in text):
        return "en"  # nothing else to go on: a first "hi" is English
    if first and nlu.plain_english and (default_hint or not hinted):
        return "en"  # the catalogue's English words with nothing Chinese around them
    if chinese and not cjk and words < SWITCH_WORDS:
        return None  # "ok", "iPhone", "thx": one English word does not make a Chinese shopper English
    if first and words and not cjk and not any(ch.isdigit() for ch in text):
        return "en"
    if nlu.mixed:
        return None
    if nlu.lang in ("zh-Hans", "zh-Hant") and cjk >= 2:
        if current in ("zh-Hans", "zh-Hant") and nlu.lang != current and cjk < 4:
            return None  # too short to tell the two scripts apart reliably
        return nlu.lang
    if nlu.lang == "en" and words >= 2 and cjk == 0:
        return "en"
    return None
