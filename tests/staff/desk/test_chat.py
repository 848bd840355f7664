"""The shopper's side of the desk in the chat (console channel, real NLU and dialogs): asking how a
case is going in each language, typing the return parcel without any button, answering staff's
question, and a typed reason like "鞋底开胶了" counted as a quality problem (always accepted).

Requirements: R5.4-1, R4.4-2.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.runtime import Runtime
from commerce_core.api import Actor, CaseKind, DomainError, FakeClock
from dialogs.flows.case_desk import classify_reason
from tests.dialogs.conftest import Chat
from tests.staff.desk.conftest import buttons, delivered, open_case, pushed, texts

STAFF = Actor(None, None)  # the system: what a CLI operator would be


async def test_status_questions_in_three_languages_get_the_status_and_next_step(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    hant = await delivered(runtime, clock, "st-hant", "zh-Hant")
    en = await delivered(runtime, clock, "st-en", "en", sku="H1-BLK", quantity=1)
    hans = await delivered(runtime, clock, "st-hans", "zh-Hans")
    returned = await open_case(commerce, hant, CaseKind.RETURN, reason="quality_issue")
    repair = await open_case(commerce, en, CaseKind.REPAIR, reason="broken", quantity=1)

    await commerce.cases.accept(returned.number, STAFF)
    chat = chat_factory("st-hant", "zh-Hant")
    await chat.say("我的退貨怎麼樣了")
    assert returned.number in chat.text and "已受理" in chat.text
    assert "商家稍後會告訴您退貨地址" in chat.text  # the next step: no address yet

    await commerce.cases.accept(repair.number, STAFF)
    await commerce.cases.repair(repair.number, STAFF, stage="received")
    await commerce.cases.repair(repair.number, STAFF, stage="diagnosing")
    chat = chat_factory("st-en", "en")
    await chat.say("where is my repair")
    assert repair.number in chat.text and "Repair stage: diagnosing" in chat.text and "Next:" in chat.text

    chat = chat_factory("st-hans", "zh-Hans")
    await chat.say("我的退货怎么样了")
    assert "还没有售后单" in chat.text and "退货" in chat.text
    assert await commerce.after_sales.for_customer(hans.customer_id) == []  # asking opened nothing


async def test_the_return_parcel_typed_in_and_an_answer_to_staff(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "typer", "zh-Hans")
    case = await open_case(commerce, shop, CaseKind.RETURN)
    chat = chat_factory("typer", "zh-Hans")

    await commerce.cases.ask_info(case.number, STAFF, question="请拍一张吊牌的照片。")
    asked = await pushed(runtime, "typer")
    assert "请拍一张吊牌的照片" in texts(asked)
    await chat.tap(buttons(asked)[0])
    await chat.say("吊牌还在，没剪")
    assert "已加入售后单" in chat.text
    reopened = await commerce.cases.case(case.number)
    assert reopened.status == "open" and reopened.progress[-1]["note"] == "吊牌还在，没剪"

    acme = (await commerce.merchants.get("acme")).id
    address = "杭州市文一西路 88 号"
    await commerce.case_parties.merchant_accept(acme, case.number, STAFF, returns_address=address)
    await pushed(runtime, "typer")
    await chat.say("退货已经寄出了，顺丰单号SF2233445566778")
    assert "SF2233445566778" in chat.text and "已记录" in chat.text
    parcel = await commerce.shipments.parcel("SF2233445566778")  # a shipment like any other
    assert parcel.order_number == shop.order_number and parcel.carrier == "顺丰"
    with pytest.raises(DomainError) as again:  # the same waybill cannot serve twice
        await commerce.case_parties.return_parcel(
            shop.customer_id, case.number, carrier="顺丰", tracking_number="SF2233445566778"
        )
    assert again.value.code in ("case_not_waiting", "tracking_in_use")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("鞋底开胶了", "quality_issue"),
        ("鞋底開膠了", "quality_issue"),
        ("穿了两天就开线了", "quality_issue"),
        ("the sole came unglued after a week", "quality_issue"),
        ("the zip is broken", "quality_issue"),
        ("快递压坏了", "damaged_in_transit"),
        ("尺码太小", "size_fit"),
        ("就是不想要了", "changed_mind"),
        ("没什么原因", "other"),
    ],
)
def test_typed_reasons_are_classified(typed: str, code: str) -> None:
    assert classify_reason(typed) == code


async def test_a_sole_that_came_unglued_opens_a_quality_case(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "sole", "zh-Hans")
    clock.advance(days=30)  # long past the return window: only a quality problem is still accepted
    chat = chat_factory("sole", "zh-Hans")
    await chat.say("我要退货")
    await chat.say("鞋底开胶了")
    await chat.say("跳过")
    [case] = await commerce.after_sales.for_customer(shop.customer_id)
    assert case.reason_code == "quality_issue" and case.quality_issue and case.number in chat.text


async def test_an_exchange_opened_in_the_chat_records_the_wanted_size(
    chat_factory: Callable[..., Chat], runtime: Runtime, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    shop = await delivered(runtime, clock, "swap", "en")
    chat = chat_factory("swap", "en")
    await chat.say("I want to exchange my dress")
    await chat.say("it is too small")
    await chat.say("skip")
    assert "Available:" in chat.text and "red / L" in chat.text
    await chat.say("L please")
    assert "red / L" in chat.text
    [case] = await commerce.after_sales.for_customer(shop.customer_id)
    assert case.kind == "exchange" and (await commerce.cases.case(case.number)).wanted_sku == "D1-RED-L"
