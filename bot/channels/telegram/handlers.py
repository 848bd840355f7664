"""Thin aiogram handlers: each turns one Telegram event into a call on the channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
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
    router = Router(name="shopbot-telegram")

    @router.message(F.successful_payment)
    async def on_successful_payment(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_successful_payment(message, event_update.update_id)

    @router.message(F.contact)
    async def on_contact(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_contact(message, event_update.update_id)

    @router.message(F.location)
    async def on_location(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_user_message(message, event_update.update_id)

    @router.message(F.photo)
    async def on_photo(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_user_message(message, event_update.update_id)

    @router.message(F.voice)
    async def on_voice(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_user_message(message, event_update.update_id)

    @router.message(F.content_type.in_(USER_CONTENT))
    async def on_message(message: Message, channel: TelegramChannel, event_update: Update) -> None:
        await channel.on_user_message(message, event_update.update_id)

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
