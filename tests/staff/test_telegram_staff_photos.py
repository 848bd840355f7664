"""Photos a Telegram shopper sends during a handoff are kept for the agent and announced in the staff
group's topic (R5.4-1); a notification for a staff queue (an overdue case, say) reaches the staff
group's general topic. Telegram is a recording Bot API session."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.types import File

from bot.channels.telegram.channel import TelegramChannel
from bot.notifications import Notification, StaffQueue
from bot.runtime import Runtime
from commerce_core.api import FileRef, LocalFileStore
from commerce_core.support.types import HANDOFF_FILES_FOLDER
from dialogs.messages import TextReply
from tests.staff.conftest import GROUP, ForumSession, feed, sent
from tests.telegram.conftest import Shopper

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


class PhotoSession(ForumSession):
    """Also answers getFile and serves the photo's bytes, as Telegram's file server would."""

    def _result(self, bot: Bot, name: str, params: dict[str, Any]) -> Any:
        if name == "getFile":
            return File(
                file_id=params["file_id"], file_unique_id="u1", file_size=len(JPEG), file_path="photos/p.jpg"
            )
        return super()._result(bot, name, params)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - aiogram signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield JPEG


@pytest.fixture
def forum_session_type() -> type[ForumSession]:
    """Telegram here also serves the photos shoppers send."""
    return PhotoSession


async def test_a_photo_during_a_handoff_is_kept_and_announced(
    staffed: tuple[Runtime, TelegramChannel, PhotoSession],
) -> None:
    rt, channel, session = staffed
    shopper = Shopper(user_id=7201)
    await feed(rt, channel, shopper.text("人工客服"))
    ticket = await rt.commerce.support.active_for("telegram:7201")
    assert ticket is not None
    photo = [{"file_id": "AgAD-photo", "file_unique_id": "p1", "width": 800, "height": 600}]
    before = len(sent(session, 7201))
    await feed(rt, channel, shopper.message(photo=photo, caption="裂了"))
    [line] = [m for m in await rt.commerce.support.history(ticket.number) if m.file_key]
    assert line.text == "裂了"
    store = LocalFileStore(rt.container.settings.data_dir / HANDOFF_FILES_FOLDER)
    data, content_type = await store.get(FileRef.parse(line.file_key or ""))
    assert (data, content_type) == (JPEG, "image/jpeg")
    assert any(
        f"/admin/agent/c/{ticket.number}" in text and "photo" in text for text in sent(session, GROUP, 101)
    )
    assert len(sent(session, 7201)) == before  # the bot stays quiet while a person has the conversation


async def test_a_staff_queue_alert_reaches_the_general_topic(
    staffed: tuple[Runtime, TelegramChannel, PhotoSession],
) -> None:
    rt, _, session = staffed
    queue = StaffQueue("agent")  # no agent has bound a chat: the group is still told
    assert await rt.notifier.directory.language_of(queue) == "en"
    alert = Notification(queue, [TextReply("Case AS123 is overdue")], "test:alert:1")
    assert await rt.notifier.deliver(alert) == []
    assert await rt.notifier.deliver(alert) == []  # delivered again (an outbox retry): posted once
    posts = [c for c in session.of("sendMessage") if c.params.get("chat_id") == GROUP]
    assert len(posts) == 1 and "message_thread_id" not in posts[0].params
    assert "Case AS123 is overdue" in posts[0].params["text"]
