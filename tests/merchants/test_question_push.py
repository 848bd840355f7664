"""A shopper's new product question reaches the seller's users in their chats (R4.1-4, R4.4-1).

Every user of the merchant with a bound Telegram identity is told once, in their own language: the
product's name, the question, and the console link where it is answered; nothing about the shopper.
Through the outbox relay: a chat that failed gets it on the retry, the others do not get it twice;
pressing "Ask the seller" again sends nothing new; another merchant's users hear nothing.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession, server_error
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, OperatorRole
from commerce_core.clock import FakeClock
from tests.backoffice.conftest import PASSWORD, Browser
from tests.merchants.conftest import Team, bind
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Conversation

Client = TestClient[web.Request, web.Application]
OWNER_EN, STAFF_HANT, BOLT_HANS = "8201", "8202", "8203"


async def test_a_new_question_is_pushed_once_to_each_seller_user_in_their_language(
    client: Client,
    channel: TelegramChannel,
    session: RecordingSession,
    runtime: Runtime,
    team: Team,
    clock: FakeClock,
    browser: Browser,
) -> None:
    commerce = runtime.commerce
    staff = await commerce.operators.create(
        "staff@acme.example",
        PASSWORD,
        OperatorRole.MERCHANT_STAFF,
        merchant_code="acme",
        display_name="acme staff",
        language="zh-Hant",
        actor=SYSTEM_ACTOR,
    )
    await bind(commerce, team.owner_a, OWNER_EN)
    await bind(commerce, staff, STAFF_HANT)
    await bind(commerce, team.owner_b, BOLT_HANS)

    conv = Conversation(client, channel, session)
    ann = Shopper(user_id=7201, lang="en", name="Annabel")
    await conv.post(ann.text("red floral dress"))
    await conv.post(ann.text("1"))
    await conv.post(ann.text("is it waterproof?"))
    ask = conv.callback("t|askq:")
    question_id = ask.split("askq:", 1)[1]
    await conv.post(ann.tap(ask))
    assert "Sent to the seller" in conv.text

    before = len(session.calls)
    session.fail(server_error, chat_id=STAFF_HANT, times=5)  # the sender's every attempt fails
    await runtime.relay_notifications()
    to_owner = session.texts_to(OWNER_EN, before)
    assert len(to_owner) == 1, to_owner
    assert "A shopper asked about Red Floral Dress" in to_owner[0] and "is it waterproof?" in to_owner[0]
    assert f"/admin/merchant/questions#{question_id}" in to_owner[0]
    assert "Annabel" not in to_owner[0] and "7201" not in to_owner[0]  # nothing about the shopper
    assert session.texts_to(STAFF_HANT, before) == []
    assert session.texts_to(BOLT_HANS, before) == []  # not bolt's product

    clock.advance(minutes=10)  # the outbox retries the event: only the chat that missed it is told
    await runtime.relay_notifications()
    to_staff = session.texts_to(STAFF_HANT, before)
    assert len(to_staff) == 1 and "紅色碎花連衣裙" in to_staff[0] and "「is it waterproof?」" in to_staff[0]
    assert "請在商家後台回覆" in to_staff[0]
    assert len(session.texts_to(OWNER_EN, before)) == 1

    await conv.post(ann.tap(ask))  # pressed again: already sent, the seller is not told twice
    clock.advance(minutes=10)
    await runtime.relay_notifications()
    assert len(session.texts_to(OWNER_EN, before)) == 1 and len(session.texts_to(STAFF_HANT, before)) == 1

    # the link opens the console's list at that question
    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/questions")
    assert status == 200 and f'id="{question_id}"' in page and "is it waterproof?" in page

    # bolt's owner reads Simplified Chinese
    asked = await commerce.questions.offer(None, "B1", "这个扳手防锈吗", language="zh-Hans")
    await commerce.questions.ask(asked, team.shopper)
    await runtime.relay_notifications()
    to_bolt = session.texts_to(BOLT_HANS, before)
    assert len(to_bolt) == 1 and "有买家问了 扳手 的问题：“这个扳手防锈吗”" in to_bolt[0]
    assert f"#{asked}" in to_bolt[0] and len(session.texts_to(OWNER_EN, before)) == 1
