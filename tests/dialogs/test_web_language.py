"""R5.4-1 (issue 14 rough edges): the web chat's answer carries the conversation's language, so the
page header follows a typed switch ("English please", "繁體中文") and not only the language buttons."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.http.conftest import client  # noqa: F401

Client = TestClient[web.Request, web.Application]


async def turn(client: Client, **body: str) -> dict[str, object]:  # noqa: F811
    response = await client.post("/api/chat", json=body)
    assert response.status == 200, await response.text()
    data: dict[str, object] = await response.json()
    return data


async def test_a_typed_language_switch_reaches_the_page(client: Client) -> None:  # noqa: F811
    assert (await turn(client, text="你好", lang="zh-Hans"))["lang"] == "zh-Hans"
    assert (await turn(client, text="English please", lang="zh-Hans"))["lang"] == "en"
    assert (await turn(client, text="繁體中文", lang="en"))["lang"] == "zh-Hant"
    assert (await turn(client, text="简体中文", lang="zh-Hant"))[
        "lang"
    ] == "zh-Hans"  # every script, both ways


def test_the_page_applies_the_language_it_is_given() -> None:
    script = (Path(__file__).resolve().parents[2] / "bot" / "http" / "static" / "chat.js").read_text("utf-8")
    assert "followLanguage(json && json.lang)" in script
    body = script.split("function followLanguage", 1)[1].split("function chooseLanguage", 1)[0]
    assert "applyLanguage()" in body
