"""The Telegram staff group (R5.4-1, R4.4-2): a handed-off conversation opens a forum topic with a
header; the shopper's messages are mirrored there; a bound agent's message in the topic reaches the
shopper's chat; an unbound member is refused; ``/close`` hands back to the bot; the shopper's next
handoff reuses the topic; a deleted topic is made again. Telegram is a recording Bot API session; the
core runs on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod

from bot.channels.telegram.channel import TelegramChannel
from bot.runtime import Runtime
from commerce_core.api import Actor, Commerce, OperatorRole, TicketStatus
from tests.staff.conftest import GROUP, ForumSession, feed, sent
from tests.telegram.conftest import Shopper

STAFF_USER, STRANGER = 880_001, 880_002
SERVER = Actor(operator_id=None, ip=None)


def thread_not_found(method: TelegramMethod[Any]) -> Exception:
    return TelegramBadRequest(method=method, message="Bad Request: message thread not found")


class StaffMember:
    """Updates a member of the staff group sends, in a forum topic or privately to the bot."""

    _ids = itertools.count(700_000)

    def __init__(self, user_id: int) -> None:
        self.user = {"id": user_id, "is_bot": False, "first_name": f"staff{user_id}", "language_code": "en"}

    def private(self, text: str) -> dict[str, Any]:
        chat = {"id": self.user["id"], "type": "private", "first_name": self.user["first_name"]}
        message = {"message_id": next(self._ids), "date": 1_700_000_000, "chat": chat, "from": self.user}
        return {"update_id": next(self._ids), "message": {**message, "text": text}}

    def in_topic(self, thread_id: int, text: str) -> dict[str, Any]:
        chat = {"id": GROUP, "type": "supergroup", "title": "Support", "is_forum": True}
        message = {
            "message_id": next(self._ids),
            "date": 1_700_000_000,
            "chat": chat,
            "from": self.user,
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "text": text,
        }
        return {"update_id": next(self._ids), "message": message}


async def bind_agent(commerce: Commerce, channel: TelegramChannel, rt: Runtime) -> str:
    """An agent account bound to Telegram user STAFF_USER with the console's one-time code."""
    agent = await commerce.operators.create(
        "agent@example.com", "correct horse battery", OperatorRole.AGENT, display_name="Amy", actor=SERVER
    )
    code = await commerce.operators.issue_binding_code(agent.public_id, Actor(agent.public_id, None))
    await feed(rt, channel, StaffMember(STAFF_USER).private(f"/bind {code}"))
    bound = await commerce.operators.operator_for_identity("telegram", str(STAFF_USER))
    assert bound is not None and bound.public_id == agent.public_id
    return agent.public_id


async def test_a_handoff_is_worked_from_its_forum_topic(
    staffed: tuple[Runtime, TelegramChannel, ForumSession],
) -> None:
    rt, channel, session = staffed
    commerce = rt.commerce
    agent = await bind_agent(commerce, channel, rt)
    shopper, staff, stranger = Shopper(user_id=7101), StaffMember(STAFF_USER), StaffMember(STRANGER)

    # the shopper asks for a person: a topic opens in the staff group with a header
    await feed(rt, channel, shopper.text("人工客服"))
    ticket = await commerce.support.active_for("telegram:7101")
    assert ticket is not None and ticket.status == TicketStatus.QUEUED
    [created] = session.of("createForumTopic")
    assert created.params["chat_id"] == GROUP and ticket.number in created.params["name"]
    topic = await commerce.support.staff_topic("telegram:7101")
    assert topic is not None and topic.thread_id == 101
    [header] = sent(session, GROUP, 101)
    assert ticket.number in header and "zh-Hans" in header and "telegram" in header
    assert f"/admin/agent/c/{ticket.number}" in header
    assert "小明" not in header  # the shopper's name is masked

    # what the shopper writes while waiting is mirrored into the topic
    await feed(rt, channel, shopper.text("我的包裹到哪了？"))
    assert any("我的包裹到哪了？" in line for line in sent(session, GROUP, 101))

    # a member who never bound a staff account is refused, and nothing reaches the shopper
    to_shopper = len(sent(session, 7101))
    await feed(rt, channel, stranger.in_topic(101, "hi from a stranger"))
    assert "Only bound staff accounts may answer" in sent(session, GROUP, 101)[-1]
    assert len(sent(session, 7101)) == to_shopper
    assert (await commerce.support.ticket(ticket.number)).status == TicketStatus.QUEUED

    # the bound agent answers in the topic: the conversation is theirs and the shopper gets the text
    await feed(rt, channel, staff.in_topic(101, "您好，我来帮您查一下。"))
    assert any("您好，我来帮您查一下。" in text for text in sent(session, 7101)[to_shopper:])
    claimed = await commerce.support.ticket(ticket.number)
    assert claimed.status == TicketStatus.ASSIGNED and claimed.assignee == agent
    assert not any("您好，我来帮您查一下。" in line for line in sent(session, GROUP))  # not echoed back

    # a reply written in the console is shown in the topic too
    await commerce.support.reply(ticket.number, agent, "Checked: it ships today.")
    await rt.relay_notifications()
    assert any("Checked: it ships today." in line for line in sent(session, GROUP, 101))
    assert sent(session, 7101)[-1].endswith("Checked: it ships today.")

    # /close hands the conversation back to the bot; the shopper is told; every step is audited
    await feed(rt, channel, staff.in_topic(101, "/close"))
    assert await commerce.support.active_for("telegram:7101") is None
    assert (await commerce.support.ticket(ticket.number)).status == TicketStatus.RESOLVED
    assert sent(session, 7101)[-1] == channel.texts.get("zh-Hans", "handoff.resolved")
    actions = [action for actor, action, _ in await commerce.support.audit_trail("ticket", ticket.number)]
    assert {"ticket_assigned", "ticket_replied", "ticket_resolved"} <= set(actions)

    # the shopper comes back: the same topic, a fresh header with the new ticket
    await feed(rt, channel, shopper.text("人工客服"))
    again = await commerce.support.active_for("telegram:7101")
    assert again is not None and again.number != ticket.number
    assert len(session.of("createForumTopic")) == 1
    assert any(again.number in line for line in sent(session, GROUP, 101))

    # staff deleted the topic: the next mirrored message makes a new one (with the header) and lands
    session.fail(thread_not_found, method="sendMessage", chat_id=GROUP)
    await feed(rt, channel, shopper.text("还在吗？"))
    assert len(session.of("createForumTopic")) == 2
    renewed = await commerce.support.staff_topic("telegram:7101")
    assert renewed is not None and renewed.thread_id == 102
    in_new = sent(session, GROUP, 102)
    assert any(again.number in line for line in in_new) and any("还在吗？" in line for line in in_new)


async def test_a_message_in_a_topic_of_an_ended_handoff_says_so(
    staffed: tuple[Runtime, TelegramChannel, ForumSession],
) -> None:
    rt, channel, session = staffed
    await bind_agent(rt.commerce, channel, rt)
    shopper = Shopper(user_id=7102)
    await feed(rt, channel, shopper.text("人工客服"))
    await feed(rt, channel, shopper.text("取消"))
    assert await rt.commerce.support.active_for("telegram:7102") is None
    before = len(sent(session, 7102))
    await feed(rt, channel, StaffMember(STAFF_USER).in_topic(101, "still there?"))
    assert "no open handoff" in sent(session, GROUP, 101)[-1]
    assert len(sent(session, 7102)) == before
