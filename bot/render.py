"""Replies as plain JSON (console --json, the web chat API, pushed notifications)."""

from __future__ import annotations

import base64
import copy
import dataclasses
from typing import Any

from dialogs.messages import Button, FileReply, Reply


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """The reply as JSON: type, text, buttons (label and payload) and any other fields under ``data``.

    Field by field rather than ``dataclasses.asdict`` of the whole reply, which deep-copied every button
    and the text only to drop them again (a tenth of the web chat's own CPU in issue 16's profile)."""
    buttons = [{"label": b.label, "payload": b.payload} for b in getattr(reply, "buttons", ())]
    result: dict[str, Any] = {"type": reply.kind, "text": reply.text, "buttons": buttons}
    skipped = {"kind", "buttons", "text"}
    if isinstance(reply, FileReply):
        skipped.add("content")
        result["content_base64"] = base64.b64encode(reply.content).decode()
    data = {
        field.name: _plain(getattr(reply, field.name))
        for field in dataclasses.fields(reply)
        if field.name not in skipped
    }
    if data:
        result["data"] = data
    return result


def _plain(value: Any) -> Any:
    """What ``dataclasses.asdict`` makes of one field's value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    return copy.deepcopy(value)


def buttons_of(replies: list[Reply]) -> list[Button]:
    return [b for r in replies for b in getattr(r, "buttons", ())]
