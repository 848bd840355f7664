"""Rate limits with a fake clock, 429 handling, retries, and notifications never dropped."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramServerError
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.outbound import Outbound, TelegramSender
from bot.channels.telegram.render import Renderer
from bot.channels.telegram.session import TEST_TOKEN, RecordingSession, retry_after, server_error
from bot.infra.ratelimit import Limits, SharedRateLimiter
from bot.infra.redis import make_redis
from dialogs.messages import Button, PaymentRequest, TextReply
from dialogs.texts import load_texts
from tests.telegram.conftest import SECRET, FakeTimer, Shopper, body

Client = TestClient[web.Request, web.Application]


def make_sender(timer: FakeTimer, session: RecordingSession, max_attempts: int = 5) -> TelegramSender:
    redis = make_redis("memory://")
    bot = Bot(TEST_TOKEN, session=session)
    outbound = Outbound(bot, redis, SharedRateLimiter(redis, timer, Limits()), max_attempts=max_attempts)

    async def lang(chat: str) -> str:
        return "zh-Hans"

    return TelegramSender(outbound, Renderer(load_texts(), redis), lang)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_thousand_notifications_to_thousand_chats_at_most_30_per_second() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    started = timer.now()
    for chat in range(1, 1001):
        await sender.push(str(chat), [TextReply("已发货")], f"outbox:{chat}")
    times = [c.at for c in session.calls]
    assert len(times) == 1000 and len({c.chat_id for c in session.calls}) == 1000
    assert max_in_window(times) <= 30
    assert times[-1] - started >= 999 / 30 - 0.01  # and not slower than needed
    assert times[-1] - started < 999 / 30 + 1


async def test_one_chat_gets_about_one_message_per_second_after_a_short_burst() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    await sender.push("5", [TextReply(f"m{i}") for i in range(10)], "outbox:burst")
    times = [c.at for c in session.calls]
    assert len(times) == 10 and max_in_window(times) <= 3
    gaps = [b - a for a, b in itertools.pairwise(times[3:])]
    assert all(g >= 0.999 for g in gaps)


async def test_groups_get_at_most_20_per_minute() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    await sender.push("-100500", [TextReply(f"m{i}") for i in range(40)], "outbox:group")
    assert max_in_window([c.at for c in session.calls], 60.0) <= 20


async def test_429_pauses_that_chat_then_resumes() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    session.fail(retry_after(7), chat_id=42)
    t0 = timer.now()
    await sender.push("42", [TextReply("hello"), TextReply("again")], "outbox:9")
    assert len(session.failed) == 1 and session.failed[0].at == t0
    assert [c.chat_id for c in session.calls] == ["42", "42"]
    assert session.calls[0].at >= t0 + 7
    assert await sender.outbound.limiter.paused_until("42") == pytest.approx(t0 + 7)
    # other chats are not paused by it
    await sender.push("43", [TextReply("hi")], "outbox:10")
    assert session.calls[-1].at < session.calls[0].at + 1.1


async def test_transient_errors_are_retried_with_backoff() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    session.fail(server_error, chat_id=7, times=2)
    await sender.push("7", [TextReply("hi")], "outbox:11")
    assert len(session.failed) == 2 and len(session.calls) == 1
    assert session.calls[0].at - session.failed[0].at >= 1.0


async def test_a_notification_that_cannot_be_sent_raises_and_is_resent_later_without_duplicates() -> None:
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session, max_attempts=2)
    replies = [TextReply("第一条"), TextReply("第二条", (Button("查看", "order:A1"),))]
    session.fail(server_error, chat_id=9, method="sendMessage", times=1)
    await sender.push("9", replies[:1], "outbox:x")  # first part goes after one retry
    session.fail(server_error, chat_id=9, times=2)
    with pytest.raises(TelegramServerError):
        await sender.push("9", replies, "outbox:12")  # outbox keeps the event: relay retries it
    await sender.push("9", replies, "outbox:12")  # the retry sends both (neither was sent)
    await sender.push("9", replies, "outbox:12")  # a duplicate relay sends nothing more
    texts = [c.params["text"] for c in session.calls]
    assert texts == ["第一条", "第一条", "第二条"]


async def test_outbox_notifications_reach_telegram_users(
    channel: TelegramChannel, session: RecordingSession
) -> None:
    assert channel.runtime.notifier.senders["telegram"] is channel.sender


async def test_a_notification_cut_off_after_its_first_part_resumes_at_the_second_with_one_counter() -> None:
    """R3.3-5: the outbox retries a notification whose second part failed; the shopper gets the first
    part once and the second once. What was sent is one counter per notification and chat (as for
    turn replies), not one key per part."""
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session, max_attempts=1)
    replies = [TextReply("付款成功"), TextReply("订单详情"), TextReply("感谢惠顾")]
    real = session.make_request
    sent = 0

    async def second_part_fails_once(bot: Bot, method: object, timeout: int | None = None) -> object:  # noqa: ASYNC109
        nonlocal sent
        sent += 1
        if sent == 2:
            raise TelegramServerError(method=method, message="Bad Gateway")  # type: ignore[arg-type]
        return await real(bot, method, timeout)  # type: ignore[arg-type]

    session.make_request = second_part_fails_once  # type: ignore[method-assign]
    with pytest.raises(TelegramServerError):
        await sender.push("31", replies, "outbox:77")
    await sender.push("31", replies, "outbox:77")  # the relay's retry
    await sender.push("31", replies, "outbox:77")  # a duplicate delivery: nothing more
    assert [c.params["text"] for c in session.calls] == ["付款成功", "订单详情", "感谢惠顾"]
    redis = sender.redis
    assert int(await redis.get("shopbot:tg:sent:outbox:77:31")) == 3
    assert await redis.keys("shopbot:tg:sent:outbox:77:31:*") == []


async def test_a_sent_part_is_counted_through_a_short_redis_outage_so_a_retry_does_not_resend_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telegram accepted the part; Redis refuses the count's write twice (restarting), then takes it:
    the count is written, and the same notification pushed again (the outbox's retry) sends nothing."""
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    limiter = sender.outbound.limiter
    real_write, refusals = limiter.write, [2]

    async def flaky_write(riders: list[Any]) -> None:
        if riders and refusals[0]:
            refusals[0] -= 1
            raise RedisConnectionError("Redis is restarting")
        await real_write(riders)

    monkeypatch.setattr(limiter, "write", flaky_write)
    monkeypatch.setattr("bot.channels.telegram.outbound.RECORD_RETRY_PAUSE", 0.01)
    await sender.push("77", [TextReply("已付款")], "outbox:outage")
    assert refusals == [0] and len(session.calls) == 1
    await sender.push("77", [TextReply("已付款")], "outbox:outage")
    assert len(session.calls) == 1


async def test_a_notification_to_a_chat_that_blocked_the_bot_is_not_attempted() -> None:
    """A 403 marked the chat blocked: later notifications to it are dropped without a Bot API call
    (each would be another 403), others still go out."""
    timer = FakeTimer()
    session = RecordingSession(clock=timer.now)
    sender = make_sender(timer, session)
    await sender.outbound.mark_blocked("41")
    await sender.push("41", [TextReply("发货了")], "outbox:90")
    await sender.push("42", [TextReply("发货了")], "outbox:91")
    assert [c.chat_id for c in session.calls + session.failed] == ["42"]


async def test_a_notification_speaks_the_language_the_shopper_chats_in(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    """The language is read from the conversation's state in the same round trip as the blocked mark
    and the sent-part count: an English shopper's notification is in English, a new chat's in the
    default language."""
    shopper = Shopper(7301, lang="en")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    assert (
        await client.post("/telegram/webhook", data=body(shopper.text("hello")), headers=headers)
    ).status == 200
    await channel.drain()
    pay = PaymentRequest("SB1", "p1", "sandbox", 100, "CNY", "¥1.00", "https://pay.example/1", "Order SB1")
    for chat in ("7301", "7302"):
        before = len(session.calls)
        await channel.sender.push(chat, [pay], f"outbox:{chat}")
        [call] = session.calls[before:]
        assert call.params["reply_markup"]["inline_keyboard"][0][0]["text"] == (
            "Pay" if chat == "7301" else "去付款"
        )
