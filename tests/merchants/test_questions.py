"""Shoppers' product questions the bot cannot answer reach the seller (R4.1-4): from the product in
focus, "这个可以机洗吗" offers "Ask the seller"; the question appears in that merchant's console (and
in no other merchant's), the merchant answers, and the shopper is told in their language on Telegram.
Questions the card answers (material, colour) get the card and no offer."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import AuditFilter
from tests.backoffice.conftest import Browser
from tests.merchants.conftest import SHOPPER_CHAT, Team
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Conversation

Client = TestClient[web.Request, web.Application]


async def test_a_question_goes_to_the_seller_and_the_answer_comes_back(
    client: Client,
    channel: TelegramChannel,
    session: RecordingSession,
    runtime: Runtime,
    team: Team,
    browser: Browser,
) -> None:
    """R4.1-4: ask, see it in acme's console only, answer, the shopper reads it in Chinese."""
    conv = Conversation(client, channel, session)
    shopper = Shopper(user_id=int(SHOPPER_CHAT), lang="zh-hans")
    await conv.post(shopper.text("有没有红色连衣裙"))
    await conv.post(shopper.text("第一个"))
    assert "红色碎花连衣裙" in conv.text
    await conv.post(shopper.text("这个是什么材质"))  # the card answers it: no offer
    assert "问问卖家" not in conv.text
    await conv.post(shopper.text("这个可以机洗吗"))
    assert "要帮您问问卖家吗" in conv.text
    ask = conv.callback("t|askq:")
    await conv.post(shopper.tap(ask))
    assert "已转给卖家" in conv.text

    await browser.login("owner@bolt.example")
    status, page = await browser.get("/admin/merchant/questions")
    assert status == 200 and "这个可以机洗吗" not in page
    question_id = ask.split("askq:", 1)[1]
    status, _ = await browser.post(f"/admin/merchant/questions/{question_id}/answer", {"answer": "mine"})
    assert status == 404  # bolt cannot answer acme's question, nor learn it exists
    await browser.post("/admin/logout", {})

    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/questions")
    assert status == 200 and "这个可以机洗吗" in page and "Red Floral Dress" in page
    _, rows = await browser.get("/admin/merchant/questions/rows")
    assert "这个可以机洗吗" in rows and "<html" not in rows.lower()
    status, page = await browser.post(f"/admin/merchant/questions/{question_id}/answer", {"answer": " "})
    assert status == 400 and "Write an answer first" in page
    status, page = await browser.post(
        f"/admin/merchant/questions/{question_id}/answer", {"answer": "可以，30度以下轻柔机洗"}
    )
    assert status == 200 and "Answer sent" in page and "30度以下轻柔机洗" in page
    status, page = await browser.post(f"/admin/merchant/questions/{question_id}/answer", {"answer": "again"})
    assert status == 400 and "already been answered" in page
    audit = await runtime.commerce.operators.audit_log(AuditFilter(action="question.answer"))
    assert [a.object_id for a in audit] == [question_id]

    before = len(session.calls)
    await runtime.relay_notifications()
    told = [
        str(c.params["text"])
        for c in session.calls[before:]
        if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT
    ]
    assert len(told) == 1
    assert "卖家回复了您的问题" in told[0] and "这个可以机洗吗" in told[0] and "30度以下轻柔机洗" in told[0]


async def test_english_question_offers_ask_the_seller_and_a_forged_button_asks_nothing(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime, team: Team
) -> None:
    """R4.1-4: in English too; another shopper pressing the same button sends nothing of theirs."""
    conv = Conversation(client, channel, session)
    shopper = Shopper(user_id=7101, lang="en", name="Ann")
    await conv.post(shopper.text("red floral dress"))
    await conv.post(shopper.text("1"))
    await conv.post(shopper.text("does it come in red?"))
    assert "Ask the seller" not in conv.text  # a colour: the card's variants answer it
    await conv.post(shopper.text("is it waterproof?"))
    assert "Shall I ask the seller?" in conv.text
    ask = conv.callback("t|askq:")
    other = Shopper(user_id=7102, lang="en", name="Bob")
    await conv.post(other.tap(ask))
    await conv.post(shopper.tap(ask))  # the asker's own press still sends it
    await conv.post(other.tap(ask))
    assert "can no longer be sent" in conv.text
    asked = await runtime.commerce.questions.for_merchant(team.acme)
    assert [q.text for q in asked] == ["is it waterproof?"] and asked[0].language == "en"

    # the question is the shopper's data: in their export, and gone when they are erased
    asker = await runtime.commerce.customers.identify("telegram", "7101")
    exported = await runtime.commerce.privacy.export(asker.id)
    assert [q["question"] for q in exported["product_questions"]] == ["is it waterproof?"]
    await runtime.commerce.privacy.erase(asker.id, actor="test")
    assert await runtime.commerce.questions.for_merchant(team.acme) == []
