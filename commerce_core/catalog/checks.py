"""Automated listing checks that assist the reviewer (R4.1-2, R4.3-1, R4.3-3): pure functions of plain data.

Why pure: the same checks run when a merchant submits a listing, on every row of a CSV import, on a
new version of a live listing, and (later) on shoppers' review comments; none of them needs the
database. The caller gathers the facts (the listing, the category's required attributes, the prices
of the category's live listings, the texts of live listings to compare with) and gets findings back
as data. A finding never refuses anything by itself: the reviewer sees it and decides.

Advertising terms follow the PRC Advertising Law's absolute terms (最, 第一, 国家级, ...) and the usual
false claims in English ("best in the world", "cures"). Text is normalised first (NFKC: full-width
"１００％" is "100%"; case-folded), and zh-Hant spellings are listed beside zh-Hans ones.
Near-duplicates are measured with rapidfuzz's normalised similarity of name + description.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

#: absolute / false-advertising terms in Chinese (zh-Hans and zh-Hant spellings)
ZH_TERMS: tuple[str, ...] = (
    "全网最好",
    "全網最好",
    "100%有效",
    "国家级",
    "國家級",
    "世界级",
    "世界級",
    "第一",
    "顶级",
    "頂級",
    "极品",
    "極品",
    "万能",
    "萬能",
    "根治",
    "包治",
    "特效",
    "无副作用",
    "無副作用",
    "绝对",
    "絕對",
    "唯一",
    "首选",
    "首選",
    "最",
)
#: words with 最 that are ordinary Chinese, not claims ("recently", "last", "at least", "at most")
ZH_ALLOWED = ("最近", "最后", "最後", "最少", "最多", "最终", "最終", "最长", "最長")
#: 第一 as an ordinal ("the first time / day / piece", "at once") is ordinary Chinese in any text, not
#: the claim "number one" (销量第一, 第一品牌), which stays a finding
ZH_ORDINALS = tuple(
    f"第一{unit}"
    for unit in (
        "次", "天", "件", "个", "個", "眼", "步", "批", "周", "週", "单", "單", "双", "雙", "回", "条", "條",
        "顿", "頓", "年", "晚", "印象", "时间", "時間",
    )
)  # fmt: skip
#: superlatives that are a claim when a seller writes them and an opinion when a shopper does ("最喜欢",
#: "绝对值得", "唯一的缺点", "the best purchase I made"): review comments are not checked for these
ZH_OPINIONS = ("第一", "顶级", "頂級", "极品", "極品", "绝对", "絕對", "唯一", "首选", "首選", "最")
OPINION_TERMS = frozenset((*ZH_OPINIONS, "the best", "number one"))
#: English claims, as word-bounded patterns
EN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (term, re.compile(pattern))
    for term, pattern in (
        ("best in the world", r"\bbest in the world\b"),
        ("world's best", r"\bworld'?s best\b"),
        ("the best", r"\bthe (very )?best\b"),
        ("number one", r"\b(number|no\.?) ?(one|1)\b|#1\b"),
        ("cures", r"\bcur(e|es|ed|ing)\b"),
        ("100% effective", r"100% (effective|guaranteed|safe)"),
        ("miracle", r"\bmiracle\b"),
        ("no side effects", r"\bno side[- ]effects?\b"),
        ("guaranteed results", r"\bguaranteed (results|cure)\b"),
        ("national level", r"\bnational[- ]level\b"),
    )
)

#: the attributes every listing of a category must state (R4.3-1); categories not named use DEFAULT
REQUIRED_ATTRIBUTES: Mapping[str, tuple[str, ...]] = {
    "apparel": ("size", "colour", "material", "usage"),
    "dresses": ("size", "colour", "material", "usage"),
    "t-shirts": ("size", "colour", "material", "usage"),
    "jackets": ("size", "colour", "material", "usage"),
    "shoes": ("size", "colour", "material", "usage"),
    "sneakers": ("size", "colour", "material", "usage"),
    "boots": ("size", "colour", "material", "usage"),
    "bedding": ("size", "colour", "material", "usage"),
    "electronics": ("colour", "usage"),
    "phone-accessories": ("colour", "material", "usage"),
    "headphones": ("colour", "usage"),
    "smart-home": ("usage",),
    "kitchen": ("material", "usage"),
    "home": ("material", "usage"),
    "beauty": ("usage",),
    "skincare": ("usage",),
    "sports": ("size", "material", "usage"),
    "yoga-fitness": ("size", "material", "usage"),
    "tools": ("material", "usage"),
}
DEFAULT_REQUIRED: tuple[str, ...] = ("material", "usage")
#: the variant option that states an attribute (colour is ``color`` on SKUs, as the NLU names it)
OPTION_FOR = {"colour": "color", "size": "size"}
#: a listing's price this many times below or above the category's median is "far outside"
PRICE_FACTOR = 5.0
#: fewer live listings than this in a category: too few to say what its prices are
MIN_PRICE_SAMPLE = 3
#: similarity (0..100) of name + description from which a listing is a near-duplicate
DUPLICATE_SCORE = 90.0


@dataclass(frozen=True, slots=True)
class Finding:
    """What a check found: a stable ``code``, the ``field`` it is about, and the evidence (``detail``)."""

    code: str
    field: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ListingFacts:
    """A listing as the checks see it: texts per language, attributes, variant options, images, prices."""

    category_code: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    attributes: Mapping[str, Any]
    options: Sequence[Mapping[str, str]]
    images: Sequence[str]
    prices: Sequence[int]
    code: str = ""


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checks compare a listing with: the category's live prices and live listings' texts."""

    category_prices: Sequence[int] = ()
    #: (product code, name + description) of live listings to find near-duplicates among
    live_texts: Sequence[tuple[str, str]] = ()
    required: tuple[str, ...] | None = None  # None: the category's row of REQUIRED_ATTRIBUTES
    price_factor: float = PRICE_FACTOR
    duplicate_score: float = DUPLICATE_SCORE
    extra: Mapping[str, Any] = field(default_factory=dict)


def normalise(text: str) -> str:
    """NFKC (full-width to ASCII) and case-folded: how every check reads a text."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def advertising_terms(text: str, *, opinions: bool = True) -> list[str]:
    """The absolute or false-advertising terms in ``text`` (zh and en), each once, in list order.

    ``opinions=False`` leaves out the superlatives that are only a shopper's opinion in a review comment
    (:data:`OPINION_TERMS`); ad copy and health claims (全网最好, 国家级, "cures") are found in any text.
    """
    plain = normalise(text)
    found: list[str] = []
    masked = plain
    for allowed in (*ZH_ALLOWED, *ZH_ORDINALS):
        masked = masked.replace(allowed, "\x00" * len(allowed))
    for term in ZH_TERMS:
        needle = normalise(term)
        if needle in masked:
            if opinions or term not in OPINION_TERMS:
                found.append(term)
            masked = masked.replace(needle, "\x00" * len(needle))  # 全网最好 is not also 最
    for term, pattern in EN_PATTERNS:
        if (opinions or term not in OPINION_TERMS) and pattern.search(plain):
            found.append(term)
    return found


def required_attributes(category_code: str) -> tuple[str, ...]:
    return REQUIRED_ATTRIBUTES.get(category_code, DEFAULT_REQUIRED)


def _stated(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(str(v).strip() for v in value.values())
    return bool(str(value).strip()) if value is not None else False


def missing_attributes(facts: ListingFacts, required: Iterable[str]) -> list[str]:
    """Required attributes the listing does not state, as an attribute or on every variant."""
    missing = []
    for name in required:
        if _stated(facts.attributes.get(name)):
            continue
        option = OPTION_FOR.get(name)
        if option and facts.options and all(str(o.get(option, "")).strip() for o in facts.options):
            continue
        missing.append(name)
    return missing


def price_band(prices: Sequence[int], factor: float = PRICE_FACTOR) -> tuple[int, int] | None:
    """The (low, high) a category's prices normally fall in, or None with too few to tell."""
    if len(prices) < MIN_PRICE_SAMPLE:
        return None
    median = statistics.median(prices)
    return max(1, int(median / factor)), int(median * factor)


def listing_text(name: Mapping[str, str], description: Mapping[str, str]) -> str:
    """The text near-duplicates are measured on: every language of name and description."""
    return normalise(" ".join([*name.values(), *description.values()]))


def near_duplicate(
    text: str, live: Sequence[tuple[str, str]], *, exclude: str = "", score: float = DUPLICATE_SCORE
) -> tuple[str, float] | None:
    """The most similar live listing (code, score 0-100) when at least ``score`` alike, else None."""
    choices = {code: other for code, other in live if code != exclude}
    if not text or not choices:
        return None
    best = process.extractOne(text, choices, scorer=fuzz.ratio, score_cutoff=score)
    if best is None:
        return None
    _, similarity, code = best
    return str(code), float(similarity)


def check_listing(facts: ListingFacts, context: CheckContext) -> list[Finding]:
    """Every finding for one listing, in a stable order: claims, attributes, images, price, duplicate."""
    findings: list[Finding] = []
    for field_name, texts in (("name", facts.name), ("description", facts.description)):
        terms: list[str] = []
        for text in texts.values():
            terms += [t for t in advertising_terms(text) if t not in terms]
        if terms:
            findings.append(Finding("advertising_terms", field_name, ", ".join(terms)))
    required = context.required if context.required is not None else required_attributes(facts.category_code)
    findings += [Finding("missing_attribute", name) for name in missing_attributes(facts, required)]
    if not facts.images:
        findings.append(Finding("no_image", "images"))
    band = price_band(context.category_prices, context.price_factor)
    if band is not None:
        outside = [p for p in facts.prices if not band[0] <= p <= band[1]]
        if outside:
            findings.append(
                Finding("price_outside_range", "price", f"{outside[0]} not in {band[0]}-{band[1]}")
            )
    duplicate = near_duplicate(
        listing_text(facts.name, facts.description),
        context.live_texts,
        exclude=facts.code,
        score=context.duplicate_score,
    )
    if duplicate is not None:
        findings.append(Finding("near_duplicate", "description", f"{duplicate[0]} ({duplicate[1]:.0f}%)"))
    return findings


def price_change_flagged(old: int, new: int, percent: float) -> bool:
    """Whether a price change moves more than ``percent`` % either way (flagged to staff)."""
    return old > 0 and abs(new - old) * 100 > percent * old


# -- shoppers' review comments (R5.3-1): the claims above, plus contact details and abuse ------------------
#: a phone number (mainland mobile, or any run of 7+ digits with separators), a link, a WeChat/QQ id
CONTACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "phone",
        re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8}(?!\d)|(?<!\d)\d(?:[\s-]?\d){6,}(?!\d)"),
    ),
    ("link", re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|cn|net|top|xyz)\b")),
    ("messenger", re.compile(r"(?:微信|vx|v信|wechat|qq|加我|加微)[\s:：号號]*[a-z0-9_-]{5,}")),
)
#: insults and abuse, zh (both scripts) and en; a small list a moderator extends, matched after NFKC
ABUSE_TERMS: tuple[str, ...] = (
    "傻逼",
    "傻b",
    "sb卖家",
    "垃圾卖家",
    "骗子",
    "騙子",
    "去死",
    "他妈的",
    "他媽的",
    "滚蛋",
    "滾蛋",
    "idiot",
    "scam",
    "scammer",
    "fuck",
    "shit",
    "bastard",
)


def contact_details(text: str) -> list[str]:
    """Which kinds of contact details (phone, link, messenger id) ``text`` carries: the usual way a
    review is turned into an advertisement or a lure off the platform."""
    plain = normalise(text)
    return [kind for kind, pattern in CONTACT_PATTERNS if pattern.search(plain)]


def abusive_terms(text: str) -> list[str]:
    plain = normalise(text)
    return [term for term in ABUSE_TERMS if term in plain]


def check_comment(text: str) -> list[Finding]:
    """Every finding for a shopper's review comment: the listing's advertising-terms check (without the
    superlatives that are a shopper's opinion, not an advertisement: "第一次买，最喜欢这件" is a review),
    contact details and abuse. An empty list means it can be shown at once; otherwise staff decide."""
    findings: list[Finding] = []
    if terms := advertising_terms(text, opinions=False):
        findings.append(Finding("advertising_terms", "comment", ", ".join(terms)))
    if kinds := contact_details(text):
        findings.append(Finding("contact_details", "comment", ", ".join(kinds)))
    if abuse := abusive_terms(text):
        findings.append(Finding("abuse", "comment", ", ".join(abuse)))
    return findings
