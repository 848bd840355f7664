"""Thin aiogram handlers: each turns one Telegram event into a call on the channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Router
from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, PreCheckoutQuery, Update

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


def build_router() -> Router:
    """One async handler per event kind, choosing by content itself.

    Why no aiogram filters (``F.contact``, ...): magic filters are plain functions, and aiogram runs
    every plain function in a worker thread (``asyncio.to_thread``); a text message went through six
    thread hand-offs before its handler ran (issue 16's profile of the Telegram path)."""
    router = Router(name="shopbot-telegram")

    @router.message()
    async def on_message(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        update_id = event_update.update_id
        if message.successful_payment:
            await channel.on_successful_payment(message, update_id)
        elif message.contact:
            await channel.on_contact(message, update_id)
        elif message.content_type in USER_CONTENT:
            await channel.on_user_message(message, update_id)

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
