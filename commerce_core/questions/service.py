"""Shoppers' product questions routed to the seller (R4.1-4).

A question the bot cannot answer about the product in focus is kept as *offered*; the shopper's
"Ask the seller" button (which carries only the question's random id) sends it, and only the
shopper who wrote it can. The seller's users see the open questions on their own products in the
console and answer; the answer goes to the shopper through the outbox (their language, their
channel), and the answer is audited. Scoped like the rest of the console: another merchant's
question is "not found", exactly like an unknown id.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce_core.catalog.model import Product
from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import ProductQuestionAnswered, ProductQuestionAsked
from commerce_core.ids import new_public_id, normalise_public_id
from commerce_core.operators.audit import add_actor_audit
from commerce_core.operators.types import Actor
from commerce_core.questions.model import ProductQuestion
from commerce_core.questions.types import ANSWER_LIMIT, QUESTION_LIMIT, QuestionStatus, QuestionView
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import clean_text

PREFIX = "PQ"
MAX_LIST = 200


def _view(question: ProductQuestion, product: Product) -> QuestionView:
    return QuestionView(
        question.public_id,
        product.code,
        dict(product.name),
        question.text,
        question.language,
        question.status,
        question.asked_at,
        question.answer,
        question.answered_at,
    )


class ProductQuestions:
    """``commerce.questions``."""

    def __init__(self, units: Units) -> None:
        self._units = units

    async def offer(self, customer_id: int | None, product_code: str, text: str, *, language: str) -> str:
        """Keep a question the bot could not answer; returns its id for the "Ask the seller" button
        (``customer_id`` None: an anonymous chat, whose shopper becomes a customer by asking)."""
        text = clean_text(text, "question", max_length=QUESTION_LIMIT)
        if not text:
            raise InvalidInput("an empty question", code="question_required")
        async with self._units.orm() as uow:
            product = await uow.session.scalar(select(Product).where(Product.code == product_code))
            if product is None:
                raise NotFound("no such product", code="product_not_found")
            public_id = new_public_id(PREFIX)
            uow.session.add(
                ProductQuestion(
                    public_id=public_id,
                    product_id=product.id,
                    merchant_id=product.merchant_id,
                    customer_id=customer_id,
                    text=text,
                    language=language[:8],
                    status=QuestionStatus.OFFERED.value,
                    created_at=uow.now(),
                )
            )
            await uow.commit()
            return public_id

    async def ask(self, public_id: str, customer_id: int) -> QuestionView:
        """The shopper pressed "Ask the seller": the question goes to the seller (once)."""
        async with self._units.orm() as uow:
            # locked: two presses at once must not both send it (the seller is told once)
            question, product = await self._load(uow, public_id, lock=True)
            if question.customer_id not in (None, customer_id):
                raise NotFound("no such question", code="question_not_found")
            if question.status == QuestionStatus.OFFERED.value:
                question.customer_id = customer_id
                question.status = QuestionStatus.OPEN.value
                question.asked_at = uow.now()
                uow.record_status(
                    "product_question", question.id, "offered", "open", f"customer:{customer_id}"
                )
                # once per question: only the offered -> open step emits it, in the same commit
                uow.emit(
                    ProductQuestionAsked(
                        question.public_id, question.merchant_id, product.code, question.text
                    )
                )
            view = _view(question, product)
            await uow.commit()
            return view

    async def for_merchant(
        self, merchant_id: int, *, status: QuestionStatus | None = None, limit: int = 100
    ) -> list[QuestionView]:
        """The questions sent about this merchant's products, open first, newest first."""
        query = (
            select(ProductQuestion, Product)
            .join(Product, Product.id == ProductQuestion.product_id)
            .where(
                ProductQuestion.merchant_id == merchant_id,
                ProductQuestion.status != QuestionStatus.OFFERED.value,
            )
            .order_by(
                ProductQuestion.status.desc(), ProductQuestion.asked_at.desc(), ProductQuestion.id.desc()
            )
            .limit(min(max(limit, 1), MAX_LIST))
        )
        if status is not None:
            query = query.where(ProductQuestion.status == status.value)
        async with self._units.orm() as uow:
            return [_view(q, p) for q, p in (await uow.session.execute(query)).all()]

    async def answer(self, merchant_id: int, public_id: str, actor: Actor, *, text: str) -> QuestionView:
        """The seller's answer: the shopper is told (outbox) and the audit log gets a row."""
        text = clean_text(text, "answer", max_length=ANSWER_LIMIT)
        if not text:
            raise InvalidInput("write an answer", code="answer_required")
        async with self._units.orm() as uow:
            question, product = await self._load(uow, public_id, lock=True)
            if question.merchant_id != merchant_id or question.customer_id is None:
                raise NotFound("no such question", code="question_not_found")
            if question.status != QuestionStatus.OPEN.value:
                raise NotAllowed("this question has been answered", code="question_answered")
            who = f"operator:{actor.operator_id}" if actor.operator_id else "system"
            question.status = QuestionStatus.ANSWERED.value
            question.answer, question.answered_by, question.answered_at = text, who[:64], uow.now()
            uow.record_status("product_question", question.id, "open", "answered", who)
            uow.emit(
                ProductQuestionAnswered(
                    question.public_id, question.customer_id, product.code, question.text, text
                )
            )
            await add_actor_audit(
                uow,
                actor,
                action="question.answer",
                object_type="product_question",
                object_id=question.public_id,
                detail=text,
            )
            view = _view(question, product)
            await uow.commit()
            return view

    @staticmethod
    async def _load(
        uow: UnitOfWork, public_id: str, *, lock: bool = False
    ) -> tuple[ProductQuestion, Product]:
        query = (
            select(ProductQuestion, Product)
            .join(Product, Product.id == ProductQuestion.product_id)
            .where(ProductQuestion.public_id == normalise_public_id(public_id or ""))
        )
        row = (
            await uow.session.execute(query.with_for_update(of=ProductQuestion) if lock else query)
        ).first()
        if row is None:
            raise NotFound("no such question", code="question_not_found")
        return row[0], row[1]
