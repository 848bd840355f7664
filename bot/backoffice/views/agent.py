"""The agent console: the handoff queue, one conversation, and what an agent does with it (claim,
assign/transfer, reply, canned reply, private note, hand back to the queue, resolve).

Every action goes through the core's support service, which checks the status machine and writes the
audit log; a reply is sent to the shopper through the outbox. Agents are named by their operator
public id (``assignee``), so a transfer or a rename never loses who has the conversation. The pages
refresh their live parts from :mod:`bot.backoffice.views.agent_stream`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.backoffice.pages import CATALOGUES, field, flash, form, now, operators, redirect, render, visit
from bot.backoffice.views.agent_desk import desk, waited_minutes, wechat_window_closed
from commerce_core.api import (
    FeedbackCategory,
    InvalidInput,
    NotAllowed,
    OperatorRole,
    TicketKind,
    TicketView,
)

NUMBER_LIMIT = 32
REPLY_LIMIT = 2000
CANNED = ("greeting", "checking", "order_status", "anything_else", "goodbye")
STAFF_ROLES = (OperatorRole.AGENT, OperatorRole.ADMIN)
#: refusals with their own explanation on the page; any other reads "agent.refused.other"
REFUSALS = frozenset({"ticket_not_yours", "ticket_closed", "agent_unknown", "illegal_transition"})
CATEGORIES = tuple(category.value for category in FeedbackCategory)


class OutsideWindow(Exception):
    """A WeChat reply outside the customer-service window that the agent did not ask to send as a
    template message (or no template is configured): nothing was sent."""

    def __init__(self, flash_key: str) -> None:
        super().__init__(flash_key)
        self.flash_key = flash_key


def _number(request: web.Request) -> str:
    return request.match_info["number"][:NUMBER_LIMIT]


async def _names(request: web.Request) -> dict[str, str]:
    """Operator public id -> the name staff know them by, for agents and admins."""
    people = [p for role in STAFF_ROLES for p in await operators(request).list_users(role=role)]
    return {p.public_id: p.display_name or p.email for p in people}


async def _queue_context(request: web.Request) -> dict[str, Any]:
    support, moment = desk(request).support, now(request)
    await support.expire_overdue()  # nobody claimed them in time: the shopper is told, the bot is back
    handoffs = await support.queue(TicketKind.HANDOFF)
    tickets = [t for t in await support.queue() if t.kind != TicketKind.HANDOFF]
    waited = {t.number: waited_minutes(t, moment) for t in handoffs + tickets}
    return {"handoffs": handoffs, "tickets": tickets, "waited": waited, "names": await _names(request)}


async def queue(request: web.Request) -> web.StreamResponse:
    return render(request, "agent_queue.html", **await _queue_context(request))


async def queue_rows(request: web.Request) -> web.StreamResponse:
    """The queue's tables alone: what the live stream asks for when something changed."""
    return render(request, "agent_queue_rows.html", **await _queue_context(request))


async def _conversation_context(request: web.Request, ticket: TicketView) -> dict[str, Any]:
    agent_desk = desk(request)
    history = await agent_desk.support.history(ticket.number)
    shopper = await agent_desk.shoppers.file_of(ticket.customer_id) if ticket.customer_id else None
    names = await _names(request)
    mine = ticket.assignee == visit(request).me().public_id
    closed = wechat_window_closed(agent_desk.wechat, ticket, history, now(request))
    return {
        "ticket": ticket,
        "history": history,
        "shopper": shopper,
        "names": names,
        "mine": mine,
        "window_closed": closed,
        "window_hours": agent_desk.wechat.window_hours,
        "template_ready": agent_desk.wechat.template,
        "categories": CATEGORIES,
        "feedback": ticket.kind != TicketKind.HANDOFF,
    }


async def conversation(request: web.Request) -> web.StreamResponse:
    ticket = await desk(request).support.ticket(_number(request))
    context = await _conversation_context(request, ticket)
    return render(request, "agent_conversation.html", canned=CANNED, **context)


async def history(request: web.Request) -> web.StreamResponse:
    """The conversation's messages and status alone, for the live stream (every open tab fetches it
    on every change, so it reads only what the fragment shows: no shopper file)."""
    support = desk(request).support
    ticket = await support.ticket(_number(request))
    lines = await support.history(ticket.number)
    return render(request, "agent_history.html", ticket=ticket, history=lines, names=await _names(request))


async def act(request: web.Request) -> web.StreamResponse:
    """One of the conversation's buttons; the route's ``{action}`` picks which."""
    number, action = _number(request), request.match_info["action"]
    support, me = desk(request).support, visit(request).me().public_id
    values = await form(request)
    found = await support.ticket(number)  # an unknown ticket is a 404 whatever the action
    try:
        if action == "claim":
            await support.claim(number, me)
        elif action == "assign":
            agent = field(values, "agent", 64)
            if agent not in await _names(request):
                raise InvalidInput("no such agent", code="agent_unknown")
            await support.assign_to(number, agent, actor=me)
        elif action == "release":
            await support.release(number, actor=me)
        elif action == "reply":
            canned = field(values, "canned", 32)
            text = field(values, "text", REPLY_LIMIT)
            if canned in CANNED:
                text = _canned(request, found, canned)
            template = await _outside_window(request, found, values.get("template") == "1")
            await support.reply(number, me, text)
            if template:
                await support.audit(me, "ticket_template_sent", "ticket", number, {"channel": "wechat"})
                flash(request, "staffgroup.template_sent")
                raise redirect(request, "agent.conversation", number=number)
        elif action == "feedback":
            category = field(values, "category", 16)
            if category not in CATEGORIES:
                raise InvalidInput("choose a category", code="feedback_category")
            resolution = field(values, "resolution", 500)
            await support.resolve_feedback(
                number, actor=me, category=FeedbackCategory(category), resolution=resolution
            )
        elif action == "note":
            await support.note(number, me, field(values, "text", REPLY_LIMIT))
        else:
            await support.resolve(number, actor=me)
    except OutsideWindow as outside:
        flash(request, outside.flash_key)
        raise redirect(request, "agent.conversation", number=number) from None
    except (InvalidInput, NotAllowed) as refused:
        code = refused.code if refused.code in REFUSALS else "other"
        if action == "feedback":
            flash(request, "staffgroup.refused_feedback")
        else:
            flash(request, f"agent.refused.{code}")
        raise redirect(request, "agent.conversation", number=number) from None
    if action == "feedback":
        flash(request, "staffgroup.done_feedback")
        raise redirect(request, "agent.queue")
    flash(request, f"agent.done.{action}")
    if action == "resolve":
        raise redirect(request, "agent.queue")
    raise redirect(request, "agent.conversation", number=number)


async def _outside_window(request: web.Request, ticket: TicketView, as_template: bool) -> bool:
    """Whether this reply goes as a WeChat template message: True when the window is closed and the
    agent asked for one (a template is configured); raises :class:`OutsideWindow` when it is closed
    and the reply cannot or was not asked to go that way. False: an ordinary reply."""
    agent_desk = desk(request)
    if ticket.channel != "wechat":
        return False
    history = await agent_desk.support.history(ticket.number)
    if not wechat_window_closed(agent_desk.wechat, ticket, history, now(request)):
        return False
    if not agent_desk.wechat.template:
        raise OutsideWindow("staffgroup.wechat_no_template")
    if not as_template:
        raise OutsideWindow("staffgroup.wechat_refused")
    return True


def _shopper_language(ticket: TicketView) -> str:
    return ticket.language or "zh-Hans"


def _canned(request: web.Request, ticket: TicketView, key: str) -> str:
    """A canned reply in the SHOPPER's language (the agent reads the console in theirs)."""
    return request.app[CATALOGUES].text(_shopper_language(ticket), f"agent.canned.{key}")
