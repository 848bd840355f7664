"""Images a WeChat shopper sends while a person has the conversation: fetched from WeChat's image CDN
(the ``PicUrl`` of the signed message), kept in the file store (one owner per ticket) and written to the
handoff's history with their key, so the console shows them to staff.

Why only WeChat's CDN hosts: the URL comes from a message, and the server must never be talked into
fetching an arbitrary address; WeChat serves shoppers' images from ``*.qpic.cn``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from commerce_core.api import DomainError, LocalFileStore
from commerce_core.files.types import ALLOWED_CONTENT_TYPES
from commerce_core.support.types import HANDOFF_FILES_FOLDER, handoff_file_owner
from dialogs.messages import InboundMessage

if TYPE_CHECKING:
    from bot.channels.wechat.channel import WeChatChannel

log = logging.getLogger(__name__)
IMAGE_HOSTS = (".qpic.cn",)
MAX_BYTES = 10 * 1024 * 1024


def from_wechat_cdn(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and any(host.endswith(suffix) for suffix in IMAGE_HOSTS)


async def keep_handoff_image(channel: WeChatChannel, message: InboundMessage) -> bool:
    """Store an image sent during a handoff; True when it was taken care of here (nothing for the
    pipeline to answer), False when there is no handoff or it is not an image."""
    images = [a for a in message.attachments if a.kind == "image" and a.url]
    if not images:
        return False
    support = channel.runtime.commerce.support
    ticket = await support.active_for(message.conversation_key)
    if ticket is None:
        return False
    url = images[0].url or ""
    file_key = None
    if from_wechat_cdn(url):
        try:
            response = await channel.http.get(url, timeout=10.0)
            response.raise_for_status()
            data = response.content[: MAX_BYTES + 1]
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type not in ALLOWED_CONTENT_TYPES:
                content_type = "image/jpeg"
            store = LocalFileStore(channel.context.settings.data_dir / HANDOFF_FILES_FOLDER)
            ref = await store.put(data, content_type=content_type, owner=handoff_file_owner(ticket.number))
            file_key = ref.key
        except (httpx.HTTPError, DomainError) as error:
            log.info("handoff image of %s not kept: %s", ticket.number, error)
    await support.shopper_said(ticket.number, message.text.strip()[:2000] or "[photo]", file_key=file_key)
    return True
