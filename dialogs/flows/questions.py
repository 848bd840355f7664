"""Product questions the bot cannot answer go to the seller (R4.1-4).

While a product is in focus, a question its card does not answer ("这个可以机洗吗", "is it
waterproof?") gets the card and an "Ask the seller" button instead of a guess: the card answers
material, size, colour, price, stock and reviews, so questions about those are left to it. Pressing
the button sends the question to the seller's users in the back office; their answer reaches the
shopper through the outbox, in the shopper's language, on the channel they use.
"""

from __future__ import annotations

import re

from commerce_core.api import InvalidInput, NotFound, ProductView
from dialogs.context import Turn
from dialogs.payloads_questions import AskSeller

#: a question, in the three languages: a question mark or particle at the end, or a yes/no opening
_QUESTION = re.compile(
    r"[?？]\s*$|[吗嗎么麼呢]\s*[?？。.]?\s*$|能不能|可不可以|會不會|会不会|是不是"
    r"|^\s*(is|are|does|do|can|will|would|should|could|has|have)\b",
    re.IGNORECASE,
)
#: what the product card itself answers: those questions get the card, not the seller
_CARD_ANSWERS = re.compile(
    r"材质|材料|面料|成分|尺码|尺寸|大小|颜色|顏色|价格|價格|多少钱|多少錢|库存|庫存|有货|有貨|评价|評價|品牌"
    r"|material|fabric|made of|size|colou?r|price|cost|how much|in stock|stock|review|rating|brand",
    re.IGNORECASE,
)
#: entities the card answers (a colour or size asked about is a variant question)
_CARD_ENTITIES = frozenset({"color", "size", "price", "product", "category", "brand"})


def unanswered(turn: Turn) -> bool:
    """Whether the text is a question about the product in focus that its card does not answer."""
    text = turn.nlu.text.strip()
    if not text or len(text) > 200 or not _QUESTION.search(text) or _CARD_ANSWERS.search(text):
        return False
    return not any(e.type in _CARD_ENTITIES for e in turn.nlu.entities)


async def offer(turn: Turn, product: ProductView) -> bool:
    """Offer to ask the seller; False when the question cannot be kept (the card is shown as usual)."""
    customer = turn.customer_id if turn.has_customer else None
    try:
        question_id = await turn.commerce.questions.offer(
            customer, product.code, turn.nlu.text, language=turn.lang
        )
    except (NotFound, InvalidInput):
        return False
    turn.say("questions.offer", turn.button("questions.ask_button", AskSeller(question_id)))
    return True


async def ask(turn: Turn, question_id: str) -> None:
    customer_id = await turn.ensure_customer()
    try:
        await turn.commerce.questions.ask(question_id, customer_id)
    except NotFound:
        turn.say("questions.gone")
        return
    turn.say("questions.sent")
