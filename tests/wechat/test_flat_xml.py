"""The flat-document reader (:func:`security._flat`) reads exactly what expat reads, or leaves it.

A WeChat message is read without expat when it is a flat ``<xml>`` (issue 16: expat's handlers were
most of a turn's XML work); a reading that differed would change what the bot hears, and one that
accepted what expat refuses would let unreadable or hostile XML through."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.channels.wechat.security import Rejected, _flat, _xml_to_dict, parse_xml
from tests.wechat.conftest import FIXTURES

FILES = sorted((FIXTURES / "wechatpy_parser").glob("*.xml")) + sorted(
    (FIXTURES / "wechatpy_events").glob("*.xml")
)
#: what makes XML tricky: markup, references, CDATA ends, line ends, characters XML forbids
PIECES = [
    "a",
    "中",
    " ",
    "\t",
    "\n",
    "\r",
    "<",
    ">",
    "&",
    "&amp;",
    "]",
    "]]>",
    "<![CDATA[",
    "\x01",
    "\ufffe",
    "é",
]


def expat(text: str) -> object:
    try:
        return _xml_to_dict(text.encode("utf-8", "surrogatepass"))["xml"]
    except Exception:  # noqa: BLE001 - refused
        return "refused"


@pytest.mark.parametrize("path", FILES, ids=lambda p: Path(p).stem)
def test_fixtures_read_the_same(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    flat = _flat(text)
    if flat is not None:
        assert flat == expat(text)
    assert parse_xml(text) == parse_xml(text.encode()) == expat(text)


def test_a_plain_message_takes_the_flat_reading() -> None:
    text = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n<FromUserName><![CDATA[oA]]></FromUserName>\n"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[ <b>2 & 3]] </b> ]]></Content><MsgId>1</MsgId><Empty></Empty></xml>\n"
    )
    assert _flat(text) == {
        "ToUserName": "gh_1",
        "FromUserName": "oA",
        "CreateTime": "1700000000",
        "MsgType": "text",
        "Content": "<b>2 & 3]] </b>",
        "MsgId": "1",
        "Empty": None,
    }
    assert _flat(text) == expat(text)


def test_random_flat_documents_read_as_expat_reads_them() -> None:
    rng = random.Random(16)
    taken = 0
    for _ in range(6000):
        children = []
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(["A", "Content", "a.b", "_x", "A1", "1A", "xml"])
            inner = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))
            body = f"<![CDATA[{inner}]]>" if rng.random() < 0.5 else inner
            children.append(rng.choice(["", "\n", " "]) + f"<{name}>{body}</{name}>")
        text = (
            rng.choice(["<xml>", " <xml>"])
            + "".join(children)
            + rng.choice(["</xml>", "</xml>\n", "\n</xml>x"])
        )
        flat = _flat(text)
        if flat is not None:
            taken += 1
            assert flat == expat(text), text
    assert taken > 150  # the flat reading was tried, not always left to expat


@pytest.mark.parametrize(
    "text",
    [
        "<xml><!DOCTYPE x><a>1</a></xml>",
        "<xml><a><![CDATA[<!ENTITY x 'y'>]]></a></xml>",
        "<xml><a>" + "x" * (64 * 1024) + "</a></xml>",
    ],
)
def test_dtds_and_oversized_documents_are_still_refused(text: str) -> None:
    for raw in (text, text.encode()):
        with pytest.raises(Rejected):
            parse_xml(raw)
