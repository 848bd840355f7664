"""R5.2-4 (issue 14): the checkout address step keeps what it gets, in three scripts.

Name, phone and address arrive in one, two or three messages in any order, or as a Telegram contact and
a shared location; the step asks only for what is missing; a step that keeps failing offers a person.
The confirmation shows the lines without +/- buttons, so "1" typed in the console places the order
instead of adding a unit (R4.1-3).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.channels.console import ConsoleSession
from bot.runtime import Runtime
from dialogs.messages import Attachment, InboundMessage
from dialogs.texts import load_texts
from tests.dialogs.conftest import Chat

LANGS = ["zh-Hans", "zh-Hant", "en"]
CHECKOUT = {"zh-Hans": "去结算", "zh-Hant": "去結帳", "en": "checkout"}
NAME = {"zh-Hans": "张三丰", "zh-Hant": "張三豐", "en": "Li Lei"}
PHONE = "13812345678"
LINE = {
    "zh-Hans": "上海市浦东新区世纪大道100号8楼",
    "zh-Hant": "上海市浦東新區世紀大道100號8樓",
    "en": "100 Century Avenue, Pudong, Shanghai",
}
TEXTS = load_texts()


def splits(lang: str) -> dict[int, list[str]]:
    """The same address in one, two and three messages, in different orders."""
    name, line = NAME[lang], LINE[lang]
    return {
        1: [f"{name} {PHONE} {line}" if lang != "en" else f"{name}, {PHONE}, {line}"],
        2: [line, f"{name} {PHONE}"],
        3: [PHONE, line, name],
    }


def confirm_prefix(lang: str) -> str:
    return TEXTS.get(lang, "checkout.confirm").split("{")[0][:10]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("messages", [1, 2, 3])
async def test_address_in_one_two_or_three_messages(
    lang: str, messages: int, chat_factory: Callable[..., Chat], runtime: Runtime
) -> None:
    chat = chat_factory(f"addr-{lang}-{messages}", lang)
    await chat.tap("sku:D3-BLU-M:1")
    await chat.say(CHECKOUT[lang])
    parts = splits(lang)[messages]
    for number, part in enumerate(parts, start=1):
        await chat.say(part)
        if number < len(parts):  # asks only for what is still missing, never "couldn't read"
            assert TEXTS.get(lang, "form.ask_missing").split("{")[0] in chat.text, (part, chat.text)
            assert TEXTS.get(lang, "form.part.phone") not in chat.text or PHONE not in "".join(parts[:number])
    assert confirm_prefix(lang) in chat.text, chat.text
    customer = await runtime.container.commerce.customers.identify("console", chat.session.user_id)
    [saved] = await runtime.container.commerce.customers.addresses(customer.id)
    assert saved.address.recipient == NAME[lang]
    assert saved.address.phone.endswith("5678")


@pytest.mark.parametrize("lang", LANGS)
async def test_only_the_missing_part_is_asked_for(lang: str, chat_factory: Callable[..., Chat]) -> None:
    chat = chat_factory(f"missing-{lang}", lang)
    await chat.tap("sku:D3-BLU-M:1")
    await chat.say(CHECKOUT[lang])
    await chat.say(f"{NAME[lang]} {PHONE}")
    assert TEXTS.get(lang, "form.part.line") in chat.text
    assert TEXTS.get(lang, "form.part.name") not in chat.text
    assert TEXTS.get(lang, "form.part.phone") not in chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_a_step_that_keeps_failing_offers_a_person(
    lang: str, chat_factory: Callable[..., Chat]
) -> None:
    chat = chat_factory(f"fails-{lang}", lang)
    await chat.tap("sku:D3-BLU-M:1")
    await chat.say(CHECKOUT[lang])
    await chat.say("???")
    assert not [b for r in chat.last for b in r["buttons"] if b["payload"] == "human"]
    await chat.say("...")
    assert TEXTS.get(lang, "form.offer_human") in chat.text
    await chat.press("human")
    assert chat.of_type("text") or chat.text


@pytest.mark.parametrize("lang", LANGS)
async def test_telegram_contact_and_location_fill_the_address(lang: str, runtime: Runtime) -> None:
    user = f"tg-addr-{lang}"
    session = ConsoleSession(runtime, user, language=lang, numbered_buttons=False)
    await session.press("sku:D3-BLU-M:1")
    await session.send(CHECKOUT[lang])
    contact = Attachment("contact", phone="+8613812345678", name=NAME[lang])
    location = Attachment("location", latitude=31.2, longitude=121.5, label=LINE[lang])
    for number, attachment in enumerate((contact, location)):
        message = InboundMessage(
            "console", user, user, attachments=(attachment,), dedup_key=f"{user}-{number}"
        )
        replies = await runtime.pipeline.handle(message)
    assert confirm_prefix(lang) in "\n".join(r.text for r in replies)


@pytest.mark.parametrize("lang", LANGS)
async def test_replying_1_at_the_confirmation_places_the_order_not_another_unit(
    lang: str, runtime: Runtime
) -> None:
    session = ConsoleSession(runtime, f"one-{lang}", language=lang)  # numbered buttons, as in a terminal
    await session.press("sku:D3-BLU-M:1")
    await session.send(CHECKOUT[lang])
    replies = await session.send(splits(lang)[1][0])
    [cart] = [r for r in replies if r["type"] == "cart"]
    assert not cart["buttons"]  # no +/- before "Place order"
    replies = await session.send("1")
    [order] = [r for r in replies if r["type"] == "order"]
    assert [line["quantity"] for line in order["data"]["lines"]] == [1]
