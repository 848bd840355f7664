"""Rendering: HTML escaping, 4,096-character split, callback data within 64 bytes, edits in place."""

from __future__ import annotations

from aiogram.methods import EditMessageText, SendInvoice, SendMessage, SendPhoto
from aiohttp import web
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.telegram import callbacks
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.render import MAX_TEXT, RenderContext, Renderer, built, e, split_text
from bot.channels.telegram.session import RecordingSession
from bot.infra.redis import make_redis
from dialogs.messages import Button, PaymentRequest, ProductCard, ProductList, ProductListItem, TextReply
from dialogs.texts import load_texts
from tests.telegram.conftest import SECRET, Shopper, body

Client = TestClient[web.Request, web.Application]


def renderer() -> Renderer:
    return Renderer(load_texts(), make_redis("memory://"), public_base_url="https://shop.example")


@given(st.text(alphabet="ab<>&\n 中", max_size=9000))
def test_split_keeps_every_character_and_fits_after_escaping(text: str) -> None:
    chunks = split_text(text)
    assert all(len(e(c)) <= MAX_TEXT for c in chunks)
    assert "".join(chunks).replace("\n", "") == text.replace("\n", "")


async def test_long_text_is_split_and_escaped_with_buttons_on_the_last_part() -> None:
    text = "<b>merchant</b> & co\n" + ("很长的说明 " * 1500)
    items = await renderer().render([TextReply(text, (Button("OK", "yes"),))], RenderContext(1))
    methods = [i.method for i in items]
    assert len(methods) >= 2 and all(isinstance(m, SendMessage) for m in methods)
    assert all(isinstance(m, SendMessage) and len(m.text) <= 4096 for m in methods)
    first, last = methods[0], methods[-1]
    assert isinstance(first, SendMessage) and first.text.startswith("&lt;b&gt;merchant&lt;/b&gt; &amp; co")
    assert isinstance(last, SendMessage) and last.reply_markup is not None and first.reply_markup is None


async def test_callback_data_fits_64_bytes_and_long_payloads_round_trip() -> None:
    redis = make_redis("memory://")
    long_payload = "sku:" + "连衣裙" * 30
    for payload in ("p:D1", "sku:D1-RED-M:1", long_payload, "a|b"):
        data = await callbacks.pack(payload, redis)
        assert len(data.encode()) <= 64
        assert await callbacks.unpack(data, redis) == payload
    # data we cannot read back asks the dialogs to say the button is out of date (it used to be dropped)
    assert await callbacks.unpack("*", redis) == callbacks.UNREADABLE == "expired"
    assert await callbacks.unpack("IntValue;fontSize;Font Size;-1", redis) == callbacks.UNREADABLE
    assert await callbacks.unpack("r|" + "0" * 24, redis) == callbacks.UNREADABLE  # its Redis key expired
    assert await callbacks.unpack(None, redis) is None


async def test_product_card_is_a_photo_with_an_escaped_caption() -> None:
    card = ProductCard(
        "D9",
        "<script>x</script>",
        "¥1.00",
        "desc & more",
        "/media/d9.jpg",
        3,
        ("颜色：红",),
        None,
        (Button("加入购物车", "add:D9"),),
    )
    [item] = await renderer().render([card], RenderContext(5))
    assert isinstance(item.method, SendPhoto)
    assert item.method.photo == "https://shop.example/media/d9.jpg"
    assert "&lt;script&gt;" in (item.method.caption or "") and "desc &amp; more" in (
        item.method.caption or ""
    )
    assert item.fallback is not None  # if Telegram cannot fetch the picture: the text
    assert isinstance(built(item.fallback), SendMessage)
    svg = ProductCard("D8", "t", "¥1.00", "d", "/media/demo/D8.svg", 3)
    [text_only] = await renderer().render([svg], RenderContext(5))
    assert isinstance(text_only.method, SendMessage)


async def test_paging_edits_the_message_the_button_was_on() -> None:
    listing = ProductList(
        "结果",
        (ProductListItem(6, "D6", "<i>六</i>", "¥6.00", None, 1),),
        2,
        True,
        7,
        (Button("更多", "more"),),
    )
    ctx = RenderContext(5, edit_message_id=77, edit_kinds=frozenset({"product_list"}))
    [item] = await renderer().render([listing], ctx)
    assert isinstance(item.method, EditMessageText) and item.method.message_id == 77
    assert "&lt;i&gt;六&lt;/i&gt;" in str(item.method.text)


async def test_stars_invoice_needs_no_provider_token() -> None:
    request = PaymentRequest("O1", "PAY1", "telegram", 50, "XTR", "⭐50", None, "请付款")
    items = await Renderer(load_texts(), make_redis("memory://")).render([request], RenderContext(5))
    invoice = items[-1].method
    assert isinstance(invoice, SendInvoice) and invoice.currency == "XTR" and invoice.provider_token is None
    assert invoice.payload == "PAY1:O1"
    card = PaymentRequest("O2", "PAY2", "telegram", 19900, "CNY", "¥199.00", None, "请付款")
    [only] = await Renderer(load_texts(), make_redis("memory://")).render([card], RenderContext(5))
    assert isinstance(only.method, SendMessage)  # no provider token configured: said, not invoiced


async def test_cart_plus_minus_edits_the_cart_message(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    shopper = Shopper(9001)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for update in (shopper.tap("t|sku:D1-RED-M:1"), shopper.text("购物车")):
        await client.post("/telegram/webhook", data=body(update), headers=headers)
        await channel.drain()
    cart = session.calls[-1]
    keyboard = cart.params["reply_markup"]["inline_keyboard"]
    assert [b["callback_data"] for b in keyboard[0]] == ["t|inc:D1-RED-M", "t|dec:D1-RED-M"]
    await client.post(
        "/telegram/webhook", data=body(shopper.tap("t|inc:D1-RED-M", message_id=555)), headers=headers
    )
    await channel.drain()
    edits = session.of("editMessageText")
    assert edits and edits[-1].params["message_id"] == 555 and "×2" in edits[-1].params["text"]


async def test_shared_location_and_own_contact_fill_the_address(
    client: Client, channel: TelegramChannel, session: RecordingSession
) -> None:
    shopper = Shopper(9002)
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    contact = {"phone_number": "13812345678", "first_name": "张三", "user_id": 9002}
    for update in (
        shopper.tap("t|sku:D1-RED-M:1"),
        shopper.text("结算"),
        shopper.message(location={"latitude": 31.2304, "longitude": 121.4737}),
        shopper.message(contact=contact),
    ):
        await client.post("/telegram/webhook", data=body(update), headers=headers)
        await channel.drain()
    text = "\n".join(str(c.params.get("text", "")) for c in session.calls[-3:])
    assert "138******78" in text
    # someone else's contact card is not taken as the shopper's number
    await client.post(
        "/telegram/webhook", data=body(shopper.message(contact={**contact, "user_id": 1})), headers=headers
    )
    await channel.drain()
    assert "本人" in session.calls[-1].params["text"]
