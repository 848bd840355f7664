"""Merchants in Telegram: linking the chat with the back office's code, the paid-order message with
only that merchant's lines and a Ship button, and the button acting only for a bound user of that
merchant. Everything goes through the real webhook, pipeline, outbox and a recording bot session."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import Actor, Commerce
from dialogs.messages import InboundMessage, TextReply
from tests.merchants.conftest import SHOPPER_CHAT, Team, bind, paid_two_merchant_order
from tests.telegram.conftest import Shopper
from tests.telegram.test_purchase import Conversation

Client = TestClient[web.Request, web.Application]


async def test_bind_in_telegram_links_the_chat_once_and_wrong_codes_get_one_answer(
    client: Client, channel: TelegramChannel, session: RecordingSession, commerce: Commerce, team: Team
) -> None:
    conv = Conversation(client, channel, session)
    owner = Shopper(user_id=8001, lang="en", name="Ada")
    me = Actor(team.owner_a.public_id, None)
    code = await commerce.operators.issue_binding_code(team.owner_a.public_id, me)

    await conv.post(owner.text("/bind WRONG234"))
    assert "did not work" in conv.text
    assert await commerce.operators.operator_for_identity("telegram", "8001") is None

    await conv.post(owner.text(f"/bind {code.lower()}"))
    assert "linked to your back-office account acme" in conv.text
    bound = await commerce.operators.operator_for_identity("telegram", "8001")
    assert bound is not None and bound.public_id == team.owner_a.public_id

    await conv.post(owner.text(f"/bind {code}"))  # used up: the same neutral answer as a wrong code
    assert "did not work" in conv.text


async def test_bind_in_chinese_answers_in_chinese(
    client: Client, channel: TelegramChannel, session: RecordingSession, commerce: Commerce, team: Team
) -> None:
    conv = Conversation(client, channel, session)
    owner = Shopper(user_id=8002, lang="zh-hans", name="王")
    me = Actor(team.owner_b.public_id, None)
    code = await commerce.operators.issue_binding_code(team.owner_b.public_id, me)
    await conv.post(owner.text(f"绑定 {code}"))
    assert "绑定成功" in conv.text
    assert (await commerce.operators.operator_for_identity("telegram", "8002")) is not None


async def test_bind_from_the_console_links_and_from_the_web_chat_is_refused(
    runtime: Runtime, team: Team
) -> None:
    operators = runtime.commerce.operators
    me = Actor(team.owner_a.public_id, None)

    async def say(channel: str, user: str, text: str) -> str:
        replies = await runtime.pipeline.handle(InboundMessage(channel, user, user, text=text))
        return "\n".join(r.text for r in replies if isinstance(r, TextReply))

    code = await operators.issue_binding_code(team.owner_a.public_id, me)
    answer = await say("web", "w-1", f"/bind {code}")
    assert "Telegram" in answer and await operators.operator_for_identity("web", "w-1") is None
    code = await operators.issue_binding_code(team.owner_a.public_id, me)
    answer = await say("console", "c-1", f"/bind {code}")
    assert "acme" in answer  # linked, and named back to the operator
    assert (await operators.operator_for_identity("console", "c-1")) is not None


async def test_a_paid_order_tells_each_merchant_only_its_own_lines(
    client: Client, channel: TelegramChannel, session: RecordingSession, runtime: Runtime, team: Team
) -> None:
    commerce = runtime.commerce
    await bind(commerce, team.owner_a, "8001")
    await bind(commerce, team.owner_b, "8002")
    number = await paid_two_merchant_order(commerce, team)
    before = len(session.calls)
    await runtime.relay_notifications()
    sent = [c for c in session.calls[before:] if c.method == "sendMessage"]
    to_a = "\n".join(str(c.params["text"]) for c in sent if c.chat_id == "8001")
    to_b = "\n".join(str(c.params["text"]) for c in sent if c.chat_id == "8002")
    # each in the merchant user's own language
    assert number in to_a and "Red Floral Dress" in to_a and "Wrench" not in to_a and "ship to 上海" in to_a
    assert number in to_b and "扳手（size: std）× 2" in to_b and "连衣裙" not in to_b
    assert "收货城市：上海" in to_b
    assert "13812345678" not in to_a + to_b and "世纪大道" not in to_a + to_b  # the city, nothing more
    assert any(c.chat_id == SHOPPER_CHAT for c in sent)  # the shopper's payment confirmation too

    # the Ship button ships only the pressing merchant's part, and only for its own bound user
    conv = Conversation(client, channel, session)
    button_of_a = next(
        b["callback_data"]
        for c in sent
        if c.chat_id == "8001"
        for row in c.params.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    )
    await conv.post(Shopper(user_id=int(SHOPPER_CHAT)).tap(button_of_a))  # the shopper: not theirs
    assert "找不到" in conv.text
    assert await commerce.shipments.unshipped_merchants(number) == [team.acme, team.bolt]

    await conv.post(Shopper(user_id=8001, lang="en").tap(button_of_a))
    assert f"Shipped your part of order {number}" in conv.text
    assert await commerce.shipments.unshipped_merchants(number) == [team.bolt]
    await conv.post(Shopper(user_id=8001, lang="en").tap(button_of_a))  # pressed twice
    assert "already been shipped" in conv.text
    assert (await commerce.orders.get(number)).status == "paid"
