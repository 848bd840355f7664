"""Files a chat user sends, downloaded from their platform into the upload store (R4.2-1): the
documents an applicant sends while applying to sell, so the reviewer opens the real scan.

Why at the edge: the dialog sees only the platform's handle (``tg-file:<file_id>`` for a Telegram
photo or document, WeChat's ``MediaId``), which only the channel's credentials can open: Telegram's
``getFile`` then its file server, WeChat's ``media/get`` with the access token. The dialog asks for
a file through ``Turn.keep_attachment`` and gets a stored file, a refusal (wrong type, too large:
the user is asked again) or nothing (the platform could not be reached: the dialog keeps the
handle, as before, and the reviewer sees "sent in chat").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import httpx

from bot.channels.base import Channel
from commerce_core.api import FileRef, FileStore, sniff_content_type
from dialogs.messages import Attachment, InboundMessage

log = logging.getLogger(__name__)
TELEGRAM_FILE = "tg-file:"
#: never read more than this from a platform (the store refuses anything over a document's limit)
READ_LIMIT = 20 * 1024 * 1024


class ChatFiles:
    """``Turn.keep_attachment`` for every channel that can download what its users send."""

    def __init__(self, store: FileStore, channels: Mapping[str, Channel]) -> None:
        self._store = store
        self._channels = channels

    async def __call__(self, message: InboundMessage, attachment: Attachment, owner: str) -> FileRef | None:
        """The attachment stored for ``owner`` as a document; None when it could not be fetched.

        Raises the store's ``InvalidInput`` when the bytes are not a JPEG, PNG, WebP or PDF, or too
        large: the user sent the wrong thing and is told so."""
        data = await self._download(message.channel, attachment)
        if data is None:
            return None
        content_type = sniff_content_type(data) or "application/octet-stream"
        return await self._store.put(data, content_type=content_type, owner=owner, kind="document")

    async def _download(self, channel_name: str, attachment: Attachment) -> bytes | None:
        channel = self._channels.get(channel_name)
        try:
            if channel_name == "telegram" and (attachment.url or "").startswith(TELEGRAM_FILE):
                return await _telegram(channel, (attachment.url or "")[len(TELEGRAM_FILE) :])
            if channel_name == "wechat" and attachment.media_id:
                return await _wechat(channel, attachment.media_id)
        except Exception:  # the platform down or refusing: the dialog keeps the handle instead
            log.warning("could not download a %s file", channel_name, exc_info=True)
        return None


async def _telegram(channel: Channel | None, file_id: str) -> bytes | None:
    bot = getattr(channel, "bot", None)
    if bot is None or not file_id:
        return None
    downloaded = await bot.download(file_id)  # getFile, then the file server (aiogram)
    return bytes(downloaded.read(READ_LIMIT + 1)) if downloaded is not None else None


async def _wechat(channel: Channel | None, media_id: str) -> bytes | None:
    """WeChat's temporary media (``GET {api}/cgi-bin/media/get``); an error comes as JSON."""
    http, tokens, settings = (getattr(channel, name, None) for name in ("http", "tokens", "settings"))
    if not isinstance(http, httpx.AsyncClient) or tokens is None or settings is None:
        return None
    url = str(settings.api_base).rstrip("/") + "/cgi-bin/media/get"
    response = await http.get(url, params={"access_token": await tokens.get(), "media_id": media_id})
    response.raise_for_status()
    if response.headers.get("content-type", "").startswith(("application/json", "text/plain")):
        log.warning("WeChat refused media %s: %s", media_id, response.text[:200])
        return None
    return response.content[: READ_LIMIT + 1]
