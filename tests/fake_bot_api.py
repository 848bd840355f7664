"""What the fake Bot APIs of the tests read from a call: its parameters, from a JSON body or a form.

The channel posts JSON bodies (``bot.channels.telegram.botapi``) and multipart forms for uploads; the
real Bot API reads both. The fakes were written against forms, so this gives a JSON body's parameters
the shape a form has: every value a string, nested objects (``reply_markup``) as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def _as_form_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


async def bot_api_params(request: web.Request) -> dict[str, Any]:
    """The call's parameters, as a form would carry them (strings; nested values as JSON text)."""
    if request.content_type == "application/json":
        body = await request.json()
        return {key: _as_form_value(value) for key, value in body.items()} if isinstance(body, dict) else {}
    return dict(await request.post())
