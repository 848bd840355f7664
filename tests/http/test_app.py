"""The HTTP app through aiohttp: the web chat page, the chat API, its guards, health and the sandbox."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.web import WebChannel
from bot.runtime import Runtime
from commerce_core.api import pending_count

Client = TestClient[web.Request, web.Application]
ADDRESS = "张三 13812345678 上海市浦东新区世纪大道100号"


async def chat(client: Client, user: str = "web-tester", **body: Any) -> list[dict[str, Any]]:
    response = await client.post("/api/chat", json={"user": user, **body})
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    replies: list[dict[str, Any]] = (await response.json())["replies"]
    return replies


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b["payload"] for r in replies for b in r["buttons"]]


async def place_order(client: Client, user: str) -> tuple[str, str]:
    """Search to a placed order through the API, pressing buttons by payload; returns (order, payment)."""
    await chat(client, user, text="有没有红色连衣裙", lang="zh-Hans")
    await chat(client, user, payload="p:D1")
    assert "sku:D1-RED-L:1" in payloads(await chat(client, user, payload="add:D1"))
    assert "checkout" in payloads(await chat(client, user, payload="sku:D1-RED-L:1"))
    await chat(client, user, payload="checkout")
    assert "yes:checkout" in payloads(await chat(client, user, text=ADDRESS))  # the flow it answers
    replies = await chat(client, user, payload="yes:checkout")
    [order] = [r for r in replies if r["type"] == "order"]
    [payment] = [r for r in replies if r["type"] == "payment"]
    return order["data"]["number"], payment["data"]["payment_id"]


async def test_index_serves_the_chat_page_under_a_strict_csp(client: Client) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = await response.text()
    assert '<script src="/static/chat.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/chat.css">' in page
    # CSP forbids inline code: every script has a src, no style attributes or blocks, no event handlers.
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", page))
    assert "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    assert "http://" not in page and "https://" not in page  # no CDN or other external host
    assert 'aria-live="polite"' in page and '<label for="input"' in page
    assert 'name="viewport"' in page


async def test_static_assets_are_served_with_their_types_and_nothing_else(client: Client) -> None:
    js = await client.get("/static/chat.js")
    assert js.status == 200 and js.content_type == "application/javascript"
    source = await js.text()
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source and "eval(" not in source
    assert "textContent" in source and "/api/inbox" in source and "lang:" in source
    css = await client.get("/static/chat.css")
    assert css.status == 200 and css.content_type == "text/css"
    assert "@import" not in await css.text()
    for bad in ("/static/app.py", "/static/..%2Fapp.py", "/static/missing.js"):
        assert (await client.get(bad)).status == 404, bad


async def test_a_chat_turn_searches_the_catalogue(client: Client) -> None:
    replies = await chat(client, text="red dress", lang="en")
    [listing] = [r for r in replies if r["type"] == "product_list"]
    items = listing["data"]["items"]
    assert items[0]["code"] == "D1" and items[0]["title"] == "Red Floral Dress"
    assert items[0]["price"] == "¥199.00" and "image" in items[0]
    assert {"label": "1. Red Floral Dress", "payload": "p:D1"} in listing["buttons"]


async def test_bad_requests_are_refused(client: Client) -> None:
    bad_json = await client.post("/api/chat", data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status == 400
    not_object = await client.post("/api/chat", json=["hello"])
    assert not_object.status == 400
    # the client no longer names the shopper (the session cookie does): a "user" of any shape is ignored
    for user in ("", "has space", "<script>", "../etc", None, 42.5):
        response = await client.post("/api/chat", json={"user": user, "text": "hi"})
        assert response.status == 200, user


async def test_cross_origin_posts_are_refused(client: Client) -> None:
    foreign = {"Origin": "https://evil.example"}
    response = await client.post("/api/chat", json={"user": "web-x", "text": "hi"}, headers=foreign)
    assert response.status == 403
    assert (await client.post("/sandbox/pay/PY1", headers=foreign)).status == 403
    own = {"Origin": f"http://{client.server.host}:{client.server.port}"}
    response = await client.post("/api/chat", json={"user": "web-x", "text": "hi"}, headers=own)
    assert response.status == 200


async def test_healthz_reports_database_and_redis(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_demo_images_are_generated_svg(client: Client) -> None:
    response = await client.get("/media/demo/P0001-1.svg")
    assert response.status == 200 and response.content_type == "image/svg+xml"
    assert (await response.text()).startswith("<svg") and "P0001" in await response.text()


async def test_sandbox_pay_page_pays_and_the_confirmation_reaches_the_inbox(client: Client) -> None:
    user = "web-payer"
    number, payment = await place_order(client, user)
    page = await client.get(f"/sandbox/pay/{payment}")
    assert page.status == 200 and "Content-Security-Policy" in page.headers
    body = await page.text()
    assert payment in body and "<form method=post>" in body
    paid = await client.post(f"/sandbox/pay/{payment}")
    assert paid.status == 200 and "captured" in await paid.text()
    inbox = await (await client.get("/api/inbox", params={"user": user})).json()
    [pushed] = inbox["replies"]
    assert pushed["pushed"] is True and "已收到订单" in pushed["text"] and number in pushed["text"]
    assert (await (await client.get("/api/inbox", params={"user": user})).json())["replies"] == []
    assert (await client.post("/sandbox/pay/PYNOSUCHPAY")).status == 404


async def test_a_sandbox_button_in_the_chat_pushes_the_confirmation_in_the_same_response(
    client: Client,
) -> None:
    user = "web-button-payer"
    number, payment = await place_order(client, user)
    replies = await chat(client, user, payload=f"sbxpay:{payment}")
    pushed = [r for r in replies if r.get("pushed")]
    assert pushed and "已收到订单" in pushed[0]["text"] and number in pushed[0]["text"]


async def test_markup_in_a_message_comes_back_only_as_json_text(client: Client) -> None:
    evil = "<script>alert(1)</script> 连衣裙"
    response = await client.post("/api/chat", json={"user": "web-xss", "text": evil})
    assert response.status == 200
    # JSON, never HTML, and browsers may not sniff it into a page; the page inserts text with textContent.
    assert response.content_type == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    replies = (await response.json())["replies"]
    assert replies and all(isinstance(r["text"], str) for r in replies)
    for reply in replies:
        for item in reply.get("data", {}).get("items", []):
            assert "<" not in item["title"]


async def test_the_app_refuses_oversized_bodies(client: Client) -> None:
    response = await client.post("/api/chat", json={"user": "web-big", "text": "x" * 70_000})
    assert response.status == 413


async def test_the_pay_button_relays_only_the_payers_notifications(client: Client, runtime: Runtime) -> None:
    """Issue 16: the pay button's answer holds the payer's confirmation; another shopper's pending
    notification is left to the relay, which delivers it once (the payer's is not delivered again)."""
    jar = client.session.cookie_jar
    other_number, other_payment = await place_order(client, "web-other")
    [other_cookie] = [f"{c.key}={c.value}" for c in jar if c.key == "shopbot_session"]
    await runtime.relay_notifications()  # what placing the order queued: not what this test is about
    await runtime.container.commerce.payments.sandbox_pay(other_payment)  # paid, not yet relayed
    jar.clear()  # a second shopper (a new session)
    number, payment = await place_order(client, "web-payer")
    replies = await chat(client, payload=f"sbxpay:{payment}")
    pushed = [r["text"] for r in replies if r.get("pushed")]
    assert any(number in text for text in pushed) and not any(other_number in text for text in pushed)
    assert await pending_count(runtime.container.commerce.sessions) >= 1  # the other shopper's
    jar.clear()
    inbox = await client.get("/api/inbox", headers={"Cookie": other_cookie})
    assert (await inbox.json())["replies"] == []
    assert await runtime.relay_notifications() >= 1
    assert await runtime.relay_notifications() == 0
    inbox = await client.get("/api/inbox", headers={"Cookie": other_cookie})
    [confirmation] = (await inbox.json())["replies"]
    assert other_number in confirmation["text"] and "已收到订单" in confirmation["text"]
    assert (await (await client.get("/api/inbox")).json())["replies"] == []  # no second copy for anyone


async def test_the_answer_takes_the_language_from_the_turn_without_reading_the_state_again(
    client: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16: the answer's ``lang`` (the page's header follows a typed language switch) comes from
    the state the turn just saved, not from a second read of it; a message answered from the stored
    reply (a retried id: no turn ran) still gets the conversation's language, read as before."""
    web_channel = runtime.channels["web"]
    assert isinstance(web_channel, WebChannel)
    reads: list[str] = []
    states = runtime.pipeline.states
    load, pushed_and_state = states.load, web_channel._pushed_and_state

    async def counted_load(conversation: str) -> Any:
        reads.append("load")
        return await load(conversation)

    async def counted_pushed_and_state(user: str, conversation: str) -> Any:
        reads.append("pushed_and_state")
        return await pushed_and_state(user, conversation)

    monkeypatch.setattr(states, "load", counted_load)
    monkeypatch.setattr(web_channel, "_pushed_and_state", counted_pushed_and_state)

    async def answer(**body: Any) -> dict[str, Any]:
        response = await client.post("/api/chat", json=body)
        assert response.status == 200, await response.text()
        found: dict[str, Any] = await response.json()
        return found

    number, payment = await place_order(client, "web-lang")
    switched = await answer(payload="lang:en", id="switch-1")
    assert switched["lang"] == "en" and reads == []
    paid = await answer(payload=f"sbxpay:{payment}")
    assert any(number in r["text"] for r in paid["replies"] if r.get("pushed")) and paid["lang"] == "en"
    assert reads == []  # the pay button's relay found the shopper from the saved state too
    again = await answer(payload="lang:en", id="switch-1")  # the page retried: the stored reply
    assert again["lang"] == "en" and reads == ["pushed_and_state"]


async def test_pay_buttons_pressed_at_once_each_answer_with_their_own_confirmation_once(
    client: Client, runtime: Runtime
) -> None:
    """Issue 16: the pay buttons' rounds share one outbox relay (and its writes); two shoppers paying
    at the same moment each get their confirmation in their answer, not the other's, and nobody gets a
    second copy later."""
    jar, sessions = client.session.cookie_jar, []
    orders = []
    for user in ("web-payer-a", "web-payer-b"):
        jar.clear()
        orders.append(await place_order(client, user))
        [cookie] = [f"{c.key}={c.value}" for c in jar if c.key == "shopbot_session"]
        sessions.append(cookie)
    jar.clear()

    async def pay(cookie: str, payment: str) -> list[str]:
        response = await client.post(
            "/api/chat", json={"payload": f"sbxpay:{payment}"}, headers={"Cookie": cookie}
        )
        assert response.status == 200, await response.text()
        return [r["text"] for r in (await response.json())["replies"] if r.get("pushed")]

    answers = await asyncio.gather(
        *(pay(c, payment) for c, (_, payment) in zip(sessions, orders, strict=True))
    )
    for pushed, (number, _), (other, _) in zip(answers, orders, orders[::-1], strict=True):
        assert any(number in text and "已收到订单" in text for text in pushed)
        assert not any(other in text for text in pushed)
    await runtime.relay_notifications()  # what is left (the merchant's): nothing more for the payers
    for cookie in sessions:
        inbox = await client.get("/api/inbox", headers={"Cookie": cookie})
        assert (await inbox.json())["replies"] == []
