"""A safe-mode WeChat turn with less of its own work (issue 16), answering as before.

- The Redis commands of concurrent requests share round trips (``bot.infra.roundtrips``): each caller gets its
  own results, and a failed command fails only its caller.
- A sealed message is claimed in the same round trip as the turn's first commands; a retry of a
  message already answered still gets the stored answer and leaves nothing on the unanswered list.
- WeChat's safe-mode envelope is read without a parser, to the same ``Encrypt`` the parser reads
  (anything else is parsed as before), and decryption gives what wechatpy's gives.
"""

from __future__ import annotations

import asyncio
import base64
import random
import struct
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import xmltodict
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from redis.exceptions import ResponseError
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat.pending import PENDING
from bot.channels.wechat.security import Cryptor, Rejected, parse_xml, sealed_envelope, sha1_signature
from bot.infra.roundtrips import RoundTrips
from tests.wechat.conftest import (
    ACCOUNT,
    AES_KEY,
    APP_ID,
    FIXTURES,
    OLD_AES_KEY,
    TOKEN,
    WeChatWorld,
    count_round_trips,
)

ENCRYPT = "kZvGYbDKbtPGKTlDE1fv" + "A" * 40 + "Zr/+9=="
ENVELOPES = [
    f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>",
    f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>",
    f"<xml>\n  <ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>\n  <Encrypt>{ENCRYPT}</Encrypt>\n</xml>\n",
    f"<xml><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>",
]
PARSED_AS_BEFORE = [
    f'<?xml version="1.0"?><xml><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>',  # a prolog
    f"<xml><ToUserName>gh</ToUserName><MsgType>text</MsgType><Encrypt>{ENCRYPT}</Encrypt></xml>",
    f"<xml><Encrypt> {ENCRYPT} </Encrypt></xml>",  # spaces inside (the parser strips them)
    f"<xml><Encrypt>{ENCRYPT}</Encrypt></xml>\f",  # not XML whitespace: the parser refuses it
    f"<xml><ToUserName>g&amp;h</ToUserName><Encrypt>{ENCRYPT}</Encrypt></xml>",
    f'<!DOCTYPE xml [<!ENTITY e "x">]><xml><Encrypt>{ENCRYPT}</Encrypt></xml>',
]


async def test_concurrent_callers_share_a_round_trip_and_keep_their_own_results_and_errors(
    world: WeChatWorld,
) -> None:
    redis: aioredis.Redis = world.channel.redis
    group = RoundTrips(redis, settle_turns=1, raise_errors=True)  # as the channel's
    await redis.set("shopbot:test:word", b"not a number")
    trips = count_round_trips(redis)

    def writes(n: int) -> Any:
        def queue(batch: Any) -> None:
            batch.set(f"shopbot:test:n{n}", str(n).encode())
            batch.get(f"shopbot:test:n{n}")

        return queue

    results = await asyncio.gather(
        *(group.run(writes(n)) for n in range(30)),
        group.run(lambda batch: batch.incr("shopbot:test:word")),
        return_exceptions=True,
    )
    assert [r for r in results[:30]] == [[True, str(n).encode()] for n in range(30)]
    assert isinstance(results[30], ResponseError)  # the failed command's caller, and only it
    assert len(trips) == 1 and len(trips[0]) == 61
    assert await group.run(writes(99)) == [True, b"99"]  # a caller alone: its own round trip


async def test_a_sealed_turn_claims_with_its_first_commands_and_a_retry_changes_nothing(
    world: WeChatWorld,
) -> None:
    channel, official = world.channel, world.official
    redis = channel.redis
    trips = count_round_trips(redis)
    xml = official.text_xml("oSealed", "你好")
    status, first = await official.post_xml(xml, encrypted=True)
    assert status == 200 and "购物助手" in decrypt_reply(first)
    claim = [command[0] for command in trips[0]]
    assert claim[:4] == ["SET", "HSETNX", "HSET", "EXPIRE"]  # claimed, written down, window opened
    await asyncio.sleep(0.05)  # the strike-off follows the written answer
    assert await redis.hlen(PENDING) == 0
    status, again = await official.post_xml(xml, encrypted=True)  # WeChat's retry: same MsgId
    assert status == 200 and decrypt_reply(again) == decrypt_reply(first)
    await asyncio.sleep(0.05)
    assert await redis.hlen(PENDING) == 0  # not put back: the recovery job has nothing to answer
    assert await channel.recover() == 0
    await channel.drain()
    assert world.fake.sent() == []  # answered once, passively


def test_the_envelope_is_read_as_the_parser_reads_it() -> None:
    for body in ENVELOPES:
        assert sealed_envelope(body.encode()) == parse_xml(body)["Encrypt"] == ENCRYPT
    for body in PARSED_AS_BEFORE:
        assert sealed_envelope(body.encode()) is None
    files = sorted((FIXTURES / "wechatpy_parser").glob("*.xml")) + sorted(
        (FIXTURES / "wechatpy_events").glob("*.xml")
    )
    for path in files:
        raw = Path(path).read_bytes()
        found = sealed_envelope(raw)
        assert found is None or found == parse_xml(raw)["Encrypt"]


@pytest.mark.parametrize("seed", range(3))
def test_decryption_gives_what_wechatpy_gives(seed: int) -> None:
    picks = random.Random(seed)
    theirs = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    ours = Cryptor(TOKEN, APP_ID, [AES_KEY])
    for length in (0, 1, 15, 16, 17, 31, 32, 33, 200):
        text = "".join(picks.choice("ab<>&]]中文😀 \n") for _ in range(length))
        envelope = xmltodict.parse(theirs.encrypt_message(text, "n", "1"))["xml"]
        encrypt, signature = envelope["Encrypt"], envelope["MsgSignature"]
        assert ours.decrypt(encrypt, signature, "1", "n") == text
        assert theirs.decrypt_message(_wrapped(encrypt), signature, "1", "n") == text
    other_app = Cryptor(TOKEN, "wxsomeoneelse", [AES_KEY])
    with pytest.raises(Rejected, match="bad_ciphertext"):
        other_app.decrypt(encrypt, signature, "1", "n")
    cut = encrypt[:-8] + "AAAAAAA="
    with pytest.raises(Rejected):
        ours.decrypt(cut, sha1_signature(TOKEN, "1", "n", cut), "1", "n")


def _wrapped(encrypt: str) -> str:
    return f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"


def decrypt_reply(body: str) -> str:
    """The text of a passive reply (``Official.post_xml`` has decrypted it and checked its signature)."""
    return str(xmltodict.parse(body)["xml"]["Content"])


def test_one_cryptor_seals_and_opens_message_after_message_as_fresh_ciphers_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The AES contexts are made once and kept: every message, after others (and after refused
    ciphertexts), is sealed to what a fresh cipher gives, and WeChat's side (wechatpy) opens it."""
    theirs = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    ours = Cryptor(TOKEN, APP_ID, [OLD_AES_KEY, AES_KEY])  # (rotating: replies with the first)
    older = WeChatCrypto(TOKEN, OLD_AES_KEY, APP_ID)
    key = older.key
    monkeypatch.setattr(Cryptor, "_random_prefix", lambda self: b"0123456789abcdef")
    picks = random.Random(7)
    for length in (0, 5, 27, 28, 60, 300, 1, 2000):
        text = "".join(picks.choice("ab<>&中文😀\n") for _ in range(length))
        sealed = ours.seal(text)
        raw = text.encode()
        plain = b"0123456789abcdef" + struct.pack(">I", len(raw)) + raw + APP_ID.encode()
        pad = 32 - len(plain) % 32
        fresh = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        assert (
            sealed == base64.b64encode(fresh.update(plain + bytes((pad,)) * pad) + fresh.finalize()).decode()
        )
        signature = sha1_signature(TOKEN, "1", "n", sealed)
        assert older.decrypt_message(_wrapped(sealed), signature, "1", "n") == text
        assert ours.decrypt(sealed, signature, "1", "n") == text
        with pytest.raises(Rejected, match="bad_ciphertext"):  # not whole blocks: refused, nothing kept
            odd = sealed[:-4] + "A" * 4 if length % 2 else base64.b64encode(b"x" * 17).decode()
            ours.decrypt(odd, sha1_signature(TOKEN, "1", "n", odd), "1", "n")
        envelope = xmltodict.parse(theirs.encrypt_message(text, "n", "1"))["xml"]
        assert ours.decrypt(envelope["Encrypt"], envelope["MsgSignature"], "1", "n") == text
