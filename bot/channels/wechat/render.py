"""Replies drawn for WeChat: one passive reply per request, or customer-service messages.

WeChat has no inline keyboards. Buttons become numbered lines ("回复数字选择") in text, and clickable
``msgmenu`` items in customer-service messages; either way the choices are remembered per user
(:class:`Choices`), so replying "2" or tapping item 2 presses button 2. Product cards become news
articles (title, description, picture, link).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from dialogs.messages import Button, PaymentRequest, ProductCard, Reply
from dialogs.texts import Texts

MAX_TEXT = 2000  # WeChat cuts text replies at 2048 bytes of content; keep a margin in characters
MAX_CHOICES = 10
#: ``json.dumps(..., ensure_ascii=False)``, whose every call made a new encoder (its defaults' is cached)
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    description: str
    picurl: str
    url: str


@dataclass(slots=True)
class Rendered:
    """What one turn says on WeChat: cards, one text, and its choices."""

    articles: list[Article] = field(default_factory=list)
    text: str = ""
    choices: list[Button] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.articles or self.text or self.choices)


def absolute(url: str | None, base: str) -> str:
    if not url:
        return ""
    if url.startswith(("http://", "https://", "weixin://")):
        return url
    return base.rstrip("/") + "/" + url.lstrip("/")


def reply_text(reply: Reply, texts: Texts, lang: str, base: str) -> str:
    text = reply.text
    if isinstance(reply, PaymentRequest) and reply.pay_url:
        text += "\n" + texts.get(lang, "wechat.pay_link", url=absolute(reply.pay_url, base))
    return text


def render(replies: list[Reply], texts: Texts, lang: str, base: str) -> Rendered:
    out = Rendered()
    parts: list[str] = []
    for reply in replies:
        if isinstance(reply, ProductCard):
            # a recommended card says why under its description (R5.3-2), in the shopper's language
            lines = (*reply.options, reply.description, reply.reason)
            out.articles.append(
                Article(
                    f"{reply.title} {reply.price}",
                    "\n".join(line for line in lines if line)[:500],
                    absolute(reply.image, base),
                    absolute(reply.image, base) or base,
                )
            )
        else:
            parts.append(reply_text(reply, texts, lang, base))
        out.choices.extend(getattr(reply, "buttons", ()))
    out.choices = out.choices[:MAX_CHOICES]
    out.text = "\n\n".join(p for p in parts if p)
    return out


def numbered(rendered: Rendered, texts: Texts, lang: str) -> str:
    """All of a turn as one text: cards as lines, then the numbered choices."""
    lines = [f"{a.title}\n{a.description}".strip() for a in rendered.articles]
    if rendered.text:
        lines.append(rendered.text)
    if rendered.choices:
        head = texts.get(lang, "wechat.choose")
        lines.append(head + "\n" + "\n".join(f"{i}. {b.label}" for i, b in enumerate(rendered.choices, 1)))
    text = "\n\n".join(lines)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def passive_reply(rendered: Rendered, texts: Texts, lang: str, *, source: str, target: str) -> str:
    """The XML of the one passive reply: a news card when a single card is all there is to say.

    wechatpy's reply layout, written with one format string: its reply objects cost a tenth of a
    WeChat turn's own CPU in issue 16's profile; unlike them, a ``]]>`` in a text cannot end its CDATA."""
    head = f"<FromUserName>{_cdata(source)}</FromUserName>\n<ToUserName>{_cdata(target)}</ToUserName>\n"
    created = f"<CreateTime>{int(time.time())}</CreateTime>"
    if len(rendered.articles) == 1 and not rendered.text and not rendered.choices:
        a = rendered.articles[0]
        item = (
            f"<item>\n<Title>{_cdata(a.title)}</Title>\n<Description>{_cdata(a.description)}</Description>\n"
            f"<PicUrl>{_cdata(a.picurl)}</PicUrl>\n<Url>{_cdata(a.url)}</Url>\n</item>"
        )
        body = (
            f"<MsgType><![CDATA[news]]></MsgType>\n<ArticleCount>1</ArticleCount>\n"
            f"<Articles>{item}</Articles>"
        )
    else:
        content = _cdata(numbered(rendered, texts, lang))
        body = f"<MsgType><![CDATA[text]]></MsgType>\n<Content>{content}</Content>"
    return f"<xml>\n{body}\n{head}{created}\n</xml>"


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def custom_messages(rendered: Rendered, openid: str, texts: Texts, lang: str) -> list[dict[str, Any]]:
    """Customer-service messages: one news per card, then the text with clickable menu items."""
    messages: list[dict[str, Any]] = [
        {
            "touser": openid,
            "msgtype": "news",
            "news": {
                "articles": [
                    {"title": a.title, "description": a.description, "url": a.url, "picurl": a.picurl}
                ]
            },
        }
        for a in rendered.articles
    ]
    if rendered.choices:
        messages.append(
            {
                "touser": openid,
                "msgtype": "msgmenu",
                "msgmenu": {
                    "head_content": (rendered.text or texts.get(lang, "wechat.choose"))[:MAX_TEXT],
                    "list": [{"id": str(i), "content": b.label} for i, b in enumerate(rendered.choices, 1)],
                    "tail_content": "",
                },
            }
        )
    elif rendered.text:
        messages.append({"touser": openid, "msgtype": "text", "text": {"content": rendered.text[:MAX_TEXT]}})
    return messages


class Choices:
    """The buttons last shown to each user, so "2" (or menu item 2) presses the second one."""

    def __init__(self, redis: aioredis.Redis, ttl: int = 86400) -> None:
        self._redis = redis
        self._ttl = ttl

    def _key(self, openid: str) -> str:
        return f"shopbot:wechat:choices:{openid}"

    async def remember(self, openid: str, buttons: list[Button]) -> None:
        if buttons:
            await self._redis.set(self._key(openid), self._encoded(buttons), ex=self._ttl)

    def remember_on(self, batch: Any, openid: str, buttons: list[Button]) -> None:
        """:meth:`remember` queued on a Redis pipeline (one round trip with the other commands)."""
        if buttons:
            batch.set(self._key(openid), self._encoded(buttons), ex=self._ttl)

    @staticmethod
    def _encoded(buttons: list[Button]) -> bytes:
        return _ENCODE([[b.label, b.payload] for b in buttons]).encode()

    @staticmethod
    def may_select(text: str, menu_id: str | None = None) -> bool:
        """Whether ``text`` could press a shown button (a number or a menu item): else no look-up."""
        key = menu_id or text.strip()
        return key.isascii() and key.isdigit()

    def look_up_on(self, batch: Any, openid: str) -> None:
        """Queue the read of the shown buttons (its result goes to :meth:`resolve` as ``shown``)."""
        batch.get(self._key(openid))

    async def resolve(
        self, openid: str, text: str, menu_id: str | None = None, *, shown_raw: Any = None, read: bool = True
    ) -> str | None:
        """The payload ``text`` (a number, or a tapped menu item) selects, if any; ``read=False`` with
        ``shown_raw`` when the buttons were read already in a batch (:meth:`look_up_on`)."""
        if not self.may_select(text, menu_id):
            return None
        key = menu_id or text.strip()
        raw = await self._redis.get(self._key(openid)) if read else shown_raw
        if not raw:
            return None
        shown: list[list[str]] = json.loads(raw)
        index = int(key) - 1
        if 0 <= index < len(shown) and (menu_id is None or shown[index][0] == text.strip()):
            return shown[index][1]
        if menu_id is not None:  # a tap on an older menu: find the item by its label
            return next((p for label, p in shown if label == text.strip()), None)
        return None
