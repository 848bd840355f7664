"""Forms keep what they get (R5.2-4): the delivery address in any order over one to three messages.

A shopper answers "where should it go?" the way they would to a person: the address first and the phone
later, a name on its own, a Telegram contact card and a shared location. Each message adds the parts it
carries (recipient, mobile number, address line) to the step's slots; the step asks only for the parts
still missing and completes as soon as it has all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from commerce_core.api import AddressInput
from dialogs.context import Turn
from dialogs.flows.common import _PHONE, KNOWN_CITIES, _city

PARTS = ("name", "phone", "line")
_LABEL = re.compile(
    r"^\s*(?:收件人|收货人|收貨人|姓名|名字|联系人|聯絡人|联系电话|聯絡電話|电话|電話|手机|手機|地址|收货地址|收貨地址|"
    r"name|recipient|phone|mobile|tel|address)\s*[:：是为為]?\s*",
    re.IGNORECASE,
)
#: words that make a piece of text an address rather than a name
_ADDRESS_MARK = re.compile(
    r"\d|[省市区區县縣镇鎮乡鄉村路街道巷弄号號楼樓室栋棟座苑园園府]|大道|小区|小區|"
    r"\b(?:road|rd|street|st|avenue|ave|lane|district|city|building|bldg|floor|apt|unit|room|block|"
    r"village|town|county|province|no)\b",
    re.IGNORECASE,
)
_CJK_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,5}$")
_LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z.'-]*(?: [A-Za-z][A-Za-z.'-]*){0,3}$")


@dataclass(frozen=True, slots=True)
class AddressParts:
    name: str | None = None
    phone: str | None = None
    line: str | None = None

    def as_slots(self) -> dict[str, str]:
        return {
            part: value
            for part, value in zip(PARTS, (self.name, self.phone, self.line), strict=True)
            if value
        }


def _is_name(piece: str) -> bool:
    if _ADDRESS_MARK.search(piece) or piece.lower() in KNOWN_CITIES or piece in KNOWN_CITIES.values():
        return False
    return bool(_CJK_NAME.match(piece) or _LATIN_NAME.match(piece))


def _is_address(piece: str) -> bool:
    return bool(_ADDRESS_MARK.search(piece)) or len(piece) >= 12 or piece.lower() in KNOWN_CITIES


def read_parts(text: str) -> AddressParts:
    """The parts one message carries, in any order: "张三 138… 上海市…", "上海市…", "John", "138…"."""
    phone_match = _PHONE.search(text)
    phone = phone_match.group() if phone_match else None
    rest = text[: phone_match.start()] + "\n" + text[phone_match.end() :] if phone_match else text
    separated = re.split(r"[,，;；\n、]+", rest)
    pieces: list[str] = []
    for chunk in separated:
        chunk = _LABEL.sub("", chunk).strip(" .。:：")
        if not chunk:
            continue
        # Chinese written with spaces: "张三 上海市浦东新区…" separates the name by a space
        words = chunk.split(" ")
        if (
            len(words) > 1
            and _is_name(words[0])
            and not _LATIN_NAME.match(chunk)
            and _CJK_NAME.match(words[0])
        ):
            pieces += [words[0], " ".join(words[1:])]
        elif len(words) > 1 and _is_name(words[-1]) and _CJK_NAME.match(words[-1]):
            pieces += [" ".join(words[:-1]), words[-1]]
        else:
            pieces.append(chunk)
    name = next((p for p in (pieces[:1] + pieces[-1:]) if _is_name(p)), None)
    address_pieces = [p for p in pieces if p != name]
    line = ", ".join(address_pieces) if address_pieces else None
    if line is not None and not _is_address(line):
        line = None
    return AddressParts(name, phone, line)


def missing(slots: dict[str, object]) -> list[str]:
    return [part for part in PARTS if not slots.get(f"addr_{part}")]


def collect(turn: Turn, parts: AddressParts) -> bool:
    """Add what ``parts`` carries to the step's slots; True if anything new arrived."""
    new = False
    for part, value in parts.as_slots().items():
        key = f"addr_{part}"
        if turn.slots.get(key) != value:
            turn.slots[key] = value
            new = True
    return new


def completed(turn: Turn) -> AddressInput | None:
    """The full address once every part is known (the channel's name for the user may stand in for the
    recipient when the shopper gave a phone and an address but no name)."""
    slots = turn.slots
    if (
        not slots.get("addr_name")
        and slots.get("addr_phone")
        and slots.get("addr_line")
        and turn.display_name
    ):
        slots["addr_name"] = turn.display_name
    if missing(slots):
        return None
    line = str(slots["addr_line"])
    return AddressInput(
        recipient=str(slots["addr_name"]), phone=str(slots["addr_phone"]), city=_city(line), line=line
    )


def ask_missing(turn: Turn, *, got_something: bool) -> None:
    """Ask for exactly the parts still missing, saying what was understood."""
    wanted = [turn.t(f"form.part.{part}") for part in missing(turn.slots)]
    separator = ", " if turn.lang == "en" else "、"
    key = "form.ask_missing" if got_something else "form.unclear"
    turn.say(key, parts=separator.join(wanted))


def forget(turn: Turn) -> None:
    for part in PARTS:
        turn.slots.pop(f"addr_{part}", None)
