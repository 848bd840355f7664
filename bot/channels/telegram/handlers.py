"""Thin aiogram handlers: each turns one Telegram event into a call on the channel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, PreCheckoutQuery, Update

from dialogs.messages import InboundMessage

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

#: content a shopper can send us; service messages (joins, pins, migrations, ...) are ignored
USER_CONTENT = {
    ContentType.TEXT,
    ContentType.PHOTO,
    ContentType.VOICE,
    ContentType.LOCATION,
    ContentType.VENUE,
    ContentType.CONTACT,
    ContentType.DOCUMENT,
    ContentType.STICKER,
    ContentType.VIDEO,
    ContentType.VIDEO_NOTE,
    ContentType.AUDIO,
    ContentType.ANIMATION,
}


async def handle_message(channel: TelegramChannel, message: Message, update_id: int) -> None:
    """A message (the router's handler, and the worker's direct path: see :func:`dispatch_directly`)."""
    if message.successful_payment:
        await channel.on_successful_payment(message, update_id)
    elif message.contact:
        await channel.on_contact(message, update_id)
    elif message.content_type in USER_CONTENT:
        await channel.on_user_message(message, update_id)


async def dispatch_directly(channel: TelegramChannel, update: Update) -> bool:
    """The two kinds shoppers send most (a message, a button tap) straight to their handler; False
    for any other kind, which goes through aiogram's dispatcher.

    Why: the dispatcher's outer and inner middlewares, observers and filter checks ran for every
    update (about a tenth of the Telegram path's own CPU in issue 16's profile) to reach the one
    handler this router has for each kind; the router stays the reference (same handler functions)
    and handles every other kind. Exceptions propagate as through the dispatcher (no error handlers
    are registered), so a failed update is retried the same way."""
    if update.message is not None:
        await handle_message(channel, update.message, update.update_id)
        return True
    if update.callback_query is not None:
        await channel.on_callback(update.callback_query, update.update_id)
        return True
    return False


def build_router() -> Router:
    """One async handler per event kind, choosing by content itself.

    Why no aiogram filters (``F.contact``, ...): magic filters are plain functions, and aiogram runs
    every plain function in a worker thread (``asyncio.to_thread``); a text message went through six
    thread hand-offs before its handler ran (issue 16's profile of the Telegram path)."""
    router = Router(name="shopbot-telegram")

    @router.message()
    async def on_message(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await handle_message(channel, message, event_update.update_id)

    @router.callback_query()
    async def on_callback(query: CallbackQuery, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_callback(query, event_update.update_id)

    @router.pre_checkout_query()
    async def on_pre_checkout(query: PreCheckoutQuery, channel: TelegramChannel) -> None:
        await channel.on_pre_checkout(query)

    @router.my_chat_member()
    async def on_my_chat_member(event: ChatMemberUpdated, channel: TelegramChannel) -> None:
        await channel.on_my_chat_member(event)

    return router


async def raw_text_fallback(channel: TelegramChannel, data: dict[str, Any]) -> None:
    """A private text message aiogram's model refused (odd old fields): still answer the words."""
    message = data.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return
    chat, sender = message.get("chat") or {}, message.get("from") or {}
    if chat.get("type") != "private" or not isinstance(sender.get("id"), int):
        return
    inbound = InboundMessage(
        channel.name,
        str(sender["id"]),
        str(chat["id"]),
        text=message["text"][:4096],
        dedup_key=str(data["update_id"]),
        display_name=str(sender.get("first_name", ""))[:64] or None,
        language_hint=sender.get("language_code"),
    )
    await channel.turn(inbound, chat_id=int(chat["id"]))
