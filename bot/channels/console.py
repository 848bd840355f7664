"""The console channel: a terminal chat, a script player, and a JSON-lines protocol for programs.

Buttons are printed numbered; typing the number presses one (interactive and script modes). In JSON
mode every input line is either text or, if it equals a button payload just shown, a button press;
each turn's replies come out as JSON lines followed by ``{"turn_end": true}``.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from bot.render import buttons_of, reply_to_json
from bot.runtime import Runtime
from dialogs.messages import Button, InboundMessage


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
        if self.numbered and text.isdigit() and 1 <= int(text) <= len(self.buttons):
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
        pushed = await self.runtime.inboxes[self.channel].drain(self.user_id)
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
