"""A shopper's "problem with my parcel" opens a case for the merchant (R4.4-3, R5.4-1): in zh-Hans,
zh-Hant and English the chat answers with a case number, the merchant of the items and the staff desk
see the case, asking again keeps the same case, and an order that has not shipped is not a parcel.
"""

from __future__ import annotations

import re

import pytest

from bot.channels.console import ConsoleSession
from bot.runtime import Runtime
from commerce_core.api import CaseItemRequest, CaseKind
from commerce_core.clock import FakeClock
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import ADDRESS
from tests.dialogs.conftest import Chat
from tests.merchants.conftest import Team

SAID = {
    "zh-Hans": ["我的包裹有问题", "快递丢了"],
    "zh-Hant": ["我的包裹有問題", "快遞丟了"],
    "en": ["there is a problem with my parcel", "my parcel is lost"],
}
OPENED = {"zh-Hans": "已为订单", "zh-Hant": "已為訂單", "en": "I've opened case"}
CASE_NUMBER = re.compile(r"\b(AS[0-9A-Z]+)\b")


async def shipped_order(runtime: Runtime, user: str, lang: str, key: str) -> tuple[int, str]:
    commerce = runtime.commerce
    customer = await commerce.customers.identify("console", user, language=lang)
    order = await commerce.orders.place(customer.id, ADDRESS, key, items=[LineRequest("D2-BLK-S", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await commerce.shipments.ship(order.number)
    return customer.id, order.number


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
async def test_reporting_a_parcel_problem_opens_one_case_the_merchant_and_desk_see(
    lang: str, runtime: Runtime, team: Team
) -> None:
    commerce = runtime.commerce
    user = f"parcel-{lang}"
    _, number = await shipped_order(runtime, user, lang, f"pp-{lang}")
    chat = Chat(ConsoleSession(runtime, user, language=lang, numbered_buttons=False))
    first, again = SAID[lang]
    await chat.say(first)
    assert OPENED[lang] in chat.text and number in chat.text, chat.text
    found = CASE_NUMBER.search(chat.text)
    assert found, chat.text
    case = await commerce.cases.case(found.group(1))
    assert case.kind == "parcel_problem" and case.order_number == number and case.status == "open"

    await chat.say(again)  # the same parcel reported again: the same case, not a second one
    assert found.group(1) in chat.text
    mine = await commerce.case_parties.for_merchant(team.acme)
    assert [c.number for c in mine if c.order_number == number] == [found.group(1)]
    assert found.group(1) not in [c.number for c in await commerce.case_parties.for_merchant(team.bolt)]
    assert found.group(1) in [c.number for c in await commerce.cases.queue()]


async def test_an_unshipped_order_or_no_order_is_told_clearly(runtime: Runtime, team: Team) -> None:
    commerce = runtime.commerce
    customer = await commerce.customers.identify("console", "parcel-none", language="en")
    chat = Chat(ConsoleSession(runtime, "parcel-none", language="en", numbered_buttons=False))
    await chat.say("my parcel is lost")
    assert "can't find a shipped order" in chat.text
    order = await commerce.orders.place(customer.id, ADDRESS, "unpaid", items=[LineRequest("D2-BLK-S", 1)])
    await chat.say(f"problem with my parcel {order.number}")
    assert "has not been shipped yet" in chat.text and order.number in chat.text
    assert await commerce.cases.queue() == []


async def test_a_parcel_report_does_not_block_a_return_later(
    runtime: Runtime, team: Team, clock: FakeClock
) -> None:
    """A report claims no items: after delivery the same item can still be returned."""
    commerce = runtime.commerce
    customer_id, number = await shipped_order(runtime, "parcel-return", "en", "pp-return")
    await commerce.after_sales.report_parcel_problem(customer_id, number, reason_code="damaged_in_transit")
    clock.advance(days=9)
    await commerce.shipments.refresh_open()
    case = await commerce.after_sales.open(
        customer_id, number, CaseKind.RETURN, [CaseItemRequest(1, 1)], reason_code="damaged_in_transit"
    )
    assert case.kind == "return"
