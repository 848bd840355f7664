"""Replies as plain JSON (console --json, the web chat API, pushed notifications)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

from dialogs.messages import Button, FileReply, Reply


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data = dataclasses.asdict(reply)
    kind = data.pop("kind")
    buttons = [{"label": b["label"], "payload": b["payload"]} for b in data.pop("buttons", [])]
    result: dict[str, Any] = {"type": kind, "text": reply.text, "buttons": buttons}
    if isinstance(reply, FileReply):
        data.pop("content")
        result["content_base64"] = base64.b64encode(reply.content).decode()
    data.pop("text", None)
    if data:
        result["data"] = data
    return result


def buttons_of(replies: list[Reply]) -> list[Button]:
    return [b for r in replies for b in getattr(r, "buttons", ())]
