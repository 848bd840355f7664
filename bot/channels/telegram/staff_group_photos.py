"""Photos a Telegram shopper sends while a person has the conversation: downloaded from Telegram, kept
in the file store (one owner per ticket) and written to the handoff's history with their key, so the
console shows them to staff and the staff group is told (R5.4-1: "photos the shopper sent").

Why before the pipeline: the pipeline sees an attachment URL only (``tg-file:...``), which nobody but
this bot's token can open; the bytes must be fetched by the channel that holds the token.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram.exceptions import TelegramAPIError

from commerce_core.api import DomainError, LocalFileStore
from commerce_core.support.types import HANDOFF_FILES_FOLDER, handoff_file_owner

if TYPE_CHECKING:
    from aiogram.types import Message

    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)
#: Telegram sends photos as JPEG (the largest size is the last of ``message.photo``)
PHOTO_TYPE = "image/jpeg"


async def keep_handoff_photo(channel: TelegramChannel, message: Message) -> bool:
    """Store a shopper's photo sent during a handoff; True when it was taken care of here (the
    pipeline then has nothing to do with it), False when there is no handoff (the bot answers)."""
    if message.chat.type != "private" or not message.photo:
        return False
    support = channel.runtime.commerce.support
    ticket = await support.active_for(f"telegram:{message.chat.id}")
    if ticket is None:
        return False
    caption = (message.caption or "").strip()[:2000] or "[photo]"
    try:
        downloaded = await channel.bot.download(message.photo[-1].file_id)
        data = downloaded.read() if downloaded is not None else b""
        store = LocalFileStore(channel.context.settings.data_dir / HANDOFF_FILES_FOLDER)
        ref = await store.put(data, content_type=PHOTO_TYPE, owner=handoff_file_owner(ticket.number))
    except (TelegramAPIError, DomainError) as error:  # not fetched or not an image: the words still go
        log.info("handoff photo of %s not kept: %s", ticket.number, error)
        await support.shopper_said(ticket.number, caption)
        return True
    await support.shopper_said(ticket.number, caption, file_key=ref.key)
    return True
