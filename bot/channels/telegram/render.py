"""Replies -> Bot API calls: HTML-escaped texts split at 4,096 characters, inline keyboards with typed
callback data, product cards as photos, paging and cart edits in place, invoices, reply keyboards.

Every user- or merchant-supplied string goes through :func:`e` before it is placed in HTML.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from aiogram.methods import (
    EditMessageText,
    SendDocument,
    SendInvoice,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, LabeledPrice, LinkPreviewOptions

from bot.channels.telegram import callbacks
from bot.infra.roundtrips import Rider
from dialogs.messages import (
    Button,
    CartSummary,
    FileReply,
    LineItem,
    OrderSummary,
    PaymentRequest,
    ProductCard,
    ProductList,
    Reply,
    TrackingTimeline,
)
from dialogs.texts import Texts

MAX_TEXT = 4096
MAX_CAPTION = 1024
STARS = "XTR"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
NO_PREVIEW_JSON = {"is_disabled": True}
#: a reply markup as the Bot API reads it: ``{"inline_keyboard": [[{"text", "callback_data"}]]}``,
#: ``{"keyboard": ...}`` or ``{"remove_keyboard": true}`` (aiogram's models accept these dicts)
Markup = dict[str, Any]


def e(value: object) -> str:
    """Escape for Telegram's HTML parse mode."""
    return html.escape(str(value), quote=False)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split raw text into chunks whose ESCAPED form fits ``limit``; prefers line breaks."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(e(candidate)) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
            current = ""
        while len(e(line)) > limit:
            cut = limit
            while len(e(line[:cut])) > limit:
                cut -= max(1, (len(e(line[:cut])) - limit) // 5)
            chunks.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not chunks:
        chunks.append(current)
    return chunks


def split_html(parts: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Join already-escaped lines into messages of at most ``limit`` characters (no tag spans lines)."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        if len(part) > limit and current:
            chunks.append(current)
            current = ""
        while len(part) > limit:  # a single enormous line: cut it (only happens to plain escaped text)
            cut = part.rfind("&", limit - 8, limit)
            cut = limit if cut == -1 else cut
            chunks.append(part[:cut])
            part = part[cut:]
        candidate = f"{current}\n{part}" if current else part
        if len(candidate) > limit:
            chunks.append(current)
            current = part
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


@dataclass
class RenderContext:
    chat_id: int | str
    lang: str = "zh-Hans"
    #: the bot message a pressed button sits on; paging and cart +/- edit it instead of sending anew
    edit_message_id: int | None = None
    edit_kinds: frozenset[str] = frozenset()
    ask_contact: bool = False  # the dialog waits for an address: offer phone/location sharing
    remove_keyboard: bool = False


@dataclass(slots=True)
class Call:
    """A Bot API call kept as the JSON fields it is posted with (``api``: its aiogram method class).

    Why: the texts of a turn's replies (``sendMessage``, ``editMessageText``) were aiogram method
    objects with an ``InlineKeyboardButton`` model per button, dumped back to a dict for the JSON body
    (``botapi.json_body``): about 55 µs of CPU per message in issue 16's profile, for fields we write
    ourselves. :class:`~bot.channels.telegram.botapi.BotApiSession` posts ``params`` as they are;
    any other session (tests' recording one) gets the aiogram object (:meth:`build`), validated as
    aiogram validates it."""

    api: type[TelegramMethod[Any]]
    params: dict[str, Any]

    @property
    def api_method(self) -> str:
        return str(self.api.__api_method__)

    def build(self) -> TelegramMethod[Any]:
        return self.api.model_validate(self.params)


#: a call as the outbound path sends it: an aiogram method object, or its JSON fields
AnyCall = TelegramMethod[Any] | Call


def built(call: AnyCall) -> TelegramMethod[Any]:
    """The aiogram method object of ``call``."""
    return call.build() if isinstance(call, Call) else call


def api_name(call: AnyCall) -> str:
    return call.api_method if isinstance(call, Call) else str(call.__api_method__)


@dataclass
class Outgoing:
    call: AnyCall
    #: sent instead when ``call`` is refused with 400 (an edit of an old message, a photo URL)
    fallback: AnyCall | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> TelegramMethod[Any]:
        """The call as an aiogram method object (built anew from a :class:`Call`'s fields)."""
        return built(self.call)


class Renderer:
    def __init__(
        self,
        texts: Texts,
        redis: aioredis.Redis,
        *,
        public_base_url: str = "",
        payment_provider_token: str | None = None,
    ) -> None:
        self.texts = texts
        self.redis = redis
        self.base_url = public_base_url.rstrip("/")
        self.provider_token = payment_provider_token or None

    def t(self, ctx: RenderContext, key: str, **params: Any) -> str:
        return self.texts.get(ctx.lang, key, **params)

    async def render(self, replies: list[Reply], ctx: RenderContext) -> list[Outgoing]:
        out: list[Outgoing] = []
        edited = False
        for reply in replies:
            if not edited and ctx.edit_message_id and reply.kind in ctx.edit_kinds:
                edited = True
                out.append(await self._edit(reply, ctx))
                continue
            out.extend(await self._render_one(reply, ctx))
        self._reply_keyboard(out, ctx)
        return out

    # -- one reply ------------------------------------------------------------------------------
    async def _render_one(self, reply: Reply, ctx: RenderContext) -> list[Outgoing]:
        if isinstance(reply, ProductCard):
            return await self._card(reply, ctx)
        if isinstance(reply, PaymentRequest):
            return await self._payment(reply, ctx)
        if isinstance(reply, FileReply):
            document = BufferedInputFile(reply.content, filename=reply.filename)
            caption = split_text(reply.text, MAX_CAPTION)[0]
            return [
                Outgoing(
                    SendDocument(
                        chat_id=ctx.chat_id, document=document, caption=e(caption), parse_mode="HTML"
                    )
                )
            ]
        parts = self.html_lines(reply)
        markup = await self.keyboard(getattr(reply, "buttons", ()))
        return self._messages(ctx, split_html(parts), markup)

    def _messages(self, ctx: RenderContext, chunks: list[str], markup: Markup | None) -> list[Outgoing]:
        out = [Outgoing(Call(SendMessage, _text_fields(ctx, chunk))) for chunk in chunks]
        if markup is not None:
            out[-1].call.params["reply_markup"] = markup  # type: ignore[union-attr]
        return out

    def html_lines(self, reply: Reply) -> list[str]:
        """The reply as escaped HTML lines (titles in bold)."""
        if isinstance(reply, ProductList):
            lines = [f"<b>{e(reply.title)}</b>"]
            for i in reply.items:  # a recommendation says why under its item, in the shopper's language
                lines.append(f"{i.position}. {e(i.title)} <b>{e(i.price)}</b>")
                lines.extend([f"<i>{e(i.reason)}</i>"] if i.reason else [])
            return lines
        if isinstance(reply, CartSummary):
            return [f"<b>{e(reply.title)}</b>", *map(_line, reply.lines), f"<b>{e(reply.subtotal)}</b>"] + [
                e(n) for n in reply.notes
            ]
        if isinstance(reply, OrderSummary):
            return (
                [f"<b>{e(reply.title)}</b>", e(reply.status), *map(_line, reply.lines)]
                + [f"<b>{e(reply.total)}</b>", e(reply.address)]
                + [e(n) for n in reply.notes]
            )
        if isinstance(reply, TrackingTimeline):
            head = [f"<b>{e(reply.title)}</b>", e(reply.status)] + ([e(reply.eta)] if reply.eta else [])
            return head + [f"<i>{e(ev.at)}</i> {e(ev.text)}" for ev in reply.events]
        return [e(line) for line in reply.text.split("\n")]

    async def keyboard(self, buttons: tuple[Button, ...] | list[Button]) -> Markup | None:
        """An inline keyboard (as the Bot API reads it) for ``buttons``; None without buttons."""
        if not buttons:
            return None
        rows: list[list[dict[str, str]]] = []
        row: list[dict[str, str]] = []
        row_kind = ""
        for button in buttons:
            data = await callbacks.pack(button.payload, self.redis)
            key = {"text": button.label[:64], "callback_data": data}
            if button.payload.startswith(("inc:", "dec:")):
                kind = "pair"  # the cart's + and - of one line side by side
            else:
                kind = "short" if len(button.label) <= 14 else "long"
            if row and (kind != row_kind or len(row) == 2 or kind == "long"):
                rows.append(row)
                row = []
            row.append(key)
            row_kind = kind
        if row:
            rows.append(row)
        return {"inline_keyboard": rows}

    async def _edit(self, reply: Reply, ctx: RenderContext) -> Outgoing:
        assert ctx.edit_message_id is not None
        text = split_html(self.html_lines(reply))[0]
        markup = await self.keyboard(getattr(reply, "buttons", ()))
        send = self._messages(ctx, [text], markup)[0].call
        fields = {**_text_fields(ctx, text), "message_id": ctx.edit_message_id}
        if markup is not None:
            fields["reply_markup"] = markup
        return Outgoing(Call(EditMessageText, fields), fallback=send)

    async def _card(self, card: ProductCard, ctx: RenderContext) -> list[Outgoing]:
        lines = [f"<b>{e(card.title)}</b>  <b>{e(card.price)}</b>", *(e(o) for o in card.options)]
        if card.reason:
            lines.append(f"<i>{e(card.reason)}</i>")
        markup = await self.keyboard(card.buttons)
        photo = self.photo_url(card.image)
        description = e(card.description)
        if photo is None:
            return self._messages(ctx, split_html([*lines, description]), markup)
        caption = "\n".join([*lines, description])
        if len(caption) > MAX_CAPTION:
            caption = "\n".join(lines)[:MAX_CAPTION]
        text_version = self._messages(ctx, split_html([*lines, description]), markup)
        keyboard = InlineKeyboardMarkup.model_validate(markup) if markup else None
        photo_call = SendPhoto(
            chat_id=ctx.chat_id, photo=photo, caption=caption, parse_mode="HTML", reply_markup=keyboard
        )
        return [Outgoing(photo_call, fallback=text_version[0].call if len(text_version) == 1 else None)]

    def photo_url(self, image: str | None) -> str | None:
        """Telegram fetches photos itself: only public http(s) pictures in a format it accepts."""
        if not image:
            return None
        url = f"{self.base_url}{image}" if image.startswith("/") else image
        if not url.startswith("https://") or url.lower().endswith(".svg"):
            return None
        return url

    async def _payment(self, request: PaymentRequest, ctx: RenderContext) -> list[Outgoing]:
        if request.provider != "telegram":  # sandbox and others: the text and their buttons
            buttons = list(request.buttons)
            markup = await self.keyboard(buttons)
            if request.pay_url and request.pay_url.startswith("https://"):
                link = {"text": self.t(ctx, "telegram.pay_link"), "url": request.pay_url}
                markup = {"inline_keyboard": [[link], *(markup["inline_keyboard"] if markup else [])]}
            return self._messages(ctx, split_html([e(x) for x in request.text.split("\n")]), markup)
        stars = request.currency == STARS
        if not stars and self.provider_token is None:
            return self._messages(ctx, [e(self.t(ctx, "telegram.payments_unavailable"))], None)
        head = self._messages(ctx, split_html([e(x) for x in request.text.split("\n")]), None)
        invoice = SendInvoice(
            chat_id=ctx.chat_id,
            title=self.t(ctx, "telegram.invoice_title", number=request.order_number)[:32],
            description=self.t(
                ctx,
                "telegram.invoice_description",
                number=request.order_number,
                amount=request.amount_display,
            )[:255],
            payload=invoice_payload(request.payment_id, request.order_number),
            provider_token=None if stars else self.provider_token,
            currency=request.currency,
            prices=[
                LabeledPrice(
                    label=self.t(ctx, "telegram.invoice_label", number=request.order_number)[:32],
                    amount=request.amount,
                )
            ],
        )
        return [*head, Outgoing(invoice)]

    def _reply_keyboard(self, out: list[Outgoing], ctx: RenderContext) -> None:
        markup: Markup
        if ctx.ask_contact:
            markup = {
                "keyboard": [
                    [{"text": self.t(ctx, "telegram.share_phone"), "request_contact": True}],
                    [{"text": self.t(ctx, "telegram.share_location"), "request_location": True}],
                ],
                "resize_keyboard": True,
                "one_time_keyboard": True,
            }
        elif ctx.remove_keyboard:
            markup = dict(REMOVE_KEYBOARD)
        else:
            return
        slot = keyboard_slot(out)
        if slot is not None:
            slot.params["reply_markup"] = markup
            return
        if ctx.ask_contact:
            hint = self.t(ctx, "telegram.share_hint")
            fields = {"chat_id": ctx.chat_id, "text": e(hint), "parse_mode": "HTML", "reply_markup": markup}
            out.append(Outgoing(Call(SendMessage, fields)))


#: the markup that takes the contact keyboard away (copied into each call: calls are not shared)
REMOVE_KEYBOARD: Markup = {"remove_keyboard": True}


def keyboard_slot(out: list[Outgoing]) -> Call | None:
    """The call that carries a reply keyboard (shown or removed): the last text without a keyboard of
    its own; None when there is none. Public: the channel asks whether a removal has anywhere to go
    before it reads whether the keyboard is shown (a Redis round trip saved when it has not)."""
    for item in reversed(out):
        call = item.call
        if isinstance(call, Call) and call.api is SendMessage and "reply_markup" not in call.params:
            return call
    return None


async def keyboard_flag(
    exists: Callable[[str], Awaitable[bool]], chat: str, ask: bool, items: list[Outgoing], riders: list[Rider]
) -> None:
    """Keep ``shopbot:tg:kb:<chat>`` (is the contact keyboard shown) true, and take the keyboard away
    once the checkout no longer asks for the address. The flag is read only when a removal has a
    message to ride on (keyboard_slot): a Redis round trip fewer on most turns (issue 16); the read
    shares its round trip with other chats' (``exists``: the channel's). A chat's updates run one at
    a time, so the flag cannot change between this read and its write (in ``riders``)."""
    key = f"shopbot:tg:kb:{chat}"
    if ask:
        riders.append(lambda pipe: pipe.set(key, b"1", ex=86400))
    elif (slot := keyboard_slot(items)) is not None and await exists(key):
        slot.params["reply_markup"] = dict(REMOVE_KEYBOARD)
        riders.append(lambda pipe: pipe.delete(key))


def _text_fields(ctx: RenderContext, text: str) -> dict[str, Any]:
    """A text message's fields in HTML without link previews (a new dict: calls get keyboards added)."""
    return {
        "chat_id": ctx.chat_id,
        "text": text,
        "parse_mode": "HTML",
        "link_preview_options": NO_PREVIEW_JSON,
    }


def invoice_payload(payment_id: str, order_number: str) -> str:
    """What Telegram echoes back in pre-checkout and successful_payment (1-128 bytes)."""
    return f"{payment_id}:{order_number}"


def parse_invoice_payload(payload: str) -> tuple[str, str]:
    payment_id, _, order_number = payload.partition(":")
    return payment_id, order_number


def _line(li: LineItem) -> str:
    options = f" {e(li.options)}" if li.options else ""
    return f"• {e(li.title)}{options} ×{li.quantity}  {e(li.line_total)}"
