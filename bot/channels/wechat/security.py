"""What WeChat's servers send us is checked here before anything reads it.

- Signatures are SHA-1 over the sorted token/timestamp/nonce (and, in safe mode, the ciphertext),
  compared in constant time; a timestamp outside the freshness window is refused, so a captured
  request cannot be replayed later, and a (timestamp, nonce) seen again with another body is refused
  (:class:`NonceBook`), so it cannot be replayed within the window either.
- With an EncodingAESKey set, a body without ``Encrypt`` is refused unless plaintext is explicitly
  allowed (``SHOPBOT_WECHAT_ALLOW_PLAINTEXT``): WeChat's compatible mode always sends ``Encrypt``.
- XML is parsed without DTDs: a body that declares a DOCTYPE or an ENTITY (XML bombs, external
  entities) is refused before any parser sees it, and the parser runs with entities disabled. The
  parser is expat driven directly into xmltodict's shape (:func:`parse_xml`): xmltodict's handler cost
  a WeChat turn three parses of about 40 µs each in issue 16's profile (envelope, message, and
  wechatpy's own re-parse), a third of that now.
- Safe mode (AES-256-CBC, WXBizMsgCrypt) with the current EncodingAESKey and, during a rotation, the
  previous one; replies are encrypted with the current key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import struct
from collections.abc import Mapping
from typing import Any, Protocol
from xml.parsers import expat

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import WeChatCrypto

MAX_XML = 64 * 1024
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)|<\?xml-stylesheet", re.IGNORECASE)
#: what WXBizMsgCrypt (and wechatpy) send back: the ciphertext, its signature, timestamp and nonce
_ENVELOPE = (
    "<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
    "<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>"
)
_BLOCK = 32  # WeChat's PKCS#7 padding is to 32 bytes, not AES's 16
#: the whole body of a safe-mode message as WeChat sends it (the account, then the ciphertext; CDATA or
#: not): read without a parser (:func:`sealed_envelope`); any other body goes to :func:`parse_xml`
_SEALED = re.compile(
    rb"<xml>[ \t\r\n]*(?:<ToUserName>(?:<!\[CDATA\[[\w.@-]*\]\]>|[\w.@-]*)</ToUserName>[ \t\r\n]*)?"
    rb"<Encrypt>(?:<!\[CDATA\[([A-Za-z0-9+/=]+)\]\]>|([A-Za-z0-9+/=]+))</Encrypt>[ \t\r\n]*</xml>[ \t\r\n]*",
    re.ASCII,
)


#: a str's (the decrypted message's) DTD check, as :data:`_DTD` does on bytes (ASCII rules for both)
_DTD_TEXT = re.compile(r"<!\s*(DOCTYPE|ENTITY)|<\?xml-stylesheet", re.IGNORECASE | re.ASCII)
#: characters XML forbids, and ``\r`` (which expat turns into ``\n``): a document with any goes to expat
_ODD = r"\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff"
#: one child of a flat ``<xml>`` (what every WeChat message but a few events is): a plain name, no
#: attributes, one CDATA section or plain text without markup or references (:func:`_flat`)
_CHILD = re.compile(
    rf"[ \t\n]*<([A-Za-z_][A-Za-z0-9_.-]*)>"
    rf"(?:<!\[CDATA\[((?:[^\]{_ODD}]|\](?!\]>))*)\]\]>|([^<&\]{_ODD}]*))</\1>"
)
_END = re.compile(r"[ \t\n]*</xml>[ \t\n]*")


class Rejected(Exception):
    """A request that is not from WeChat, too old, or unreadable; ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's scheme


def check_signature(token: str, signature: str, timestamp: str, nonce: str, *extra: str) -> None:
    expected = sha1_signature(token, timestamp, nonce, *extra)
    if not signature or not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise Rejected("bad_signature")


def check_fresh(timestamp: str, now: float, window: int) -> None:
    try:
        ts = int(timestamp)
    except ValueError:
        raise Rejected("bad_timestamp") from None
    if abs(now - ts) > window:
        raise Rejected("stale_timestamp")


def parse_xml(raw: bytes | str) -> dict[str, Any]:
    """The ``<xml>`` element of a WeChat document as a dict; no DTDs, no entities, bounded size.

    The dict is xmltodict's (``xmltodict.parse(raw)["xml"]``, which tests check on every fixture):
    text elements as stripped strings (empty ones None), attributes as ``@name``, text beside
    children as ``#text``, repeated elements as lists."""
    data = raw.encode() if isinstance(raw, str) else raw
    if len(data) > MAX_XML:
        raise Rejected("too_large")
    if isinstance(raw, str):
        if _DTD_TEXT.search(raw):
            raise Rejected("dtd_refused")
        flat = _flat(raw)
    elif _DTD.search(data):
        raise Rejected("dtd_refused")
    else:
        try:
            flat = _flat(data.decode())
        except UnicodeDecodeError:
            flat = None  # expat refuses it
    if flat is not None:
        return flat
    try:
        parsed = _xml_to_dict(data)
    except Exception as exc:
        raise Rejected("bad_xml") from exc
    root = parsed.get("xml")
    if not isinstance(root, dict):
        raise Rejected("bad_xml")
    return root


def sealed_envelope(raw: bytes) -> str | None:
    """The ``Encrypt`` of a body that is exactly WeChat's safe-mode envelope, else None (parse it).

    Why: the envelope is parsed for one value, and an expat parse of it was a fifth of the XML work of
    a turn. What matches here has no DTD, entity or other element, and parses (:func:`parse_xml`) to
    this ``Encrypt`` (tests check both ways)."""
    if len(raw) > MAX_XML:
        return None
    found = _SEALED.fullmatch(raw)
    if found is None:
        return None
    return (found.group(1) or found.group(2)).decode()


def _flat(text: str) -> dict[str, Any] | None:
    """What :func:`_xml_to_dict` makes of a flat ``<xml>`` document (tests compare them), read with one
    regular expression per child; None for any other document (expat reads it).

    Why: expat calls three Python handlers per element, the largest part of a WeChat turn's XML work
    in issue 16's profile (a message is a dozen flat children). Only what expat reads the same way is
    taken: no declaration, attributes, nesting, references, ``\r`` or characters XML forbids."""
    if not text.startswith("<xml>"):
        return None
    root: dict[str, Any] = {}
    pos, match = 5, _CHILD.match
    while (child := match(text, pos)) is not None:
        name, cdata, plain = child.groups()
        value = (cdata if cdata is not None else plain).strip() or None
        if name in root:
            _push(root, name, value)  # repeated: a list, as expat's reading makes it
        else:
            root[name] = value
        pos = child.end()
    return root if root and _END.fullmatch(text, pos) else None


def _xml_to_dict(data: bytes) -> dict[str, Any]:
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.buffer_text = True
    parser.EntityDeclHandler = _no_entities
    top: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any] | None, list[str]]] = []
    item: dict[str, Any] | None = top
    texts: list[str] = []

    def start(_name: str, attrs: list[str]) -> None:
        nonlocal item, texts
        stack.append((item, texts))
        item = {"@" + attrs[i]: attrs[i + 1] for i in range(0, len(attrs), 2)} if attrs else None
        texts = []

    def end(name: str) -> None:
        nonlocal item, texts
        text = "".join(texts).strip() or None if texts else None
        value: Any = item
        if value is None:
            value = text
        elif text:
            _push(value, "#text", text)
        item, texts = stack.pop()
        if item is None:
            item = {}
        _push(item, name, value)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = lambda text: texts.append(text)
    parser.Parse(data, True)
    return top


def _push(item: dict[str, Any], key: str, value: Any) -> None:
    if key not in item:
        item[key] = value
    elif isinstance(item[key], list):
        item[key].append(value)
    else:
        item[key] = [item[key], value]


def _no_entities(*_args: Any) -> None:
    raise ValueError("entities are disabled")


class Cryptor:
    """Safe-mode decryption with any of the configured keys, encryption with the newest."""

    def __init__(self, token: str, app_id: str, keys: list[str]) -> None:
        self.token = token
        self.app_id = app_id
        self._keys = [k for k in keys if k]
        for key in self._keys:
            if len(key) != 43:
                raise ValueError("an EncodingAESKey has 43 characters")
        self._crypto = WeChatCrypto(token, self._keys[0], app_id) if self._keys else None
        # one AES-256-CBC context per key (the IV is the key's first 16 bytes) made once and kept
        # (see :class:`_Chain`): wechatpy's PrpCrypto made a cipher per message
        self._chains = [_Chain(WeChatCrypto(token, k, app_id).key) for k in self._keys]
        self._app_id_bytes = app_id.encode()

    @property
    def enabled(self) -> bool:
        return self._crypto is not None

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        check_signature(self.token, msg_signature, timestamp, nonce, encrypt)
        try:
            sealed = base64.b64decode(encrypt.encode())  # (as wechatpy: what is not base64 is skipped)
        except ValueError:
            raise Rejected("bad_ciphertext") from None
        if not sealed or len(sealed) % 16:
            raise Rejected("bad_ciphertext")  # (not whole AES blocks: no key opens it)
        for chain in self._chains:
            try:
                return self._open(chain, sealed)
            except Exception:  # noqa: BLE001, S112 - wrong key: garbage padding or app id; try the next
                continue
        raise Rejected("bad_ciphertext")

    def _open(self, chain: _Chain, sealed: bytes) -> str:
        """wechatpy's ``PrpCrypto.decrypt`` (tests compare them): the padding length is the last byte,
        after 16 random bytes comes the message's length in network order, the message, our app id."""
        plain = chain.decrypt(sealed)
        content = plain[16 : -plain[-1]]
        (length,) = struct.unpack(">I", content[:4])
        xml = content[4 : length + 4].decode()
        if content[length + 4 :].decode() != self.app_id:
            raise ValueError("another app's message")
        return xml

    def seal(self, xml: str) -> str:
        """The base64 ciphertext of ``xml`` with the newest key (WXBizMsgCrypt's layout: 16 random
        bytes, the length in network order, the message, the app id, PKCS#7 to 32 bytes).

        Why not wechatpy's ``encrypt_message``: it rebuilds the AES cipher for every message and draws
        its 16 random characters from ``random.sample`` (not a secure source, and a tenth of a WeChat
        turn's CPU in issue 16's profile); the cipher context here is made once, the randomness is
        ``os.urandom``.
        """
        text = xml.encode()
        plain = b"".join((self._random_prefix(), struct.pack(">I", len(text)), text, self._app_id_bytes))
        return base64.b64encode(self._chains[0].encrypt(plain + _PADS[_BLOCK - len(plain) % _BLOCK])).decode()

    def _random_prefix(self) -> bytes:
        """The 16 random bytes the layout starts with (a known-answer test fixes them); whatever they
        are, WXBizMsgCrypt skips them (wechatpy's are letters)."""
        return os.urandom(16)

    def encrypt(self, xml: str, timestamp: str, nonce: str | None = None) -> str:
        """The passive reply's envelope: ciphertext, ``MsgSignature`` over it, timestamp and nonce."""
        nonce = nonce or os.urandom(8).hex()  # (``secrets.token_hex(8)``)
        encrypt = self.seal(xml)
        signature = sha1_signature(self.token, timestamp, nonce, encrypt)
        return _ENVELOPE.format(encrypt=encrypt, signature=signature, timestamp=timestamp, nonce=nonce)


class _Chain:
    """AES-256-CBC with one key and its fixed IV (WeChat's: the key's first 16 bytes), on contexts made
    once. Each message's ciphertext is what a fresh context gives (tests compare with wechatpy).

    Why: making a cipher context (the key schedule) cost more than encrypting a reply; a CBC context
    is kept going instead, and put back to the IV before each message by one block in front of it:
    decrypting, the block is the IV itself (its plaintext is dropped, and the next block chains from
    the IV); encrypting, it is the block that encrypts to the IV after the last ciphertext block
    (``D(IV) xor last``; its ciphertext, the IV, is dropped). Only whole blocks go in, so a context
    never holds a partial block between messages. Stateful: for the event loop's thread only."""

    __slots__ = ("_decryptor", "_encryptor", "_iv", "_last", "_opened_iv")

    def __init__(self, key: bytes) -> None:
        self._iv = key[:16]
        cipher = Cipher(algorithms.AES(key), modes.CBC(self._iv))
        self._encryptor = cipher.encryptor()
        self._decryptor = cipher.decryptor()
        single = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - one block: D(IV)
        self._opened_iv = int.from_bytes(single.update(self._iv) + single.finalize(), "big")
        self._last = self._iv  # the encryptor's chaining block: it starts at the IV

    def encrypt(self, plain: bytes) -> bytes:
        """``plain`` (whole blocks) encrypted as a fresh CBC context with the IV would."""
        lead = (self._opened_iv ^ int.from_bytes(self._last, "big")).to_bytes(16, "big")
        sealed = self._encryptor.update(lead + plain)
        self._last = sealed[-16:]
        return sealed[16:]

    def decrypt(self, sealed: bytes) -> bytes:
        """``sealed`` (whole blocks) decrypted as a fresh CBC context with the IV would."""
        return self._decryptor.update(self._iv + sealed)[16:]


_PADS = [bytes((n,)) * n for n in range(_BLOCK + 1)]  # PKCS#7 padding to 32 bytes, by its length


def query_value(query: Mapping[str, str], name: str) -> str:
    return str(query.get(name, ""))[:128]


class NonceStore(Protocol):
    async def set(self, name: str, value: Any, ex: Any = None, nx: bool = False) -> Any: ...

    async def get(self, name: str) -> Any: ...


class NonceBook:
    """Remembers every signed (timestamp, nonce) for the freshness window with a digest of its body.

    Why: the plaintext signature covers only token, timestamp and nonce, not the body, so one captured
    signed URL could carry any body and any openid. A (timestamp, nonce) seen again with a different
    body is refused; the same body again is WeChat's own retry (it resends a message it got no answer
    for), which the channel's de-duplication answers with the stored reply. Encrypted messages do not
    need it (their ``msg_signature`` covers the ciphertext): the channel asks only for plaintext ones.
    """

    def __init__(self, store: NonceStore, window: int) -> None:
        self._store = store
        self._keep = 2 * window + 60  # a timestamp is fresh for ``window`` either side of now

    async def check(self, timestamp: str, nonce: str, body: bytes) -> None:
        key, digest = self._entry(timestamp, nonce, body)
        if await self._store.set(key, digest, ex=self._keep, nx=True):
            return
        earlier = await self._store.get(key)
        if earlier is None or bytes(earlier) != digest:
            raise Rejected("replayed_nonce")

    def check_on(self, batch: Any, timestamp: str, nonce: str, body: bytes) -> bytes:
        """:meth:`check` queued on a Redis pipeline (``SET NX GET``): the request is a replay when the
        command's result is not None and differs from the digest returned here."""
        key, digest = self._entry(timestamp, nonce, body)
        batch.set(key, digest, ex=self._keep, nx=True, get=True)
        return digest

    @staticmethod
    def _entry(timestamp: str, nonce: str, body: bytes) -> tuple[str, bytes]:
        digest = hashlib.sha256(body).hexdigest().encode()
        return f"shopbot:wechat:nonce:{timestamp[:16]}:{nonce[:64]}", digest
