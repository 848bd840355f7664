"""Replies as the web chat's JSON (and the console's, and pushed notifications'): the shape the page
reads, whatever serializes the fields (issue 16 moved it from ``dataclasses`` to pydantic)."""

from __future__ import annotations

import base64
import json
import warnings

from bot.render import reply_to_json
from dialogs.messages import (
    Button,
    FileReply,
    LineItem,
    OrderSummary,
    ProductList,
    ProductListItem,
    TextReply,
)

ADD = Button("加入购物车", "add:P0001")


def test_a_text_reply_is_type_text_and_buttons_without_data() -> None:
    assert reply_to_json(TextReply("你好", (ADD,))) == {
        "type": "text",
        "text": "你好",
        "buttons": [{"label": "加入购物车", "payload": "add:P0001"}],
    }


def test_a_product_list_carries_its_items_under_data_and_its_text_at_the_top() -> None:
    item = ProductListItem(1, "P0001", "连衣裙", "¥199.00", "/media/demo/P0001-1.svg", 3, "热销")
    reply = ProductList("为你找到", (item,), page=1, has_more=True, total=7, buttons=(ADD,))
    found = reply_to_json(reply)
    assert found["type"] == "product_list" and found["text"] == reply.text and "连衣裙" in found["text"]
    assert found["buttons"] == [{"label": "加入购物车", "payload": "add:P0001"}]
    assert found["data"] == {
        "title": "为你找到",
        "items": (
            {
                "position": 1,
                "code": "P0001",
                "title": "连衣裙",
                "price": "¥199.00",
                "image": "/media/demo/P0001-1.svg",
                "available": 3,
                "reason": "热销",
            },
        ),
        "page": 1,
        "has_more": True,
        "total": 7,
    }
    assert json.loads(json.dumps(found))["data"]["items"][0]["code"] == "P0001"


def test_an_order_built_with_lists_keeps_them_and_warns_nobody() -> None:
    line = LineItem("连衣裙", "红色 M", 2, "¥199.00", "¥398.00", "P0001-R-M")
    reply = OrderSummary("SO1", "订单", "待付款", [line], "¥398.00", "上海", [], [])  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic would warn of a list where a tuple is declared
        data = reply_to_json(reply)["data"]
    assert data["lines"] == [
        {
            "title": "连衣裙",
            "options": "红色 M",
            "quantity": 2,
            "unit_price": "¥199.00",
            "line_total": "¥398.00",
            "sku": "P0001-R-M",
        }
    ]
    assert data["notes"] == [] and "buttons" not in data and "kind" not in data


def test_a_file_comes_as_base64_never_as_raw_bytes() -> None:
    reply = FileReply("orders.csv", "text/csv", b"\x00\xff,1\n", "你的订单")
    found = reply_to_json(reply)
    assert base64.b64decode(found["content_base64"]) == b"\x00\xff,1\n"
    assert found["data"] == {"filename": "orders.csv", "mime_type": "text/csv"}
    json.dumps(found)  # all of it JSON
