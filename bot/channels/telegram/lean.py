"""The two updates shoppers send most, read from the update's JSON without aiogram's models.

Why: aiogram's ``Update`` model (pydantic models for the update, its message or button tap, the chat
and the user: about 20-30 µs of CPU per update in issue 16's profile) was built for every update,
though a private text message and a button tap use a handful of their fields. :func:`plain_event`
recognises exactly these two shapes, with the fields' types checked as aiogram checks them; anything
else (photos, contacts, payments, groups, edited messages, a message with a field not listed here)
is None and goes through aiogram's model and the handlers as before. :func:`handle_plain` does what
the handlers do with the same fields (``TelegramChannel.on_user_message`` for a private text without
attachments; a tap goes to :func:`tap`, which ``TelegramChannel.on_callback`` calls too);
``tests/telegram/test_lean.py`` compares the two paths on the same updates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery

from bot.channels.telegram import callbacks
from bot.channels.telegram.render import Call
from dialogs.messages import InboundMessage

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

#: a private text message with these fields only is read here (``entities``: commands, links)
TEXT_MESSAGE_FIELDS = frozenset({"message_id", "date", "chat", "from", "text", "entities"})
TAP_FIELDS = frozenset({"id", "from", "message", "chat_instance", "data"})
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sender:
    id: int
    full_name: str
    language_code: str | None


@dataclass(frozen=True, slots=True)
class PlainText:
    update_id: int
    chat_id: int
    sender: Sender
    text: str


@dataclass(frozen=True, slots=True)
class PlainTap:
    update_id: int
    query_id: str
    data: str | None
    chat_id: int | None  # None: the tap's message is not given
    message_id: int | None
    sender: Sender


def command_text(text: str) -> str:
    """``/start@shop_bot x`` -> ``/start x``: a command addressed to this bot by name."""
    if not text.startswith("/"):
        return text
    command, _, rest = text.partition(" ")
    return (command.split("@", 1)[0] + (" " + rest if rest else "")).strip()


def plain_event(data: dict[str, Any]) -> PlainText | PlainTap | None:
    """The update as a :class:`PlainText` or :class:`PlainTap`; None for any other shape."""
    if len(data) != 2:
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int:
        return None
    message = data.get("message")
    if message is not None:
        return _text(update_id, message)
    query = data.get("callback_query")
    if query is not None:
        return _tap(update_id, query)
    return None


def _text(update_id: int, message: Any) -> PlainText | None:
    if type(message) is not dict or not message.keys() <= TEXT_MESSAGE_FIELDS:
        return None
    chat, sender, text = message.get("chat"), _sender(message.get("from")), message.get("text")
    if type(chat) is not dict or chat.get("type") != "private" or type(chat.get("id")) is not int:
        return None
    if sender is None or type(text) is not str or type(message.get("message_id")) is not int:
        return None
    if type(message.get("date")) is not int or type(message.get("entities", [])) is not list:
        return None
    return PlainText(update_id, chat["id"], sender, text)


def _tap(update_id: int, query: Any) -> PlainTap | None:
    if type(query) is not dict or not query.keys() <= TAP_FIELDS:
        return None
    sender, data, message = _sender(query.get("from")), query.get("data"), query.get("message")
    if sender is None or type(query.get("id")) is not str or type(query.get("chat_instance")) is not str:
        return None
    if data is not None and type(data) is not str:
        return None
    if message is None:
        return PlainTap(update_id, query["id"], data, None, None, sender)
    chat = message.get("chat") if type(message) is dict else None
    if type(chat) is not dict or type(chat.get("id")) is not int or type(chat.get("type")) is not str:
        return None
    if type(message.get("message_id")) is not int or type(message.get("date")) is not int:
        return None
    return PlainTap(update_id, query["id"], data, chat["id"], message["message_id"], sender)


def _sender(user: Any) -> Sender | None:
    """A user as aiogram reads it (``full_name``: first and last name); None when not one."""
    if type(user) is not dict or type(user.get("id")) is not int or type(user.get("is_bot")) is not bool:
        return None
    first, last, language = user.get("first_name"), user.get("last_name"), user.get("language_code")
    if type(first) is not str or (last is not None and type(last) is not str):
        return None
    if language is not None and type(language) is not str:
        return None
    return Sender(user["id"], f"{first} {last}" if last else first, language)


async def handle_plain(channel: TelegramChannel, data: Any) -> bool:
    """What the handlers do with the same update (see the module docstring); False when ``data`` is not
    one of the two shapes (or is written in the staff group, whose messages the staff group reads)."""
    event = plain_event(data) if type(data) is dict else None
    if event is None:
        return False
    staff = channel.staff_group
    if staff is not None and event.chat_id is not None and staff.owns(event.chat_id):
        return False
    if isinstance(event, PlainTap):
        await tap(channel, event)
        return True
    sender = event.sender
    inbound = InboundMessage(
        channel.name,
        str(sender.id),
        str(event.chat_id),
        dedup_key=str(event.update_id),
        display_name=sender.full_name[:64],
        language_hint=sender.language_code,
        text=command_text(event.text)[:4096],
        attachments=(),
    )
    await channel.turn(inbound, chat_id=event.chat_id)
    return True


async def tap(channel: TelegramChannel, event: PlainTap) -> None:
    """A button tap (``TelegramChannel.on_callback`` reads aiogram's ``CallbackQuery`` into one)."""
    try:  # always answered, at once, before any work
        await channel.outbound.call(Call(AnswerCallbackQuery, {"callback_query_id": event.query_id}))
    except TelegramAPIError as error:
        log.info("answerCallbackQuery failed: %s", error)
    payload = await callbacks.unpack(event.data, channel.redis)
    if payload is None or event.chat_id is None:
        return  # not one of our buttons (or an expired long payload)
    if payload == "more":
        kinds = frozenset({"product_list"})
    elif payload.startswith(("inc:", "dec:")):
        kinds = frozenset({"cart"})
    else:
        kinds = frozenset()
    sender = event.sender
    inbound = InboundMessage(
        channel.name,
        str(sender.id),
        str(event.chat_id),
        payload=payload,
        dedup_key=str(event.update_id),
        display_name=sender.full_name[:64],
        language_hint=sender.language_code,
    )
    edit = event.message_id if kinds else None
    await channel.turn(inbound, chat_id=event.chat_id, edit_message_id=edit, edit_kinds=kinds)
