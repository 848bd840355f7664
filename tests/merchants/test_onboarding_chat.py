"""Applying to sell in the chat (R4.2-1, R4.2-2): "我要开店" on Telegram walks through the application
(bad answers asked again, nothing lost), the special industry's permit is asked for, documents come
as photos; the application reaches the reviewers' queue marked as sent from Telegram; the rejection
and its reasons come back to the same chat in Simplified Chinese, and asking again starts a
resubmission that shows the reasons."""

from __future__ import annotations

from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.api import SYSTEM_ACTOR, Actor
from dialogs.flows.merchant_apply import is_start
from dialogs.messages import Attachment, InboundMessage, TextReply
from tests.merchants.conftest import SHOPPER_CHAT, Team
from tests.merchants.onboarding_support import reviewer


async def say(runtime: Runtime, text: str = "", photo: str | None = None) -> str:
    attachments = (Attachment("image", url=photo),) if photo else ()
    message = InboundMessage("telegram", SHOPPER_CHAT, SHOPPER_CHAT, text, attachments=attachments)
    replies = await runtime.pipeline.handle(message)
    return "\n".join(r.text for r in replies if isinstance(r, TextReply))


def test_the_ways_to_ask() -> None:
    for text in (
        "我要开店",
        "開店",
        "become a seller",
        "/merchant",
        "/merchant@shop_bot",
        "Become a Seller!",
    ):
        assert is_start(text), text
    for text in ("我要退货", "开店时间是几点开始营业的", "seller of this dress?"):
        assert not is_start(text), text


async def test_applying_in_chat_and_hearing_the_decision_there(
    runtime: Runtime, session: RecordingSession, team: Team
) -> None:
    commerce = runtime.commerce
    staff = await reviewer(commerce)
    assert "公司的注册名称" in await say(runtime, "我要开店")
    assert "法定代表人" in await say(runtime, "莲花茶业有限公司")
    assert "联系人" in await say(runtime, "李华")
    assert "联系电话" in await say(runtime, "王芳")
    assert "格式不正确" in await say(runtime, "12")  # asked again, nothing lost
    assert "邮箱" in await say(runtime, "13800138000")
    assert "格式不正确" in await say(runtime, "tea@example")
    industries = await say(runtime, "tea@example.com")
    assert "2. 食品" in industries
    assert "数字" in await say(runtime, "9")
    assert "品牌商品" in await say(runtime, "2")
    assert "营业执照" in await say(runtime, "否")
    assert "照片" in await say(runtime, "好的")  # text is not a document
    assert "税务登记证明" in await say(runtime, photo="tg-file:licence")
    assert "食品经营许可证" in await say(runtime, photo="tg-file:tax")  # food needs its permit
    done = await say(runtime, photo="tg-file:food")
    assert "已提交审核" in done
    assert "正在等待审核" in await say(runtime, "我要开店")

    queued = await commerce.onboarding.queue(SYSTEM_ACTOR)
    assert len(queued) == 1
    application = queued[0]
    assert application.company_name == "莲花茶业有限公司" and application.contact_phone == "+8613800138000"
    assert application.channel == "telegram" and application.language == "zh-Hans"
    assert application.documents == {
        "business_licence": "chat:tg-file:licence",
        "food_permit": "chat:tg-file:food",
        "tax_registration": "chat:tg-file:tax",
    }

    await commerce.onboarding.reject(
        application.public_id, "食品许可证已过期", "请上传有效期内的许可证", Actor(staff.public_id, None)
    )
    before = len(session.calls)
    await runtime.relay_notifications()
    told = [c for c in session.calls[before:] if c.method == "sendMessage" and c.chat_id == SHOPPER_CHAT]
    assert len(told) == 1 and "食品许可证已过期" in str(told[0].params["text"])
    assert "请上传有效期内的许可证" in str(told[0].params["text"])

    again = await say(runtime, "我要开店")
    assert "食品许可证已过期" in again and "公司的注册名称" in again
