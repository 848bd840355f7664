"""Logs (R3.4-4, R7.1-2): JSON lines carrying the request id, a conversation pseudonym and the turn id,
an access line per request, and no personal data: a known phone, name and address go through a whole
web-chat purchase (search, checkout, address, confirm, pay, notification) and appear in no line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.observability.logs import configure_logging
from bot.observability.settings import LogSettings
from tests.http.test_app import chat, payloads
from tests.operations.conftest import Client

NAME, PHONE, ADDRESS = "欧阳娜娜", "13987654321", "杭州市西湖区文三路477号华星科技大厦"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging(LogSettings(level="DEBUG"), stream=stream)
    try:
        yield stream
    finally:
        for handler in [h for h in root.handlers if h.get_name() == "shopbot-structured"]:
            root.removeHandler(handler)
        root.setLevel(level)


def parsed(stream: io.StringIO, logger: str | None = None) -> list[dict[str, Any]]:
    """The JSON lines written; with ``logger``, only that logger's (background tasks left by earlier
    tests in this process may log through the same root handler at any moment)."""
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [line for line in lines if logger is None or line.get("logger") == logger]


async def test_a_whole_purchase_leaves_no_phone_name_or_address_in_the_logs(
    client: Client, log_lines: io.StringIO
) -> None:
    user = "log-shopper"
    await chat(client, user, text="有没有红色连衣裙", lang="zh-Hans")
    await chat(client, user, payload="p:D1")
    await chat(client, user, payload="add:D1")
    await chat(client, user, payload="sku:D1-RED-L:1")
    await chat(client, user, payload="checkout")
    assert "yes:checkout" in payloads(await chat(client, user, text=f"{NAME} {PHONE} {ADDRESS}"))
    replies = await chat(client, user, payload="yes:checkout")
    [payment] = [r for r in replies if r["type"] == "payment"]
    paid = await chat(client, user, payload=f"sbxpay:{payment['data']['payment_id']}")
    assert any(r.get("pushed") for r in paid)  # the confirmation went out: the notifier ran too
    await chat(client, user, text=f"我的电话换成 {PHONE}")  # said again outside any flow

    text = log_lines.getvalue()
    lines = parsed(log_lines)
    assert len(lines) >= 9
    for secret in (NAME, PHONE, ADDRESS, "文三路", PHONE[-8:]):
        assert secret not in text, secret
    access = [line for line in lines if line["logger"] == "shopbot.access"]
    assert len(access) == 9
    assert {line["route"] for line in access} == {"/api/chat"}
    assert all(line["status"] == 200 for line in access)
    assert len({line["request_id"] for line in access}) == 9
    assert all(len(line["request_id"]) == 16 for line in access)
    turns = [line for line in lines if line["event"] == "turn"]
    assert len(turns) == 9
    assert len({line["conversation"] for line in turns}) == 1  # one conversation, one pseudonym
    assert user not in text  # ... which is not the user id
    assert len({line["turn"] for line in turns}) == 9
    assert all(line["request_id"] and line["channel"] == "web" for line in turns)
    assert {"checkout", "search_product"} <= {line["flow"] for line in turns}


def test_the_log_level_is_a_setting(monkeypatch: pytest.MonkeyPatch, log_lines: io.StringIO) -> None:
    monkeypatch.setenv("SHOPBOT_LOG_LEVEL", "WARNING")
    configure_logging(LogSettings(), stream=log_lines)
    logging.getLogger("shopbot.test").info("not shown")
    logging.getLogger("shopbot.test").warning("shown, with 13900001111 and someone@example.com scrubbed")
    [line] = parsed(log_lines, logger="shopbot.test")  # the info line is not there, the warning is
    assert line["level"] == "warning" and "[number]" in line["event"] and "[email]" in line["event"]
    assert "13900001111" not in line["event"] and "someone@example.com" not in line["event"]
