"""Private texts and button taps read from the update's JSON (``lean``) reach the pipeline exactly as
through aiogram's models, and every other shape still goes through aiogram."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.telegram import lean
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from tests.telegram.conftest import Shopper

NAMED = Shopper(7301, lang="en", name="Ann")
NAMED.user["last_name"] = "Lee"  # full_name "Ann Lee"
PLAIN = [
    Shopper(7302).text("有没有红色连衣裙"),
    Shopper(7303).text("/start@shop_bot hello"),
    NAMED.message(text="/help", entities=[{"type": "bot_command", "offset": 0, "length": 5}]),
    Shopper(7304).tap("t|add:D1"),
    Shopper(7305).tap("t|more", message_id=41),  # paging: edits the message it is on
    Shopper(7306).tap("t|inc:D1-RED-M"),
    Shopper(7307).tap("r|" + "0" * 24),  # a long payload whose stored value expired
    Shopper(7308).tap("not ours"),
]


async def seen(channel: TelegramChannel, update: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """What ``channel.process`` hands to ``turn`` for ``update`` (the turn itself not run)."""
    turns: list[tuple[Any, dict[str, Any]]] = []

    async def turn(inbound: Any, **where: Any) -> None:
        turns.append((inbound, where))

    monkeypatch.setattr(channel, "turn", turn)
    assert await channel.process(json.dumps(update).encode())
    return turns


@pytest.mark.parametrize("update", PLAIN, ids=lambda u: json.dumps(u)[-60:])
async def test_plain_updates_reach_the_pipeline_as_through_aiogram(
    channel: TelegramChannel,
    session: RecordingSession,
    monkeypatch: pytest.MonkeyPatch,
    update: dict[str, Any],
) -> None:
    assert lean.plain_event(update) is not None
    fast = await seen(channel, update, monkeypatch)
    fast_calls = [(c.method, c.params) for c in session.calls]

    async def not_plain(channel: TelegramChannel, data: Any) -> bool:
        return False

    monkeypatch.setattr("bot.channels.telegram.channel.handle_plain", not_plain)
    session.calls.clear()
    assert await seen(channel, update, monkeypatch) == fast  # aiogram's Update and the handlers
    assert [(c.method, c.params) for c in session.calls] == fast_calls  # the tap's answer, if any
    if "callback_query" in update:
        assert fast_calls == [("answerCallbackQuery", {"callback_query_id": update["callback_query"]["id"]})]


def test_other_shapes_go_through_aiogram() -> None:
    shopper = Shopper(7310)
    group = shopper.text("/start")
    group["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "g"}
    no_sender = shopper.text("hi")
    del no_sender["message"]["from"]
    odd_id = shopper.tap("t|add:D1")
    odd_id["callback_query"]["id"] = 5
    for update in (
        shopper.message(photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]),
        shopper.message(text="hi", reply_to_message={"message_id": 1, "date": 1, "chat": shopper.chat}),
        shopper.message(contact={"phone_number": "+8613800000000", "first_name": "小明"}),
        shopper.paid("p:1", 100, "c1"),
        shopper.pre_checkout("p:1", 100),
        {"update_id": 1, "edited_message": shopper.text("hi")["message"]},
        {**shopper.text("hi"), "extra": 1},
        group,
        no_sender,
        odd_id,
        shopper.text("x") | {"update_id": "1"},
    ):
        assert lean.plain_event(update) is None, update
