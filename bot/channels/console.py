"""The console channel: a terminal chat, a script player, and a JSON-lines protocol for programs.

Buttons are printed numbered; typing the number presses one (interactive and script modes). In JSON
mode every input line is either text or, if it equals a button payload just shown, a button press;
each turn's replies come out as JSON lines followed by ``{"turn_end": true}``.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.channels.base import ChannelContext, Job
from bot.notifications import InboxSender
from bot.render import buttons_of, reply_to_json
from commerce_core.api import PaymentProvider
from dialogs.messages import Button, InboundMessage

if TYPE_CHECKING:
    from bot.runtime import Runtime


class InboxChannel:
    """A channel whose client asks for pushed replies (the console, the web chat): they wait in a Redis
    list per user (:class:`~bot.notifications.InboxSender`) until the client drains it."""

    settings = None
    payment_providers: Sequence[PaymentProvider] = ()
    payment_provider: str | None = None

    def __init__(self, name: str, context: ChannelContext) -> None:
        self.name = name
        self.context = context
        self.inbox = InboxSender(context.redis, name)
        self.sender = self.inbox

    def install_routes(self, app: web.Application) -> None:
        """The console has no HTTP routes."""

    def jobs(self) -> Sequence[Job]:
        return ()

    async def aclose(self) -> None:
        """Nothing to release: the inbox lives in the shared Redis."""


def create(context: ChannelContext) -> InboxChannel:
    return InboxChannel("console", context)


class ConsoleSession:
    def __init__(
        self,
        runtime: Runtime,
        user_id: str = "console-user",
        *,
        channel: str = "console",
        language: str | None = None,
        numbered_buttons: bool = True,
    ) -> None:
        self.runtime = runtime
        self.user_id = user_id
        self.channel = channel
        self.language = language
        self.numbered = numbered_buttons
        self.buttons: list[Button] = []
        self.seen_payloads: set[str] = set()  # like a chat app, earlier buttons stay pressable
        self._ids = itertools.count(1)
        self._session = secrets.token_hex(6)

    def to_message(self, line: str) -> InboundMessage:
        text = line.strip()
        payload = None
        if self.numbered and text.isascii() and text.isdigit() and 1 <= int(text) <= len(self.buttons):
            payload = self.buttons[int(text) - 1].payload
        elif text in self.seen_payloads:
            payload = text
        return InboundMessage(
            channel=self.channel,
            user_id=self.user_id,
            chat_id=self.user_id,
            text="" if payload else text,
            payload=payload,
            dedup_key=f"{self.user_id}:{self._session}:{next(self._ids)}",
            language_hint=self.language,
        )

    async def send(self, line: str) -> list[dict[str, Any]]:
        """One turn: the replies, then anything pushed meanwhile (payment confirmations, ...)."""
        return await self.deliver(self.to_message(line))

    async def press(self, payload: str) -> list[dict[str, Any]]:
        """Press a button by its payload (as a platform delivers a tap on an old message)."""
        message = self.to_message("")
        return await self.deliver(
            InboundMessage(
                message.channel,
                message.user_id,
                message.chat_id,
                "",
                payload,
                dedup_key=message.dedup_key,
                language_hint=self.language,
            )
        )

    async def deliver(self, message: InboundMessage) -> list[dict[str, Any]]:
        replies = await self.runtime.pipeline.handle(message)
        await self.runtime.tick()
        pushed = await self.runtime.inbox(self.channel).drain(self.user_id)
        self.buttons = buttons_of(replies)
        self.seen_payloads.update(b.payload for b in self.buttons)
        result = [reply_to_json(r) for r in replies] + [{**p, "pushed": True} for p in pushed]
        if pushed:
            self.buttons += [Button(b["label"], b["payload"]) for p in pushed for b in p.get("buttons", [])]
            self.seen_payloads.update(b["payload"] for p in pushed for b in p.get("buttons", []))
        return result


def format_for_terminal(replies: list[dict[str, Any]]) -> str:
    """Human-readable transcript lines; buttons numbered in the order they can be pressed."""
    lines: list[str] = []
    number = 1
    for reply in replies:
        prefix = "🔔 " if reply.get("pushed") else ""
        lines.append(prefix + reply["text"])
        if reply["type"] == "payment" and reply.get("data", {}).get("pay_url"):
            lines.append(f"   pay: {reply['data']['pay_url']}")
        if reply["type"] == "file":
            lines.append(f"   [file {reply['data']['filename']}]")
        for button in reply.get("buttons", []):
            lines.append(f"   [{number}] {button['label']}")
            number += 1
    return "\n".join(lines)
