"""The handoff as the shopper lives it in the chat (console channel, the real pipeline and dialogs):
the queue position and wait, leaving with "取消", /start and help still answering, nobody coming in
time, working hours, and the rating after a resolution."""

from __future__ import annotations

from collections.abc import Callable

from bot.runtime import Runtime
from commerce_core.api import SupportSettings, TicketKind, TicketStatus
from commerce_core.clock import FakeClock
from tests.dialogs.conftest import Chat


async def test_the_shopper_waits_leaves_with_cancel_and_the_bot_answers_again(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    support = runtime.container.commerce.support
    chat = chat_factory("leaver", "zh-Hans")
    await chat.say("人工客服")
    [notice] = chat.of_type("handoff")
    assert "排在第 1 位" in notice["text"] and "分钟" in notice["text"]
    await chat.say("帮助")  # help still answers while waiting
    assert "转人工" in chat.text or "人工" in chat.text
    assert (await support.active_for("console:leaver")) is not None
    await chat.say("取消")
    assert "离开排队" in chat.text
    assert await support.active_for("console:leaver") is None
    [left] = [t for t in await support.queue() if t.conversation_key == "console:leaver"] or [None]
    assert left is None
    await chat.say("你好")
    assert chat.last and "排在" not in chat.text  # the bot, not the queue


async def test_nobody_comes_in_time_and_the_shopper_may_leave_a_message(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    support = runtime.container.commerce.support
    support.settings = SupportSettings(wait_limit_seconds=60)
    chat = chat_factory("nobody", "en")
    await chat.say("let me talk to a human")
    number = chat.of_type("handoff")[0]["data"]["ticket_number"]
    await chat.say("hello?")
    assert "number 1 in the queue" in chat.text
    clock.advance(seconds=61)
    await chat.say("anyone there?")
    assert "no one could take your conversation" in chat.text
    assert (await support.ticket(number)).status == TicketStatus.TIMED_OUT
    await chat.press("leavemsg")
    await chat.say("Please call me back about my order")
    assert "recorded" in chat.text
    [message] = await support.queue(TicketKind.MESSAGE)
    assert message.reason == "Please call me back about my order"


async def test_outside_working_hours_no_handoff_is_opened(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    support = runtime.container.commerce.support
    hour = clock.now().hour
    support.settings = SupportSettings(working_hours_start=(hour + 1) % 24, working_hours_end=(hour + 2) % 24)
    chat = chat_factory("night", "en")
    await chat.say("let me talk to a human")
    assert "nobody can take over right now" in chat.text
    assert chat.of_type("handoff") == []
    assert await support.active_for("console:night") is None


async def test_after_a_resolution_the_shopper_rates_and_the_bot_is_back(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    support = runtime.container.commerce.support
    chat = chat_factory("rater", "en")
    await chat.say("let me talk to a human")
    number = chat.of_type("handoff")[0]["data"]["ticket_number"]
    await support.claim(number, "OPamy")
    await chat.say("my parcel is late")
    assert chat.last == []  # with an agent, the bot keeps quiet
    await chat.say("/start")
    assert chat.last != []  # /start always answers
    await support.resolve(number, actor="OPamy")
    await chat.say("5")
    assert "5/5" in chat.text
    assert (await support.ticket(number)).rating == 5
    await chat.say("hello")
    assert chat.last != [] and "5/5" not in chat.text


async def test_complaints_are_tickets_in_their_own_queue_not_handoffs(
    chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    support = runtime.container.commerce.support
    chat = chat_factory("angry", "en")
    await chat.say("I want to complain: the parcel arrived broken and nobody answered my emails for a week")
    assert chat.of_type("handoff") == []
    [complaint] = await support.queue(TicketKind.COMPLAINT)
    assert complaint.reason.startswith("complaint:")
    assert await support.queue(TicketKind.HANDOFF) == []
    await chat.say("hello")
    assert chat.last != []  # the bot is not silenced by a complaint
