"""The catalogue probe (issue 14, R5.2-1): every product name, category name and synonym of the demo
catalogue, sent alone as a shopper's first message, must reach search.

Shared by the test (``test_catalogue_probe.py``) and usable from a shell to list the misses:
``python -m tests.dialogs.catalogue_probe``. The terms are computed from the catalogue, so the probe
grows with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.channels.console import ConsoleSession
from bot.runtime import Runtime

LANGS = ("zh-Hans", "zh-Hant", "en")


@dataclass(frozen=True)
class Probe:
    term: str
    kind: str  # "product name", "product synonym", "category name", "category synonym"
    accept: frozenset[str]  # product codes whose appearance counts as a hit


def _subtree(categories: list[dict[str, Any]], root: str) -> set[str]:
    codes = {root}
    grew = True
    while grew:
        grew = False
        for c in categories:
            if c.get("parent") in codes and c["code"] not in codes:
                codes.add(c["code"])
                grew = True
    return codes


def probes(data: dict[str, Any]) -> list[Probe]:
    """One probe per distinct term: the products it names, plus every product of a category it names."""
    categories: list[dict[str, Any]] = data["categories"]
    products: list[dict[str, Any]] = data["products"]
    kinds: dict[str, str] = {}
    accept: dict[str, set[str]] = {}

    def note(term: str, kind: str, codes: set[str]) -> None:
        term = term.strip()
        if not term:
            return
        key = term.lower()
        kinds.setdefault(key, kind)
        accept.setdefault(key, set()).update(codes)
        kinds[key + "\0term"] = kinds.get(key + "\0term", term)

    for c in categories:
        members = {p["code"] for p in products if p["category"] in _subtree(categories, c["code"])}
        for lang in LANGS:
            note(c["name"].get(lang, ""), "category name", members)
        for synonym in c.get("synonyms", []):
            note(synonym, "category synonym", members)
    for p in products:
        for lang in LANGS:
            note(p["name"].get(lang, ""), "product name", {p["code"]})
        for synonym in p.get("synonyms", []):
            note(synonym, "product synonym", {p["code"]})
    return [
        Probe(kinds[key + "\0term"], kinds[key], frozenset(codes))
        for key, codes in accept.items()
        if not key.endswith("\0term")
    ]


def shown_codes(replies: list[dict[str, Any]]) -> Iterator[str]:
    for reply in replies:
        data = reply.get("data") or {}
        if reply["type"] == "product_list":
            yield from (item["code"] for item in data.get("items", []))
        elif reply["type"] == "product_card":
            yield data["code"]


async def probe(runtime: Runtime, item: Probe, number: int) -> tuple[bool, str]:
    """Send ``item.term`` as the first message of a new shopper; a hit shows an accepted product."""
    session = ConsoleSession(runtime, f"probe-{number}", numbered_buttons=False)
    replies = await session.send(item.term)
    hit = any(code in item.accept for code in shown_codes(replies))
    return hit, " | ".join(r["text"].split("\n")[0][:60] for r in replies)
