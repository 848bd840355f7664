"""Shoppers' product questions in the merchant console (R4.1-4): the questions about my products
the bot could not answer, and my answer, which reaches the shopper on their channel.

Scoping is by the signed-in operator's ``merchant_id`` only: another merchant's question is 404,
exactly like an unknown id. The list refreshes itself (htmx polls its rows), so a new question shows
up without a reload.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bot.backoffice.pages import field, flash, form, redirect, render, text, visit
from commerce_core.api import ANSWER_LIMIT, Actor, DomainError, QuestionStatus, QuestionView

ID_LIMIT = 24


class QuestionDesk(Protocol):
    """What these pages need from the core (``commerce.questions``)."""

    async def for_merchant(
        self, merchant_id: int, *, status: QuestionStatus | None = None, limit: int = 100
    ) -> list[QuestionView]: ...
    async def answer(self, merchant_id: int, public_id: str, actor: Actor, *, text: str) -> QuestionView: ...


MERCHANT_QUESTIONS: web.AppKey[QuestionDesk] = web.AppKey("backoffice.merchant_questions", QuestionDesk)


def _desk(request: web.Request) -> QuestionDesk:
    if MERCHANT_QUESTIONS not in request.app:
        raise web.HTTPNotFound()
    return request.app[MERCHANT_QUESTIONS]


def _merchant_id(request: web.Request) -> int:
    merchant_id = visit(request).me().merchant_id
    if merchant_id is None:  # a merchant role always has one; refuse rather than show anyone's
        raise web.HTTPNotFound()
    return merchant_id


async def questions(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    listed = await _desk(request).for_merchant(_merchant_id(request))
    return render(request, "merchant_questions.html", status=status, questions=listed, error=error)


async def question_rows(request: web.Request) -> web.StreamResponse:
    listed = await _desk(request).for_merchant(_merchant_id(request))
    return render(request, "merchant_question_rows.html", questions=listed)


async def answer(request: web.Request) -> web.StreamResponse:
    public_id = request.match_info["question"][:ID_LIMIT]
    merchant_id = _merchant_id(request)
    values = await form(request)
    written = field(values, "answer", ANSWER_LIMIT)
    if not written:
        return await questions(request, error=text(request, "questions.answer_required"), status=400)
    try:
        await _desk(request).answer(merchant_id, public_id, visit(request).actor, text=written)
    except DomainError as refused:
        if refused.code == "question_not_found":
            raise web.HTTPNotFound() from None
        key = "questions.already_answered" if refused.code == "question_answered" else "form.invalid"
        return await questions(request, error=text(request, key), status=400)
    flash(request, "questions.answer_sent")
    raise redirect(request, "merchant.questions")
