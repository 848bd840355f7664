"""The automated listing checks (R4.1-2, R4.3-1, R4.3-3) as pure functions: advertising terms in zh and
en, missing category attributes, no image, a price far outside the category, a near-duplicate."""

from __future__ import annotations

import pytest

from commerce_core.catalog.checks import (
    CheckContext,
    ListingFacts,
    advertising_terms,
    check_listing,
    price_change_flagged,
)


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("全网最好的连衣裙", "全网最好"),
        ("全網最好的連衣裙", "全網最好"),
        ("国家级品质", "国家级"),
        ("销量第一", "第一"),
        ("最舒适的鞋", "最"),
        ("１００％有效", "100%有效"),
        ("The BEST in the world!", "best in the world"),
        ("This cream cures acne", "cures"),
    ],
)
def test_absolute_and_false_claims_are_found_in_both_languages(text: str, term: str) -> None:
    assert term in advertising_terms(text)


@pytest.mark.parametrize(
    "text", ["最近上新的夏装", "雪纺面料，适合夏天", "A cotton shirt for the office", ""]
)
def test_ordinary_words_are_not_claims(text: str) -> None:
    assert advertising_terms(text) == []


def test_the_longest_term_is_reported_not_its_parts() -> None:
    assert advertising_terms("全网最好") == ["全网最好"]


def _facts(**changes: object) -> ListingFacts:
    values: dict[str, object] = {
        "category_code": "dresses",
        "name": {"zh-Hans": "碎花连衣裙", "en": "Floral dress"},
        "description": {"en": "Chiffon with a cotton lining"},
        "attributes": {"material": "chiffon", "usage": "summer dates"},
        "options": [{"color": "red", "size": "M"}],
        "images": ["/img/1.png"],
        "prices": [19900],
    }
    values.update(changes)
    return ListingFacts(**values)  # type: ignore[arg-type]


def _codes(facts: ListingFacts, context: CheckContext | None = None) -> list[tuple[str, str]]:
    return [(f.code, f.field) for f in check_listing(facts, context or CheckContext())]


def test_a_complete_honest_listing_has_no_findings() -> None:
    assert _codes(_facts()) == []


def test_each_problem_is_named_with_its_field() -> None:
    assert _codes(_facts(description={"zh-Hans": "全网最好"})) == [("advertising_terms", "description")]
    assert _codes(_facts(attributes={"material": "chiffon"})) == [("missing_attribute", "usage")]
    assert _codes(_facts(options=[{"color": "red"}])) == [("missing_attribute", "size")]
    assert _codes(_facts(images=[])) == [("no_image", "images")]
    context = CheckContext(category_prices=[19000, 20000, 21000, 25000])
    assert _codes(_facts(prices=[990]), context) == [("price_outside_range", "price")]
    assert _codes(_facts(prices=[19900]), context) == []
    live = CheckContext(live_texts=[("X1", "碎花连衣裙 floral dress chiffon with a cotton lining")])
    assert _codes(_facts(), live) == [("near_duplicate", "description")]
    assert _codes(_facts(code="X1"), live) == []  # itself, when a live listing is edited


def test_too_few_live_prices_say_nothing_about_the_range() -> None:
    assert _codes(_facts(prices=[1]), CheckContext(category_prices=[19000, 20000])) == []


def test_price_changes_beyond_the_percentage_are_flagged() -> None:
    assert price_change_flagged(10000, 16000, 50) is True
    assert price_change_flagged(10000, 4000, 50) is True
    assert price_change_flagged(10000, 14000, 50) is False
