"""Messages WeChat lets us send outside a passive reply, within its rules.

Customer-service messages are allowed for 48 h after the shopper's last message, 5 of them per window
(:class:`Window`). Outside the window a notification goes as a template message (or a subscription
message) when one is configured; when nothing is allowed, :meth:`WeChatSender.push` raises
:class:`WindowClosed` and the outbox keeps the notification for the next window. An unsubscribed
shopper gets nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from bot.channels.wechat.api import WINDOW_ERRORS, WeChatApi, WeChatApiError
from bot.channels.wechat.render import Choices, custom_messages, numbered, render
from bot.channels.wechat.settings import WeChatSettings
from dialogs.messages import Reply
from dialogs.texts import Texts

log = logging.getLogger(__name__)


class WindowClosed(Exception):
    """No customer-service message is allowed now and no template is configured: retry later."""


class Window:
    """The customer-service window of each shopper, shared by all processes in Redis."""

    def __init__(self, redis: aioredis.Redis, hours: int, allowance: int, now: Callable[[], float]) -> None:
        self._redis = redis
        self._seconds = hours * 3600
        self._allowance = allowance
        self._now = now

    def _key(self, openid: str) -> str:
        return f"shopbot:wechat:window:{openid}"

    async def opened(self, openid: str) -> None:
        """The shopper wrote (or tapped, subscribed, scanned): a new window with a full allowance."""
        async with self._redis.pipeline(transaction=True) as batch:
            self.open_on(batch, openid)
            await batch.execute()

    def open_on(self, batch: Any, openid: str) -> None:
        """:meth:`opened` as commands queued on a Redis pipeline (one round trip with others)."""
        key = self._key(openid)
        batch.hset(key, mapping={"since": str(int(self._now())), "sent": "0"})
        batch.expire(key, self._seconds)

    async def take(self, openid: str, count: int = 1) -> bool:
        """Reserve ``count`` messages of the allowance; False (nothing reserved) when not possible."""
        key = self._key(openid)
        since = await self._redis.hget(key, "since")  # type: ignore[misc]
        if since is None or self._now() - int(since) >= self._seconds:
            return False
        sent = int(await self._redis.hincrby(key, "sent", count))  # type: ignore[misc]
        if sent > self._allowance:
            await self._redis.hincrby(key, "sent", -count)  # type: ignore[misc]
            return False
        return True

    async def give_back(self, openid: str, count: int) -> None:
        await self._redis.hincrby(self._key(openid), "sent", -count)  # type: ignore[misc]

    async def close(self, openid: str) -> None:
        await self._redis.delete(self._key(openid))

    def close_on(self, batch: Any, openid: str) -> None:
        """:meth:`close` queued on a Redis pipeline."""
        batch.delete(self._key(openid))


class WeChatSender:
    """Pushes replies (order notifications, late answers) to a shopper: the notifier's Sender."""

    def __init__(
        self,
        api: WeChatApi,
        redis: aioredis.Redis,
        texts: Texts,
        settings: WeChatSettings,
        window: Window,
        choices: Choices,
        language_of: Callable[[str], Any],
    ) -> None:
        self.api = api
        self._redis = redis
        self._texts = texts
        self._settings = settings
        self.window = window
        self._choices = choices
        self._language_of = language_of  # async openid -> language

    def unsubscribed_key(self, openid: str) -> str:
        return f"shopbot:wechat:unsubscribed:{openid}"

    async def push(self, user_id: str, replies: list[Reply], dedup_key: str) -> None:
        done_key = f"shopbot:pushed:{dedup_key}:wechat:{user_id}"
        if await self._redis.exists(done_key) or await self._redis.exists(self.unsubscribed_key(user_id)):
            return
        lang: str = await self._language_of(user_id)
        rendered = render(replies, self._texts, lang, self._settings.public_base_url)
        if rendered.empty:
            return
        messages = custom_messages(rendered, user_id, self._texts, lang)
        if await self.window.take(user_id, len(messages)):
            try:
                await self._send_custom(messages, done_key)
                await self._choices.remember(user_id, rendered.choices)
                await self._redis.set(done_key, b"1", ex=7 * 86400)
                return
            except WeChatApiError as error:
                if error.errcode not in WINDOW_ERRORS:
                    raise
                await self.window.close(user_id)  # WeChat says the window is shut: believe it
        await self._send_outside_window(user_id, numbered(rendered, self._texts, lang))
        await self._redis.set(done_key, b"1", ex=7 * 86400)

    async def _send_custom(self, messages: list[dict[str, Any]], done_key: str) -> None:
        for index, message in enumerate(messages):
            part = f"{done_key}:{index}"
            if await self._redis.exists(part):
                continue  # sent before a failure of a later part: not twice
            await self.api.send_custom(message)
            await self._redis.set(part, b"1", ex=7 * 86400)

    async def _send_outside_window(self, openid: str, text: str) -> None:
        s = self._settings
        if s.notice_template_id:
            await self.api.send_template(
                {
                    "touser": openid,
                    "template_id": s.notice_template_id,
                    "url": s.public_base_url,
                    "data": {"first": {"value": text[:200]}, "remark": {"value": ""}},
                }
            )
        elif s.subscribe_template_id:
            await self.api.send_subscribe(
                {
                    "touser": openid,
                    "template_id": s.subscribe_template_id,
                    "data": {"thing1": {"value": text[:20]}},
                }
            )
        else:
            raise WindowClosed(f"no customer-service window for {openid[:6]}…; waiting for the next one")
