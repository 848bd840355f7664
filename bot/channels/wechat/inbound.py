"""WeChat messages and events (parsed by :func:`security.parse_xml`) -> what the bot should do with them.

Read straight off the parsed dict: wechatpy's ``parse_message`` parsed every message a second time
(issue 16's profile); what it decided is kept here (a message it could not read is ignored, the scene
of a QR-code subscribe is the ``EventKey`` after ``qrscene_``).

Messages are de-duplicated by ``MsgId``; events, which have none, by ``FromUserName`` + ``CreateTime``
(and the event type, so a subscribe and a location report of the same second stay apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dialogs.messages import Attachment, InboundMessage

Kind = Literal["message", "subscribe", "unsubscribe", "location_report", "unsupported", "ignore"]
#: custom-menu keys (see ``shopbot wechat menu``) -> the button payload they press
MENU_PAYLOADS = {"search": "popular", "orders": "orders", "human": "human", "help": "help"}
#: menu keys that stand for something the shopper would say
MENU_SAYINGS = {"after_sales": "wechat.menu_after_sales_says"}


@dataclass(frozen=True, slots=True)
class Inbound:
    kind: Kind
    openid: str
    account: str  # our official account's id (ToUserName), the source of replies
    dedup_key: str
    message: InboundMessage | None = None
    saying: str | None = None  # a text key the shopper "says" (menu items without a payload)
    latitude: float | None = None
    longitude: float | None = None
    menu_id: str | None = None  # the msgmenu item a text message is the tap of


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def scene_payload(scene: str | None) -> str | None:
    """QR-code scenes ``p_D1`` (a product) open that product; numeric scenes just greet."""
    if scene and scene.startswith("p_") and len(scene) > 2:
        return "p:" + scene[2:]
    return None


def classify(xml: str, root: dict[str, Any]) -> Inbound:
    """``xml`` has passed :func:`security.parse_xml` (``root`` is its result)."""
    openid = str(root.get("FromUserName") or "")
    account = str(root.get("ToUserName") or "")
    created = str(root.get("CreateTime") or "")
    msg_type = str(root.get("MsgType") or "").lower()
    event = str(root.get("Event") or "").lower()
    if msg_type == "event" or msg_type.startswith("device_"):
        key = f"evt:{openid}:{created}:{event or msg_type}"
    else:
        key = f"msg:{root.get('MsgId') or root.get('MsgID') or f'{openid}:{created}'}"
    if not openid:
        return Inbound("ignore", openid, account, key)
    if not _readable(root):  # what wechatpy's parser refused: politely ignored
        return Inbound("ignore", openid, account, key)

    def message(
        text: str = "", payload: str | None = None, attachments: tuple[Attachment, ...] = ()
    ) -> InboundMessage:
        return InboundMessage(
            "wechat", openid, openid, text[:2000], payload, attachments, dedup_key=key, language_hint="zh"
        )

    if msg_type == "event":
        if event in ("subscribe", "scan"):
            payload = scene_payload(_scene(event, str(root.get("EventKey") or "")))
            return Inbound("subscribe", openid, account, key, message(payload=payload) if payload else None)
        if event == "unsubscribe":
            return Inbound("unsubscribe", openid, account, key)
        if event == "location":
            return Inbound(
                "location_report",
                openid,
                account,
                key,
                latitude=_float(root.get("Latitude")),
                longitude=_float(root.get("Longitude")),
            )
        if event == "location_select":
            info = root.get("SendLocationInfo") or {}
            if isinstance(info, dict):
                return Inbound("message", openid, account, key, message(attachments=(_location(info),)))
        if event == "click":
            menu_key = str(root.get("EventKey") or "")
            if menu_key in MENU_PAYLOADS:
                return Inbound("message", openid, account, key, message(payload=MENU_PAYLOADS[menu_key]))
            if menu_key in MENU_SAYINGS:
                return Inbound("message", openid, account, key, saying=MENU_SAYINGS[menu_key])
        return Inbound("ignore", openid, account, key)
    if msg_type == "text":
        menu_id = str(root.get("bizmsgmenuid") or "") or None
        text = str(root.get("Content") or "")
        return Inbound("message", openid, account, key, message(text), menu_id=menu_id)
    if msg_type == "voice":
        words = str(root.get("Recognition") or "")
        voice = Attachment("voice", text=words)
        return Inbound("message", openid, account, key, message(attachments=(voice,)))
    if msg_type == "image":
        url = str(root.get("PicUrl") or "") or None
        media = str(root.get("MediaId") or "")[:128] or None  # what the media API downloads
        image = Attachment("image", url=url, media_id=media)
        return Inbound("message", openid, account, key, message(attachments=(image,)))
    if msg_type == "location":
        return Inbound("message", openid, account, key, message(attachments=(_location(root),)))
    if msg_type == "link":
        text = f"{root.get('Title') or ''} {root.get('Url') or ''}".strip()
        return Inbound("message", openid, account, key, message(text))
    return Inbound("unsupported", openid, account, key)


def _readable(root: dict[str, Any]) -> bool:
    """Whether wechatpy's ``parse_message`` reads it: a text ``MsgType``, and a text ``Event`` (and
    ``EventKey`` of a subscribe) where it looks at them."""
    msg_type = root.get("MsgType")
    if not isinstance(msg_type, str):
        return False
    if msg_type.lower() == "event" or msg_type.lower().startswith("device_"):
        event = root.get("Event")
        if "Event" in root and not isinstance(event, str):
            return False
        key = root.get("EventKey")
        if isinstance(event, str) and event.lower() == "subscribe" and key and not isinstance(key, str):
            return False
    return True


def _scene(event: str, key: str) -> str | None:
    """The QR-code scene of a subscribe or scan event (wechatpy's ``scene_id``, else ``key``)."""
    if event == "scan":
        return key or None
    if key.startswith(("scanbarcode|", "scanimage|")):  # a product code scanned: its third part
        parts = key.split("|")
        return parts[2] if len(parts) > 2 else None
    if key.startswith("qrscene_"):
        return key[len("qrscene_") :] or None
    return key or None


def _location(data: dict[str, Any]) -> Attachment:
    label = str(data.get("Label") or data.get("Poiname") or "") or None
    return Attachment(
        "location",
        latitude=_float(data.get("Location_X")),
        longitude=_float(data.get("Location_Y")),
        label=label,
    )
