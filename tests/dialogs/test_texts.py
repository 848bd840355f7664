"""Every text exists in zh-Hans, zh-Hant and en; every key the code uses exists; docs cover the flows."""

from __future__ import annotations

import re
from pathlib import Path

from commerce_core.after_sales.types import CaseKind, CaseStatus
from commerce_core.catalog.types import COLOURS
from commerce_core.orders.types import OrderStatus
from commerce_core.shipments.types import ShipmentStatus
from dialogs.engine import FLOWS
from dialogs.flows.after_sales import REASONS
from dialogs.texts import LANGUAGES, load_texts

ROOT = Path(__file__).resolve().parents[2]


def test_the_three_languages_have_the_same_texts() -> None:
    texts = load_texts()
    english = texts.keys("en")
    for lang in LANGUAGES:
        assert texts.keys(lang) == english, f"{lang}: {sorted(texts.keys(lang) ^ english)[:10]}"
        for key in english:
            assert texts.get(lang, key).strip(), f"{lang} {key} is empty"


def test_placeholders_agree_across_languages() -> None:
    texts = load_texts()
    for key in texts.keys("en"):
        names = {lang: set(re.findall(r"{(\w+)}", texts.catalogues[lang][key])) for lang in LANGUAGES}
        assert names["zh-Hans"] == names["en"] == names["zh-Hant"], key


def test_traditional_texts_are_in_traditional_script() -> None:
    texts = load_texts()
    sample = " ".join(texts.catalogues["zh-Hant"].values())
    for simplified in ("购物车", "订单", "库存", "颜色", "这"):
        assert simplified not in sample


def test_every_key_the_code_uses_exists() -> None:
    texts = load_texts()
    keys = texts.keys("en")
    used: set[str] = set()
    for path in [*(ROOT / "dialogs").rglob("*.py"), *(ROOT / "bot").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""(?:say|\.t|button|get)\(\s*(?:lang,\s*)?"([a-z_]+\.[a-z_.]+)\"""", source))
    families = (
        [f"status.{s.value}" for s in OrderStatus]
        + [f"shipment.{s.value}" for s in ShipmentStatus]
        + [f"color.{c}" for c in COLOURS]
        + [f"reason.{r}" for r in REASONS]
        + [f"case_kind.{k.value}" for k in CaseKind]
        + [f"case_status.{s.value}" for s in CaseStatus]
    )
    missing = sorted(
        k for k in used | set(families) if k not in keys and not k.startswith(("telegram.", "wechat."))
    )
    assert not missing, missing


def test_every_domain_error_code_has_a_friendly_text() -> None:
    keys = load_texts().keys("en")
    codes: set[str] = set()
    for path in (ROOT / "commerce_core").rglob("*.py"):
        # staff-facing: worded by the back office's catalogue
        if path.parent.name in {"operators", "files", "alerts"}:
            continue
        codes |= set(re.findall(r'code="([a-z_]+)"', path.read_text(encoding="utf-8")))
    internal = {
        "unknown_payment",
        "same_customer",
        "bad_signature",
        "stale_notification",
        "malformed_notification",
        "provider_not_found",
        "carrier_not_found",
        "invalid_channel",
        "invalid_language",
        "invalid_page",
        "invalid_code",
        "duplicate_code",
        "duplicate_sku",
        "invalid_variants",
        "invalid_catalogue",
        "already_seeded",
        "reason_required",
        "below_reserved",
        "invalid_amount",
        "invalid_currency",
        "merchant_not_found",
        "category_not_found",
        "sku_not_found_internal",
        # listing moderation: merchants and reviewers only, worded by the back office's catalogue
        "invalid_price",
        "review_decided",
        "review_not_found",
    }
    missing = sorted(c for c in codes - internal if f"error.{c}" not in keys)
    assert not missing, missing


def test_each_flow_has_a_diagram() -> None:
    docs = {p.stem for p in (ROOT / "docs" / "flows").glob("*.md")}
    aliases = {"add_to_cart": "cart"}
    for name in FLOWS:
        assert aliases.get(name, name) in docs, name
    for doc in docs:
        assert "```mermaid" in (ROOT / "docs" / "flows" / f"{doc}.md").read_text(encoding="utf-8")
