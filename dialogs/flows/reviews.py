"""Reviews (R5.3-1): after delivery the shopper rates each item 1-5 and may add a comment; the product
card shows the average and the latest comments.

Why the stars come before the comment: one tap is enough to rate; the comment is optional (a "Skip"
button, or anything typed is the comment). Whether the shopper may rate a product is the core's
decision from their own orders (never the button's), asked before the comment so a forged or stale
button gets its answer at once. A comment the automated checks flag is held for staff: the shopper is
told it will appear once checked, and it counts nowhere until then.
"""

from __future__ import annotations

from commerce_core.api import (
    RATING_MAX,
    RATING_MIN,
    IllegalTransition,
    InvalidInput,
    NotAllowed,
    NotFound,
    ReviewStatus,
    ReviewSummary,
    pick_language,
)
from dialogs.context import Turn
from dialogs.flows.base import Flow, StepSpec
from dialogs.messages import Button
from dialogs.payloads import Skip
from dialogs.payloads_reviews import RateProduct, ReviewOrder

FLOW = "reviews"
SKIP_WORDS = ("skip", "跳过", "跳過", "不用了", "没有", "沒有", "no", "none")
RECENT = 3


def stars(rating: int) -> str:
    return "★" * rating + "☆" * (RATING_MAX - rating)


def rate_buttons(turn: Turn, code: str) -> list[Button]:
    return [
        b
        for rating in range(RATING_MIN, RATING_MAX + 1)
        for b in Button.offer(turn.t("reviews.star_button", stars="★" * rating), RateProduct(code, rating))
    ]


def order_button(turn: Turn, number: str) -> Button:
    return turn.button("reviews.rate_button", ReviewOrder(number))


async def ask(turn: Turn, number: str) -> None:
    """The shopper's received order: one question with stars per product not yet rated."""
    customer_id = await turn.ensure_customer()
    try:
        items = await turn.commerce.product_reviews.reviewable(customer_id, number)
    except NotFound:
        turn.say("order.not_found", number=number)
        return
    except NotAllowed:
        turn.say("reviews.not_received")
        return
    waiting = [item for item in items if not item.reviewed]
    if not waiting:
        turn.say("reviews.all_done")
        return
    turn.say("reviews.ask_intro", number=number)
    for item in waiting:
        turn.say(
            "reviews.ask_item",
            *rate_buttons(turn, item.product_code),
            name=pick_language(item.name, turn.lang),
        )


async def rate(turn: Turn, code: str, rating: int) -> None:
    """Stars pressed: check the shopper may rate this product, then ask for the optional comment."""
    customer_id = await turn.ensure_customer()
    refusal = await turn.commerce.product_reviews.refusal(customer_id, code)
    if refusal is not None:
        turn.say(f"reviews.refused.{refusal}")
        return
    turn.begin(FLOW, "comment", code=code, rating=rating)
    turn.say("reviews.ask_comment", turn.button("button.skip", Skip(FLOW)), stars=stars(rating))


async def on_comment(turn: Turn) -> None:
    """The comment (anything typed), or none (the Skip button, "skip", "跳过")."""
    code, rating = str(turn.slots["code"]), int(turn.slots["rating"])
    text = turn.nlu.text.strip()
    skipped = bool(turn.message.payload) or text.casefold() in SKIP_WORDS
    turn.finish()
    try:
        review = await turn.commerce.product_reviews.submit(
            turn.customer_id, code, rating, None if skipped else text
        )
    except IllegalTransition:
        turn.say("reviews.refused.already_reviewed")
        return
    except NotAllowed:
        turn.say("reviews.refused.not_received")
        return
    except NotFound:
        turn.say("product.gone")
        return
    except InvalidInput:
        turn.begin(FLOW, "comment", code=code, rating=rating)
        turn.say("reviews.too_long", turn.button("button.skip", Skip(FLOW)))
        return
    turn.say("reviews.held" if review.status is ReviewStatus.HELD else "reviews.thanks")


async def review_lines(turn: Turn, code: str) -> list[str]:
    """The lines a product card shows about its reviews (none before the first published one)."""
    return card_lines(turn, await turn.commerce.product_reviews.summary(code, recent=RECENT))


def card_lines(turn: Turn, reviews: ReviewSummary | None) -> list[str]:
    """The card's review lines: "★ 4.5 (2 reviews)" and the latest comments with their stars."""
    if reviews is None or reviews.average is None:
        return []
    lines = [turn.t("reviews.card_average", average=f"{reviews.average:.1f}", count=reviews.count)]
    lines += [
        turn.t("reviews.card_comment", stars=stars(r.rating), comment=r.comment) for r in reviews.recent
    ]
    return lines


async def start(turn: Turn) -> None:
    """Not started by an intent: the stars button begins this flow."""
    turn.say("reviews.no_order")


REVIEWS = Flow(FLOW, start, {"comment": StepSpec(on_comment, expects=None, interruptible=False)})
