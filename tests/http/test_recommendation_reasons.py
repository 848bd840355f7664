"""R5.3-2 in the web chat: a shopper who bought and viewed, then asks for recommendations, gets each
item's reason in the JSON the page draws (data.items[].reason, drawn under the item by chat.js, see
test_browser) and in the reply's plain text, in the shopper's language; the card opened from the
list repeats it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.web_session import COOKIE, WebSession
from bot.runtime import Runtime
from tests.dialogs.reasons import RECOMMEND, VIEWED, buy_d1, expected

Client = TestClient[web.Request, web.Application]


async def turn(client: Client, lang: str, **body: Any) -> list[dict[str, Any]]:
    response = await client.post("/api/chat", json={**body, "lang": lang})
    assert response.status == 200, await response.text()
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    return replies


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_each_recommended_item_says_why_in_the_chat_json(
    lang: str, client: Client, runtime: Runtime
) -> None:
    """R5.3-2: every recommended item carries its reason; the card opened from the list repeats it."""
    await turn(client, lang, payload=f"p:{VIEWED}")  # the black dress's card: a view (and a session)
    [token] = [c.value for c in client.session.cookie_jar if c.key == COOKIE]
    await buy_d1(runtime.commerce, "web", WebSession(token, issued=False).pseudonym, lang)
    await turn(client, lang, payload="orders")
    [listing] = [r for r in await turn(client, lang, text=RECOMMEND[lang]) if r["type"] == "product_list"]
    reasons = {item["code"]: item["reason"] for item in listing["data"]["items"]}
    want = await expected(runtime.commerce, lang)
    assert reasons == {code: reason for code, (_title, reason) in want.items()}
    for title, reason in want.values():
        assert f"{title} " in listing["text"] and f"\n   {reason}" in listing["text"]
    [card] = [r for r in await turn(client, lang, payload="p:D3") if r["type"] == "product_card"]
    assert card["data"]["reason"] == want["D3"][1] and want["D3"][1] in card["text"]
