"""R5.4-1 (issue 14 rough edges) in three scripts: "鞋底开胶了" is a quality problem (always accepted);
a new request typed at the reason step ("我要换大一码" while returning) is honoured, not taken as the
reason (the return becomes an exchange, which records the wanted size); a question at that step is a
digression, and the step resumes after it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from dialogs.texts import load_texts
from tests.dialogs.conftest import Chat
from tests.dialogs.test_reviews import delivered_order

TEXTS = load_texts()
LANGS = ["zh-Hans", "zh-Hant", "en"]
RETURN = {"zh-Hans": "我要退货", "zh-Hant": "我要退貨", "en": "I want to return an item"}
SKIP = {"zh-Hans": "跳过", "zh-Hant": "跳過", "en": "skip"}


async def at_the_reason_step(
    lang: str, user: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> Chat:
    """A shopper with one delivered red dress (size M) who has asked to return it."""
    await delivered_order(runtime.commerce, clock, user, lang, "D1-RED-M")
    chat = chat_factory(user, lang)
    await chat.say(RETURN[lang])
    assert TEXTS.get(lang, "after_sales.ask_reason") in chat.text, chat.text
    return chat


async def the_case(runtime: Runtime, user: str) -> tuple[str, str, str | None]:
    """(kind, reason code, wanted SKU) of the shopper's one case."""
    customer = await runtime.commerce.customers.identify("console", user)
    [case] = await runtime.commerce.after_sales.for_customer(customer.id)
    desk = await runtime.commerce.cases.case(case.number)
    return case.kind, desk.reason_code, desk.wanted_sku


SOLE = {"zh-Hans": "鞋底开胶了", "zh-Hant": "鞋底開膠了", "en": "the sole came unglued"}


@pytest.mark.parametrize("lang", LANGS)
async def test_an_unglued_sole_is_a_quality_problem(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """R5.4-1: quality problems are always accepted, and the shopper is told so."""
    user = f"sole-{lang}"
    chat = await at_the_reason_step(lang, user, chat_factory, runtime, clock)
    await chat.say(SOLE[lang])
    await chat.say(SKIP[lang])
    assert TEXTS.get(lang, "after_sales.quality_note") in chat.text, chat.text
    assert await the_case(runtime, user) == ("return", "quality_issue", None)


BIGGER = {"zh-Hans": "我要换大一码", "zh-Hant": "我要換大一碼", "en": "I want a bigger size instead"}
LARGE = {"zh-Hans": "L", "zh-Hant": "L", "en": "L please"}


@pytest.mark.parametrize("lang", LANGS)
async def test_a_new_request_at_the_reason_step_is_not_taken_as_the_reason(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    """Issue 14: "我要换大一码" at the return's reason step turns the return into an exchange (said so),
    its words are the reason (size), and the exchange records the size wanted."""
    user = f"bigger-{lang}"
    chat = await at_the_reason_step(lang, user, chat_factory, runtime, clock)
    await chat.say(BIGGER[lang])
    kind = TEXTS.get(lang, "case_kind.exchange")
    assert TEXTS.get(lang, "case_switch.switched", kind=kind) in chat.text, chat.text
    await chat.say(SKIP[lang])
    opened = TEXTS.get(lang, "after_sales.opened", number="\x00", kind=kind, due="").split("\x00")[0]
    assert opened in chat.text, chat.text  # "your exchange request is case ..."
    await chat.say(LARGE[lang])
    assert await the_case(runtime, user) == ("exchange", "size_fit", "D1-RED-L")


WHERE = {"zh-Hans": "我的订单到哪了", "zh-Hant": "我的訂單到哪了", "en": "where is my order"}
SMALL = {"zh-Hans": "太小了", "zh-Hant": "太小了", "en": "it is too small"}


@pytest.mark.parametrize("lang", LANGS)
async def test_a_question_at_the_reason_step_is_answered_and_the_step_resumes(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    user = f"digress-{lang}"
    chat = await at_the_reason_step(lang, user, chat_factory, runtime, clock)
    await chat.say(WHERE[lang])
    assert chat.of_type("order"), chat.text  # the question is answered...
    assert TEXTS.get(lang, "flow.resuming") in chat.text  # ...and the return picks up where it was
    assert TEXTS.get(lang, "after_sales.ask_reason_again") in chat.text
    await chat.say(SMALL[lang])
    await chat.say(SKIP[lang])
    assert await the_case(runtime, user) == ("return", "size_fit", None)
