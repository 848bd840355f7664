"""The dialog engine: picks what to do with one interpreted message and runs it.

Order of precedence: operator commands (``/bind CODE``), language switches, button payloads, global
interrupts (human, help, cancel, back), the step the active flow is waiting on (unless the shopper
clearly digresses, in which case the flow is suspended and resumed afterwards), then the intent's own
flow, and finally the fallback that offers a person after repeated misunderstandings.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from dialogs import buttons, forms, refine
from dialogs.context import Turn
from dialogs.flows import (
    account,
    after_sales,
    cart,
    checkout,
    operator_chat,
    orders,
    receipt,
    shopping,
    smalltalk,
    support,
)
from dialogs.flows import merchant_apply as merchant_apply
from dialogs.flows import parcel_problem as parcel_problem
from dialogs.flows.base import StepSpec
from dialogs.flows.registry import FLOWS, waiting_step
from dialogs.language import DEFAULT_HINT_CHANNELS, detected_language, requested_language
from dialogs.payloads import Human, Popular
from dialogs.routing import GUARDED_INTENTS, has_evidence, outside_catalogue, routed_intent
from dialogs.state import ConversationState
from nlu import Hints

Step = Callable[[Turn], Awaitable[None]]
__all__ = ["CONFIDENT", "FLOWS", "INTENTS", "TASKS", "Engine", "waiting_step"]


INTENTS: dict[str, Step] = {
    "greet": support.greet,
    "goodbye": support.goodbye,
    "thanks": support.thanks,
    "help": support.help_,
    "search_product": shopping.search,
    "product_details": shopping.details,
    "recommend": shopping.recommend,
    "add_to_cart": cart.add,
    "view_cart": cart.view,
    "edit_cart": cart.edit,
    "checkout": checkout.start,
    "pay": orders.pay,
    "payment_methods": orders.payment_methods,
    "order_status": orders.status,
    "cancel_order": orders.cancel,
    "change_address": orders.change_address,
    "return_refund": after_sales.start,
    "exchange": after_sales.start,
    "repair": after_sales.start,
    "complaint": support.complaint,
    "human_agent": support.human,
    "account": account.account,
    "privacy": account.privacy,
    "become_merchant": merchant_apply.start,
    "smalltalk": smalltalk.answer,
}
#: what a shopper may do without being a customer yet (web chat: no customer row until one is needed):
#: greetings, help, browsing the catalogue, asking how to pay; everything else ensures the customer
ANONYMOUS_INTENTS = frozenset(
    {"greet", "goodbye", "thanks", "help", "search_product", "product_details", "recommend"}
    | {"payment_methods", "smalltalk"}
)
ANONYMOUS_PAYLOADS = frozenset({"more", "popular", "help", "lang", "p", "similar"})
#: intents that are a task of their own: saying one of these mid-flow is a digression
TASKS = frozenset(INTENTS) - {"greet", "thanks", "goodbye", "smalltalk"}
CONFIDENT = 0.5
_CANCEL = re.compile(
    r"^\s*(cancel|stop|never ?mind|quit|取消|算了|不要了|不用了|退出)\s*[!！。.]?\s*$", re.IGNORECASE
)
#: a shopper on a new device (or who lost the web cookie) asks to get back into their account
_SIGN_IN = re.compile(r"^\s*(sign ?in|log ?in|登录|登入|登錄|登陆)\s*[!！。.]?\s*$", re.IGNORECASE)
_BACK = re.compile(r"^\s*(back|go back|返回|上一步|回去)\s*$", re.IGNORECASE)


def media_reply(turn: Turn) -> None:
    """What the shopper sent has no words we can use: say so, and say what does work."""
    kinds = {a.kind for a in turn.message.attachments}
    key = "media.voice" if "voice" in kinds else "media.image" if "image" in kinds else "media.other"
    turn.say(key, turn.button("button.popular", Popular()), turn.button("button.human", Human()))


def _shared_details(turn: Turn) -> bool:
    """A contact card or a location: details the flows use (phone binding, the address)."""
    return any(a.kind in ("contact", "location") for a in turn.message.attachments)


class Engine:
    def hints(self, state: ConversationState) -> Hints:
        """What the NLU should expect: the slot the waiting step asks for, and the user's language."""
        step = waiting_step(state)
        return Hints(expected_slot=step.expects if step else None, lang=state.lang)

    def active_step(self, turn: Turn) -> StepSpec | None:
        return waiting_step(turn.state)

    async def handle(self, turn: Turn) -> None:
        state = turn.state
        state.turns += 1
        misunderstood = state.misunderstood
        text = turn.message.effective_text
        if not turn.message.payload and await operator_chat.handle_command(turn, text):
            return  # "/bind CODE": an operator linking this chat, not a shopper's request
        if not turn.message.payload and merchant_apply.is_start(text):
            await merchant_apply.start(turn)  # "/merchant", "我要开店", "become a seller" (R4.2-1)
            return
        wanted = requested_language(text) if not turn.message.payload else None
        if wanted:
            await account.set_language(turn, wanted)
            await self._resume(turn)
            return
        detected = detected_language(
            turn.nlu,
            state.lang,
            first=state.turns == 1 and not turn.message.payload,
            hinted=bool(turn.message.language_hint),
            default_hint=turn.message.channel in DEFAULT_HINT_CHANNELS,
        )
        if not turn.has_customer and self._needs_customer(turn):
            await turn.ensure_customer()
        if detected and detected != state.lang:
            state.lang = detected
            if turn.has_customer:  # otherwise the state carries it to the customer when one is made
                await turn.commerce.customers.set_language(turn.customer_id, detected)
        if turn.message.payload:
            await buttons.press(turn, turn.message.payload)
        else:
            await self._text(turn, text)
        if state.misunderstood == misunderstood:
            state.misunderstood = 0
        if any(r.kind in ("cart", "order", "payment", "tracking", "handoff") for r in turn.replies):
            state.looking_at = None  # the shopper moved on from the card: "recommend" is general again
        if state.active is None and state.suspended:
            await self._resume(turn)

    @staticmethod
    def _needs_customer(turn: Turn) -> bool:
        """Will this turn touch the shopper's own things (cart, orders, addresses, phone, tickets)?
        Decided the way :meth:`_text` dispatches, erring towards yes: a customer too many is only a
        row; a flow reading ``customer_id`` without one would fail the turn."""
        payload = turn.message.payload
        if payload:
            return payload.split(":", 1)[0] not in ANONYMOUS_PAYLOADS
        state, nlu = turn.state, turn.nlu
        if state.active is not None or state.suspended or nlu.entity("order_number"):
            return True
        if _SIGN_IN.match(turn.message.effective_text):
            return True
        confident = nlu.confidence >= CONFIDENT * 0.6
        return confident and nlu.intent in INTENTS and nlu.intent not in ANONYMOUS_INTENTS

    async def _text(self, turn: Turn, text: str) -> None:
        state = turn.state
        if parcel_problem.is_report(text) and (state.active is None or state.active.flow != "after_sales"):
            await parcel_problem.start(turn)  # "我的包裹有问题", "快遞丟了": a case, not a dead end
            return
        intent = routed_intent(turn.nlu)
        if intent == "human_agent" and turn.nlu.confidence >= CONFIDENT:
            await support.human(turn)
            return
        if _SIGN_IN.match(text):
            await account.sign_in(turn)
            return
        if state.active is not None and _CANCEL.match(text):
            state.active = None
            turn.say("flow.cancelled")
            return
        if state.active is not None and _BACK.match(text):
            state.active = None
            if not state.suspended:
                await support.help_(turn)
            return
        step = self.active_step(turn)
        if step is not None:
            if self._digression(turn, step):
                assert state.active is not None
                if FLOWS[state.active.flow].resume is not None:
                    state.suspended.append(state.active)  # e.g. checkout: picked up again afterwards
                state.active = None  # a flow that cannot re-ask (choosing a size) is simply left
            else:
                await self._run_step(turn, step)
                return
        elif state.active is not None:
            state.active = None  # a step this version no longer knows: start afresh
        if not text.strip() and turn.message.attachments and not _shared_details(turn):
            media_reply(turn)  # a voice note we could not hear, a sticker, a file: a polite word back
            return
        if self._is_selection(turn):
            if not refine.selection_out_of_range(turn):
                await shopping.details(turn)
            return
        if (intent not in GUARDED_INTENTS or refine.changes_the_list(turn)) and await refine.handle(turn):
            return
        if await receipt.handle_text(turn):
            return
        if intent == "smalltalk" or (intent in INTENTS and turn.nlu.confidence >= CONFIDENT * 0.6):
            await INTENTS[intent](turn)
        elif turn.nlu.entity("product") or turn.nlu.entity("category"):
            await shopping.search(turn)
        elif turn.nlu.entity("order_number"):
            await orders.status(turn)
        elif await shopping.exact_words(turn):
            return
        elif turn.nlu.intent == "out_of_scope" and turn.nlu.confidence >= 0.7 and not turn.nlu.entities:
            await smalltalk.answer(turn)  # clearly not about shopping: a friendly word, not "I don't get it"
        else:
            await support.fallback(turn)

    @staticmethod
    async def _run_step(turn: Turn, step: StepSpec) -> None:
        """Run the waiting step; one that keeps getting answers it cannot use offers a person."""
        state = turn.state
        before = state.active.model_copy(deep=True) if state.active else None
        await step.run(turn)
        if before is None or state.active != before:
            state.step_failures = 0
            return
        state.step_failures += 1
        if state.step_failures >= turn.settings.max_misunderstandings:
            state.step_failures = 0
            turn.say("form.offer_human", turn.button("button.human", Human()))

    @staticmethod
    def _is_selection(turn: Turn) -> bool:
        """ "第二个", "the last one", "3" right after a list: the shopper picks an item to look at."""
        if not turn.state.shown_products:
            return False
        ordinal = turn.nlu.entity("ordinal")
        text = turn.nlu.text.strip()
        if ordinal is None:
            return text.isascii() and text.isdigit() and 1 <= int(text) <= len(turn.state.shown_products)
        rest = (text[: ordinal.start] + text[ordinal.end :]).strip(" 的吧呢啊呀。.!！?？")
        return len(rest) <= 2 and ordinal.value.get("ordinal") != 0

    def _digression(self, turn: Turn, step: StepSpec) -> bool:
        nlu = turn.nlu
        if not step.interruptible or routed_intent(nlu) not in TASKS or nlu.confidence < CONFIDENT:
            return False
        if turn.message.attachments:
            return False
        frame = turn.state.active
        if frame is not None and nlu.intent in FLOWS[frame.flow].own_intents:
            return False
        if step.expects == "affirm" and nlu.intent in ("affirm", "deny"):
            return False
        if (
            step.expects == "address"
            and forms.read_parts(nlu.text).as_slots()
            and not has_evidence(routed_intent(nlu), outside_catalogue(nlu))
        ):
            return False  # a name, phone or address line: part of the answer, whatever it sounds like
        if step.expects == "address" and (
            nlu.entity("phone")
            or (
                len(nlu.text) > 12
                and nlu.intent not in ("order_status", "cancel_order", "human_agent", "view_cart")
            )
        ):
            return False
        answered = step.expects is not None and nlu.entity(step.expects) is not None
        return not (answered and nlu.intent not in ("order_status", "view_cart"))

    async def _resume(self, turn: Turn) -> None:
        state = turn.state
        if state.active is None and state.suspended:
            state.active = state.suspended.pop()
        frame = state.active
        if frame is None:
            return
        flow = FLOWS.get(frame.flow)
        if flow is not None and flow.resume is not None:
            turn.say("flow.resuming")
            await flow.resume(turn)
