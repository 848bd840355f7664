"""Finding 8 through the pipeline on SQLite and PostgreSQL: text with superscript and other non-ASCII
digits, NUL and control characters, after a product list, in the address form and the phone and code
steps, is answered in words (never an exception) and the conversation goes on."""

from __future__ import annotations

import itertools

import pytest

from bot.runtime import Runtime
from dialogs.messages import InboundMessage, Reply

_users = itertools.count()
HOSTILE = ["²", "٣", "１", "3²", "\x00", "红色\x00", "\x07\x1b[31m", "\u202e2", "sku:D1-RED-M:²", "9" * 400]


async def say(runtime: Runtime, user: str, text: str = "", payload: str | None = None) -> list[Reply]:
    message = InboundMessage("console", user, user, text, payload, language_hint="en")
    return await runtime.pipeline.handle(message)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
async def test_hostile_text_after_a_list_and_in_forms_is_answered(runtime: Runtime) -> None:
    for opener in ("dresses", "bind my phone", "13812345678"):
        for text in HOSTILE:
            user = f"hostile-{next(_users)}"
            if opener == "13812345678":
                await say(runtime, user, "bind my phone")
            await say(runtime, user, opener)
            replies = await say(runtime, user, text)
            assert replies and all(r.text or getattr(r, "kind", "") for r in replies), (opener, text)
            after = await say(runtime, user, "help")
            assert after, (opener, text)
