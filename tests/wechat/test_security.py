"""Signatures, freshness, safe XML and the published vectors (crypto_vectors.json, pay_vectors.json)."""

from __future__ import annotations

import json

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.pay.utils import dict_to_xml

from bot.channels.wechat.pay import sign, signature_ok
from bot.channels.wechat.security import (
    Cryptor,
    Rejected,
    check_fresh,
    check_signature,
    parse_xml,
    sha1_signature,
)
from tests.wechat.conftest import FIXTURES, VECTORS

PAY = json.loads((FIXTURES / "pay_vectors.json").read_text())["md5_hmac_sign_vector_2"]

BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><Content>&lol3;</Content></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType>
<Content>&xxe;</Content></xml>"""


def test_pay_signing_vector_reproduces() -> None:
    assert sign(PAY["params"], PAY["key"], "MD5") == PAY["expected_sign_MD5"]
    assert sign(PAY["params"], PAY["key"], "HMAC-SHA256") == PAY["expected_sign_HMAC-SHA256"]
    assert dict_to_xml(PAY["params"], sign(PAY["params"], PAY["key"], "MD5")) == PAY["expected_dict_to_xml"]
    signed = {**PAY["params"], "sign_type": "HMAC-SHA256"}
    signed["sign"] = sign(signed, PAY["key"])
    assert signature_ok(signed, PAY["key"])
    assert not signature_ok({**signed, "test1": "tampered"}, PAY["key"])


def test_official_sample_ciphertexts_reproduce_and_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    v = VECTORS[0]
    monkeypatch.setattr(PrpCrypto, "get_random_string", lambda self: v["random"])
    crypto = WeChatCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    cryptor = Cryptor(v["token"], v["appid"], [v["encoding_aes_key"]])
    for case in v["cases"]:
        assert PrpCrypto(crypto.key).encrypt(case["plaintext"], v["appid"]).decode() == case["ciphertext"]
        signature = sha1_signature(v["token"], v["timestamp"], v["nonce"], case["ciphertext"])
        plain = cryptor.decrypt(case["ciphertext"], signature, v["timestamp"], v["nonce"])
        assert plain == case["plaintext"]
    assert signature == v["cases"][1]["derived_msg_signature_NOT_FROM_SOURCE"]


def test_wecom_vector_verify_decrypt_encrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    v = VECTORS[1]
    cryptor = Cryptor(v["token"], v["corp_id"], [v["encoding_aes_key"]])
    url = v["verify_url"]
    assert (
        cryptor.decrypt(url["echostr"], url["msg_signature"], url["timestamp"], url["nonce"])
        == url["expected_echo_plain"]
    )
    d = v["decrypt"]
    encrypt = parse_xml(d["post_body_xml"])["Encrypt"]
    assert (
        cryptor.decrypt(encrypt, d["msg_signature"], d["timestamp"], d["nonce"])
        == d["expected_plaintext_xml"]
    )
    with pytest.raises(Rejected):
        cryptor.decrypt(encrypt, "0" * 40, d["timestamp"], d["nonce"])
    e = v["encrypt"]
    monkeypatch.setattr(Cryptor, "_random_prefix", lambda self: e["random"].encode())
    envelope = parse_xml(cryptor.encrypt(e["plaintext"], e["timestamp"], e["nonce"]))
    assert envelope["Encrypt"] == e["expected_encrypt"]
    assert envelope["MsgSignature"] == e["expected_msg_signature"]


def test_previous_key_still_decrypts_during_rotation() -> None:
    old, new = VECTORS[1]["encoding_aes_key"], VECTORS[0]["encoding_aes_key"]
    sealed = WeChatCrypto("t", old, "wxapp").encrypt_message("<xml><a>1</a></xml>", "n", "1")
    encrypt = parse_xml(sealed)["Encrypt"]
    signature = sha1_signature("t", "1", "n", encrypt)
    assert Cryptor("t", "wxapp", [new, old]).decrypt(encrypt, signature, "1", "n") == "<xml><a>1</a></xml>"
    with pytest.raises(Rejected, match="bad_ciphertext"):
        Cryptor("t", "wxapp", [new]).decrypt(encrypt, signature, "1", "n")


def test_signature_and_freshness() -> None:
    good = sha1_signature("tok", "100", "n")
    check_signature("tok", good, "100", "n")
    for forged in ("", good[:-1] + ("0" if good[-1] != "0" else "1"), sha1_signature("other", "100", "n")):
        with pytest.raises(Rejected, match="bad_signature"):
            check_signature("tok", forged, "100", "n")
    check_fresh("1000", 1200, 300)
    with pytest.raises(Rejected, match="stale"):
        check_fresh("1000", 1400, 300)
    with pytest.raises(Rejected):
        check_fresh("soon", 1000, 300)


@pytest.mark.parametrize("body", [BOMB, XXE, b"<xml><a>unclosed</xml>", b"not xml", b"<xml>" + b"a" * 70000])
def test_dangerous_or_broken_xml_is_refused(body: bytes) -> None:
    with pytest.raises(Rejected):
        parse_xml(body)
