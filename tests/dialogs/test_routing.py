"""R5.2-1 (issue 14): product words reach search even right after ordering; destructive intents need
their own words and confirm naming what will happen; a request for a person hands off at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.orders.types import LineRequest
from dialogs.texts import load_texts
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat

TEXTS = load_texts()
HEADPHONES = {"zh-Hans": "降噪耳机", "zh-Hant": "降噪耳機", "en": "noise cancelling headphones"}
CANCEL = {"zh-Hans": "我要取消订单", "zh-Hant": "我要取消訂單", "en": "please cancel my order"}
PERSON = {"zh-Hans": "转人工", "zh-Hant": "我要找真人客服", "en": "let me talk to a person"}


def prefix(lang: str, key: str) -> str:
    return TEXTS.get(lang, key).split("{")[0]


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_product_words_after_ordering_search_and_cancel_confirms_by_name(
    lang: str, chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    commerce = runtime.container.commerce
    user = f"routing-{lang}"
    customer = await commerce.customers.identify("console", user, language=lang)
    order = await commerce.orders.place(customer.id, ADDRESS, "o", items=[LineRequest("D3-BLU-M", 1)])
    chat = chat_factory(user, lang)
    await chat.say("/lang " + lang)
    await chat.tap(f"order:{order.number}")
    await chat.say(HEADPHONES[lang])
    shown = [i["code"] for r in chat.of_type("product_list") for i in r["data"]["items"]]
    shown += [r["data"]["code"] for r in chat.of_type("product_card")]
    assert "H1" in shown, chat.text
    assert order.number not in chat.text  # no "Cancel order SB…?"
    await chat.say(CANCEL[lang])
    assert prefix(lang, "cancel.confirm") in chat.text and order.number in chat.text, chat.text
    await chat.say(TEXTS.get(lang, "button.cancel"))
    assert (await commerce.orders.get(order.number)).status == "pending_payment"
    await chat.say(PERSON[lang])
    assert chat.of_type("handoff") or prefix(lang, "handoff.queued") in chat.text, chat.text
