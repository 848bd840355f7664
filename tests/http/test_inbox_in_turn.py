"""What was pushed to a web shopper comes back in the answer to their next message, taken in the turn's
last Redis command (issue 16: the inbox was a third Redis round trip per turn), once, and never lost:
not on a replayed message, not on a turn that failed, not when the answer is rendered after it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.web import WebChannel
from bot.channels.web_session import COOKIE, WebSession
from bot.runtime import Runtime
from dialogs.messages import TextReply

Client = TestClient[web.Request, web.Application]
TOKEN = "A" * 43  # a session token as the server issues them (43 URL-safe characters)
HEADERS = {"Cookie": f"{COOKIE}={TOKEN}"}


def web_channel(runtime: Runtime) -> WebChannel:
    channel = runtime.channels["web"]
    assert isinstance(channel, WebChannel)
    return channel


async def push(runtime: Runtime, text: str) -> None:
    """A notification for this session's shopper (as the outbox relay delivers one)."""
    user = WebSession(TOKEN, issued=False).pseudonym
    await web_channel(runtime).inbox.push(user, [TextReply(text)], dedup_key=text)


async def say(client: Client, text: str, message_id: str) -> list[dict[str, Any]]:
    response = await client.post("/api/chat", json={"text": text, "id": message_id}, headers=HEADERS)
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    return replies


def pushed(replies: list[dict[str, Any]]) -> list[str]:
    return [r["text"] for r in replies if r.get("pushed")]


def count_redis_commands(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every command the app sends through its Redis client (pipelines counted once per command)."""
    redis, sent = runtime.container.redis, []
    execute, pipeline = redis.execute_command, redis.pipeline

    async def counted(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await execute(*args, **options)

    def counted_pipeline(*args: Any, **options: Any) -> Any:
        batch = pipeline(*args, **options)
        stack = batch.pipeline_execute_command

        def stacked(*command: Any, **more: Any) -> Any:
            sent.append(str(command[0]))
            return stack(*command, **more)

        batch.pipeline_execute_command = stacked
        return batch

    monkeypatch.setattr(redis, "execute_command", counted)
    monkeypatch.setattr(redis, "pipeline", counted_pipeline)
    return sent


async def test_a_notification_comes_back_with_the_next_answer_in_the_turns_two_commands(
    client: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await say(client, "你好", "m-1")  # the conversation exists; nothing pushed yet
    await push(runtime, "Your parcel has shipped")
    sent = count_redis_commands(runtime, monkeypatch)
    replies = await say(client, "有没有红色连衣裙", "m-2")
    assert pushed(replies) == ["Your parcel has shipped"]
    assert [r for r in replies if not r.get("pushed")]  # the turn's own answer is there too
    # besides the rate limits' counters, the turn's start and end only: the inbox rode in the end
    assert [c for c in sent if c not in ("INCRBY", "EXPIRE")] == ["EVAL", "EVAL"], sent
    assert pushed(await say(client, "你好", "m-3")) == []  # taken once
    inbox = await client.get("/api/inbox", headers=HEADERS)
    assert (await inbox.json())["replies"] == []


async def test_a_replayed_message_still_takes_what_was_pushed(client: Client, runtime: Runtime) -> None:
    """No turn runs for a retried id (the stored reply is sent again): the inbox is read on its own."""
    await say(client, "你好", "m-1")
    await push(runtime, "Your parcel has shipped")
    again = await say(client, "你好", "m-1")
    assert pushed(again) == ["Your parcel has shipped"]
    assert pushed(await say(client, "你好", "m-1")) == []


async def test_a_failed_turn_leaves_the_notification_for_the_next_answer(
    client: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn that fails ends without the end script: its 500 must not have taken the inbox."""
    await say(client, "你好", "m-1")
    await push(runtime, "Your parcel has shipped")
    engine = runtime.pipeline.engine
    handle = engine.handle

    async def broken(turn: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "handle", broken)
    failed = await client.post("/api/chat", json={"text": "你好", "id": "m-2"}, headers=HEADERS)
    assert failed.status == 500
    monkeypatch.setattr(engine, "handle", handle)
    assert pushed(await say(client, "你好", "m-3")) == ["Your parcel has shipped"]
