"""Every extractor in simplified Chinese, traditional Chinese, English and mixed messages."""

from __future__ import annotations

from typing import Any

import pytest

from nlu import BuiltinInterpreter, Hints


def found(interpreter: BuiltinInterpreter, text: str, slot: str | None = None) -> list[tuple[str, Any, str]]:
    result = interpreter.parse_sync(text, Hints(expected_slot=slot))
    for e in result.entities:
        assert text[e.start : e.end] == e.text, "offsets must index the original text"
    return [(e.type, e.value, e.text) for e in result.entities]


def of_type(
    interpreter: BuiltinInterpreter, text: str, type_: str, slot: str | None = None
) -> list[tuple[Any, str]]:
    return [(v, t) for ty, v, t in found(interpreter, text, slot) if ty == type_]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我要两件", [(2, "两件")]),
        ("来三个吧", [(3, "三个")]),
        ("要十二个", [(12, "十二个")]),
        ("一共一百零五件", [(105, "一百零五件")]),
        ("給我來兩雙", [(2, "兩雙")]),
        ("數量改成三個", [(3, "三個")]),
        ("2 of the red ones pls", [(2, "2 of")]),
        ("add x3 to my basket", [(3, "x3")]),
        ("I'll take a couple of those", [(2, "a couple of")]),
        ("add two to my cart", [(2, "two")]),
        ("红色的来 3件", [(3, "3件")]),
        ("give me 5 pcs", [(5, "5 pcs")]),
    ],
)
def test_quantity(interpreter: BuiltinInterpreter, text: str, expected: list[tuple[int, str]]) -> None:
    assert of_type(interpreter, text, "quantity") == expected


def test_bare_number_is_a_quantity_only_when_the_dialog_asks_for_one(interpreter: BuiltinInterpreter) -> None:
    assert of_type(interpreter, "2", "quantity") == []
    asked = interpreter.parse_sync("2", Hints(expected_slot="quantity"))
    assert asked.intent == "inform"
    assert [(e.type, e.value) for e in asked.entities] == [("quantity", 2)]
    assert of_type(interpreter, "两个", "quantity", slot="quantity") == [(2, "两个")]
    assert of_type(interpreter, "三", "quantity", slot="quantity") == [(3, "三")]


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("100元以下的裙子", {"min": None, "max": 100, "currency": "CNY"}, "100元以下"),
        ("200到300块的鞋", {"min": 200, "max": 300, "currency": "CNY"}, "200到300块"),
        ("不超过五百", {"min": None, "max": 500, "currency": None}, "不超过五百"),
        ("¥99的T恤", {"min": 99, "max": 99, "currency": "CNY"}, "¥99"),
        ("￥99的T恤", {"min": 99, "max": 99, "currency": "CNY"}, "￥99"),
        ("兩千以內的手機", {"min": None, "max": 2000, "currency": None}, "兩千以內"),
        ("三百元以上", {"min": 300, "max": None, "currency": "CNY"}, "三百元以上"),
        ("shoes under $50", {"min": None, "max": 50, "currency": "USD"}, "under $50"),
        ("between 20 and 40", {"min": 20, "max": 40, "currency": None}, "between 20 and 40"),
        ("a bag for $20-$40", {"min": 20, "max": 40, "currency": "USD"}, "$20-$40"),
        ("around 100 dollars", {"min": 80, "max": 120, "currency": "USD"}, "around 100 dollars"),
        ("Nike 跑鞋 500块以内", {"min": None, "max": 500, "currency": "CNY"}, "500块以内"),
    ],
)
def test_price(interpreter: BuiltinInterpreter, text: str, value: dict[str, Any], surface: str) -> None:
    assert of_type(interpreter, text, "price") == [(value, surface)]


@pytest.mark.parametrize("text", ["3天内发货", "more than 2 items", "I'm 25 years old", "第二个"])
def test_numbers_that_are_not_prices(interpreter: BuiltinInterpreter, text: str) -> None:
    assert of_type(interpreter, text, "price") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("有没有红色的", [("red", "红色")]),
        ("這件有沒有紅色", [("red", "紅色")]),
        ("藏青色和米白的都要", [("navy", "藏青色"), ("beige", "米白")]),
        ("要黑的", [("black", "黑的")]),
        ("do you have it in reddish", [("red", "reddish")]),
        ("navy blue or grey?", [("navy", "navy blue"), ("grey", "grey")]),
        ("我要 silver 的", [("silver", "silver")]),
        ("多色可选吗", [("multicolor", "多色")]),
        ("酒红色的连衣裙", [("red", "酒红色")]),
    ],
)
def test_colour(interpreter: BuiltinInterpreter, text: str, expected: list[tuple[str, str]]) -> None:
    assert of_type(interpreter, text, "color") == expected


@pytest.mark.parametrize("text", ["金额不对", "白天能送到吗", "银行卡支付", "红包"])
def test_colour_characters_inside_other_words_are_not_colours(
    interpreter: BuiltinInterpreter, text: str
) -> None:
    assert of_type(interpreter, text, "color") == []


def test_bare_colour_answer_when_asked_for_a_colour(interpreter: BuiltinInterpreter) -> None:
    result = interpreter.parse_sync("紅", Hints(expected_slot="colour", lang="zh-Hant"))
    assert result.intent == "inform"
    assert [(e.type, e.value) for e in result.entities] == [("color", "red")]
    assert interpreter.parse_sync("红色", Hints(expected_slot="color")).entity("color") is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("这件有M码吗", [("M", "M码")]),
        ("這件有XL碼嗎", [("XL", "XL碼")]),
        ("要大号的", [("L", "大号")]),
        ("均码吗", [("ONE_SIZE", "均码")]),
        ("42码的鞋", [("42", "42码")]),
        ("鞋码 38.5", [("38.5", "鞋码 38.5")]),
        ("do you have it in XXL", [("XXL", "XXL")]),
        ("size m please", [("M", "size m")]),
        ("a one-size hat", [("ONE_SIZE", "one-size")]),
        ("shoes size 44", [("44", "size 44")]),
        ("I'm looking for a dress", []),
        ("有 S 的吗", [("S", "S")]),
        ("3xl有吗", [("3XL", "3xl")]),
    ],
)
def test_size(interpreter: BuiltinInterpreter, text: str, expected: list[tuple[str, str]]) -> None:
    assert of_type(interpreter, text, "size") == expected


def test_bare_size_when_asked_for_a_size(interpreter: BuiltinInterpreter) -> None:
    assert of_type(interpreter, "m", "size", slot="size") == [("M", "m")]
    assert of_type(interpreter, "42", "size", slot="size") == [("42", "42")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("订单SB7K3M9Q2XAB到哪了", [("SB7K3M9Q2XAB", "SB7K3M9Q2XAB")]),
        ("訂單sb7k3m9q2xab取消", [("SB7K3M9Q2XAB", "sb7k3m9q2xab")]),
        ("cancel order sb4d8f2h6j9k please", [("SB4D8F2H6J9K", "sb4d8f2h6j9k")]),
        ("ＳＢ７Ｋ３Ｍ９Ｑ２ＸＡＢ", [("SB7K3M9Q2XAB", "ＳＢ７Ｋ３Ｍ９Ｑ２ＸＡＢ")]),
        ("SB7K3M9Q2XAI has an I", []),
        ("SB7K3M9Q2XA is too short", []),
        ("SB7K3M9Q2XABC is too long", []),
        ("XSB7K3M9Q2XAB glued to a letter", []),
    ],
)
def test_order_number(interpreter: BuiltinInterpreter, text: str, expected: list[tuple[str, str]]) -> None:
    assert of_type(interpreter, text, "order_number") == expected


@pytest.mark.parametrize(
    ("text", "value", "surface"),
    [
        ("我的电话13812345678", "+8613812345678", "13812345678"),
        ("電話 +86 138 1234 5678", "+8613812345678", "+86 138 1234 5678"),
        ("call me on 139-1234-5678", "+8613912345678", "139-1234-5678"),
        ("my number is +44 20 7946 0958", "+442079460958", "+44 20 7946 0958"),
        ("改成+8615900001111吧", "+8615900001111", "+8615900001111"),
    ],
)
def test_phone(interpreter: BuiltinInterpreter, text: str, value: str, surface: str) -> None:
    assert of_type(interpreter, text, "phone") == [(value, surface)]


def test_short_or_landline_like_numbers_are_not_mobiles(interpreter: BuiltinInterpreter) -> None:
    assert of_type(interpreter, "order 12345678901", "phone") == []
    assert of_type(interpreter, "我买了10件", "phone") == []


@pytest.mark.parametrize(
    ("text", "number", "carrier"),
    [
        ("快递单号SX123456789012", "SX123456789012", "sx"),
        ("順豐 sf1234567890123 到哪了", "SF1234567890123", "sf"),
        ("YT1234567890123456 where is it", "YT123456789012345", None),
        ("track JT0012345678901", "JT0012345678901", "jt"),
        ("中通ZT123456789012", "ZT123456789012", "zto"),
        ("UPS 1Z999AA10123456784", "1Z999AA10123456784", "ups"),
    ],
)
def test_tracking_number(
    interpreter: BuiltinInterpreter, text: str, number: str, carrier: str | None
) -> None:
    values = [v for v, _ in of_type(interpreter, text, "tracking_number")]
    if carrier is None:  # 16 digits after YT is one too many: not a tracking number
        assert values == []
    else:
        assert values == [{"number": number, "carrier": carrier}]


@pytest.mark.parametrize(
    ("text", "ordinal", "surface"),
    [
        ("第二个", 2, "第二个"),
        ("要第2个", 2, "第2个"),
        ("最后一个加入购物车", -1, "最后一个"),
        ("倒數第二個", -2, "倒數第二個"),
        ("第十款多少钱", 10, "第十款"),
        ("the second one", 2, "the second one"),
        ("I'll take the last one", -1, "the last one"),
        ("the 3rd one please", 3, "the 3rd one"),
        ("second to last one", -2, "second to last one"),
        ("that one", 0, "that one"),
        ("这件有M码吗", 0, "这件"),
        ("我要 the first one 红色的", 1, "the first one"),
    ],
)
def test_ordinal(interpreter: BuiltinInterpreter, text: str, ordinal: int, surface: str) -> None:
    assert of_type(interpreter, text, "ordinal") == [({"ordinal": ordinal}, surface)]


def test_ordinal_beats_the_quantity_hidden_inside_it(interpreter: BuiltinInterpreter) -> None:
    assert of_type(interpreter, "第二个", "quantity") == []
    assert of_type(interpreter, "这个问题怎么解决", "ordinal") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("小米手环8多少钱", [("product", "p-mi-band-8", "小米手环8")]),
        ("優衣庫的T恤", [("brand", "uniqlo", "優衣庫"), ("category", "tops", "T恤")]),
        ("有没有nkie的跑鞋", [("brand", "nike", "nkie"), ("category", "shoes", "跑鞋")]),
        ("airpod pro price?", [("product", "p-airpods-pro", "airpod pro")]),
        ("小米手还怎么样", [("product", "p-mi-band-8", "小米手还")]),
        ("Floral Midi Dress in M", [("product", "p-floral-dress", "Floral Midi Dress")]),
        ("碎花連身裙", [("product", "p-floral-dress", "碎花連身裙")]),
        ("我想买 Adidas 的 sneakers", [("brand", "adidas", "Adidas"), ("category", "shoes", "sneakers")]),
        ("纯棉的上衣", [("material", "cotton", "纯棉"), ("category", "tops", "上衣")]),
    ],
)
def test_catalogue_terms(
    interpreter: BuiltinInterpreter, text: str, expected: list[tuple[str, Any, str]]
) -> None:
    kinds = {"product", "brand", "category", "material"}
    assert [x for x in found(interpreter, text) if x[0] in kinds] == expected


def test_short_words_are_not_fuzzy_matched(interpreter: BuiltinInterpreter) -> None:
    assert [x for x in found(interpreter, "my order is late") if x[0] in {"brand", "product"}] == []


def test_mixed_message_with_many_entities(interpreter: BuiltinInterpreter) -> None:
    text = "我要两件red的M码 Uniqlo T恤, 200块以内, 电话13812345678"
    types = {(ty, str(v)) for ty, v, _ in found(interpreter, text)}
    assert ("quantity", "2") in types
    assert ("color", "red") in types
    assert ("size", "M") in types
    assert ("brand", "uniqlo") in types
    assert ("phone", "+8613812345678") in types
    assert ("price", str({"min": None, "max": 200, "currency": "CNY"})) in types
