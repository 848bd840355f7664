"""Issue 16 (NLU cost per message): short messages are remembered with their hints. A remembered
interpretation must be exactly what parsing again would give, never one from before a catalogue
change, and never one a previous caller has changed."""

from __future__ import annotations

import dataclasses

from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter, Hints, ProductTerm

_TEXTS = (
    "确认",
    "第二个",
    "這件有沒有紅色",
    "两件L码的",
    "300块以内的跑鞋",
    "any update on the parcel i ordered",
    "2 of the red ones pls",
    "SF1234567890123",
    "",
)
_HINTS = (None, Hints(expected_slot="quantity", lang="zh-Hans"), Hints(expected_slot="price", lang="en"))


def test_a_remembered_interpretation_equals_a_fresh_parse(interpreter: BuiltinInterpreter) -> None:
    """The second and third time a message arrives, with any hints, the answer is the one an
    interpreter that remembers nothing gives."""
    remembering = BuiltinInterpreter(interpreter.model, SAMPLE_CATALOGUE, interpreter.tokenizer)
    fresh = BuiltinInterpreter(interpreter.model, SAMPLE_CATALOGUE, interpreter.tokenizer, parse_cache=0)
    for _ in range(3):
        for text in _TEXTS:
            for hints in _HINTS:
                assert remembering.parse_sync(text, hints) == fresh.parse_sync(text, hints), (text, hints)


def test_a_new_catalogue_product_is_found_in_a_message_seen_before(interpreter: BuiltinInterpreter) -> None:
    """A shopper asks for a product the shop does not list yet; once the catalogue has it, the same
    message finds it (the update forgets every remembered interpretation)."""
    remembering = BuiltinInterpreter(interpreter.model, SAMPLE_CATALOGUE)
    text = "有没有星辰手环"
    assert remembering.parse_sync(text).entity("product") is None
    assert remembering.parse_sync(text).entity("product") is None
    product = ProductTerm("p-star-band", {"zh-Hans": "星辰手环", "en": "Star Band"}, (), None, "wearables")
    remembering.update_catalogue(dataclasses.replace(SAMPLE_CATALOGUE, products=(product,)))
    found = remembering.parse_sync(text).entity("product")
    assert found is not None and found.value == "p-star-band"


def test_changing_a_returned_value_does_not_change_the_next_answer(interpreter: BuiltinInterpreter) -> None:
    """A price's value is a dict: a caller editing the one it got must not edit what the next caller
    of the same message gets."""
    remembering = BuiltinInterpreter(interpreter.model, SAMPLE_CATALOGUE)
    first = remembering.parse_sync("300块以内的跑鞋").entity("price")
    assert first is not None and first.value["max"] == 300
    first.value["max"] = 1
    again = remembering.parse_sync("300块以内的跑鞋").entity("price")
    assert again is not None and again.value["max"] == 300
    again.value["max"] = 2
    third = remembering.parse_sync("300块以内的跑鞋").entity("price")
    assert third is not None and third.value["max"] == 300


def test_messages_with_numbers_or_addresses_are_not_kept(interpreter: BuiltinInterpreter) -> None:
    """A phone number, an address, an order number or an e-mail is one shopper's own: the memory of
    short messages must not keep it after the turn (R6.3-1)."""
    remembering = BuiltinInterpreter(interpreter.model, SAMPLE_CATALOGUE, interpreter.tokenizer)
    for text in ("13812345678", "张三 上海市世纪大道100号", "SO-2026-0042", "me@example.com", "确认"):
        remembering.parse_sync(text)
    assert [text for text, _ in remembering._parsed] == ["确认"]
