"""A WeChat official account in a test: the real runtime behind the HTTP app, and a fake WeChat.

``FakeWeChat`` plays WeChat's servers behind httpx's MockTransport (access tokens, customer-service,
template and menu APIs, WeChat Pay v2); ``Official`` plays WeChat's side of the webhook: it signs,
optionally encrypts, posts message XML to ``/wechat`` and reads (and decrypts) the passive reply.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import xmltodict
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.crypto import WeChatCrypto
from wechatpy.pay.utils import dict_to_xml

from bot.channels.base import ChannelContext
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.pay import sign
from bot.channels.wechat.security import sha1_signature
from bot.channels.wechat.settings import WeChatSettings
from bot.http.app import create_app
from bot.runtime import Runtime
from commerce_core.clock import FakeClock
from nlu import BuiltinInterpreter
from tests.commerce.factory import build_shop
from tests.runtime_support import make_runtime, sqlite_copy

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "wechat"
VECTORS = json.loads((FIXTURES / "crypto_vectors.json").read_text())
OFFICIAL = VECTORS[0]
APP_ID = OFFICIAL["appid"]
TOKEN = OFFICIAL["token"]
AES_KEY = OFFICIAL["encoding_aes_key"]
OLD_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
PAY_KEY = json.loads((FIXTURES / "pay_vectors.json").read_text())["md5_hmac_sign_vector_2"]["key"]
MCH_ID = "1900000109"
ACCOUNT = "gh_shopbot"


def wechat_settings(**overrides: Any) -> WeChatSettings:
    values: dict[str, Any] = {
        "app_id": APP_ID,
        "app_secret": "secret",
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "previous_encoding_aes_key": OLD_AES_KEY,
        "mode": "compatible",
        "allow_plaintext": True,  # the fixtures are also posted in plaintext (test_every_fixture_is_accepted)
        "pay_mch_id": MCH_ID,
        "pay_api_key": PAY_KEY,
        "public_base_url": "https://shop.example",
    }
    values.update(overrides)
    return WeChatSettings.model_construct(**{**WeChatSettings().model_dump(), **values})


class FakeWeChat:
    """WeChat's API servers as seen through httpx.MockTransport."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.token_fetches = 0
        self.errors: list[int] = []  # errcodes to answer the next API calls with
        self.trades: dict[str, dict[str, Any]] = {}  # out_trade_no -> unified order
        self.trade_state: dict[str, str] = {}
        self.refunds: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/cgi-bin/token":
            self.token_fetches += 1
            return httpx.Response(
                200, json={"access_token": f"TOKEN{self.token_fetches}", "expires_in": 7200}
            )
        if path.startswith("/cgi-bin/"):
            self.calls.append((path, json.loads(request.content)))
            if self.errors:
                code = self.errors.pop(0)
                return httpx.Response(200, json={"errcode": code, "errmsg": "error"})
            return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})
        data = xmltodict.parse(request.content)["xml"]
        assert sign(data, PAY_KEY, data["sign_type"]) == data["sign"], "unsigned WeChat Pay request"
        self.calls.append((path, data))
        if path == "/pay/unifiedorder":
            self.trades[data["out_trade_no"]] = data
            return self.pay_answer(
                {
                    "result_code": "SUCCESS",
                    "prepay_id": "wx2026" + data["out_trade_no"],
                    "code_url": f"weixin://wxpay/bizpayurl?pr={data['out_trade_no'][-6:]}",
                    "trade_type": data["trade_type"],
                }
            )
        if path == "/pay/orderquery":
            trade = self.trades[data["out_trade_no"]]
            return self.pay_answer(
                {
                    "result_code": "SUCCESS",
                    "out_trade_no": data["out_trade_no"],
                    "trade_state": self.trade_state.get(data["out_trade_no"], "NOTPAY"),
                    "total_fee": trade["total_fee"],
                    "fee_type": "CNY",
                    "transaction_id": "4200" + data["out_trade_no"][-10:],
                }
            )
        if path == "/secapi/pay/refund":
            self.refunds.append(data)
            return self.pay_answer(
                {"result_code": "SUCCESS", "refund_id": "5030" + data["out_refund_no"][-8:]}
            )
        return httpx.Response(404)

    def pay_answer(self, fields: dict[str, Any]) -> httpx.Response:
        body = {
            "return_code": "SUCCESS",
            "appid": APP_ID,
            "mch_id": MCH_ID,
            "nonce_str": "n" * 16,
            "sign_type": "HMAC-SHA256",
            **fields,
        }
        return httpx.Response(200, content=dict_to_xml(body, sign(body, PAY_KEY)).encode())

    def paid_notification(self, reference: str, *, amount: int | None = None, key: str = PAY_KEY) -> bytes:
        trade = self.trades[reference]
        self.trade_state[reference] = "SUCCESS"
        body = {
            "return_code": "SUCCESS",
            "result_code": "SUCCESS",
            "appid": APP_ID,
            "mch_id": MCH_ID,
            "nonce_str": secrets.token_hex(8),
            "sign_type": "HMAC-SHA256",
            "openid": "oUser",
            "trade_type": trade["trade_type"],
            "bank_type": "CMC",
            "total_fee": amount or trade["total_fee"],
            "fee_type": "CNY",
            "transaction_id": "4200" + reference[-10:],
            "out_trade_no": reference,
            "time_end": "20260101120000",
        }
        return dict_to_xml(body, sign(body, key)).encode()  # type: ignore[no-any-return]

    def sent(self, api: str = "/cgi-bin/message/custom/send") -> list[Any]:
        return [body for path, body in self.calls if path == api]


class Official:
    """WeChat's side of the webhook."""

    def __init__(self, client: TestClient[Any, Any], channel: WeChatChannel) -> None:
        self.client = client
        self.channel = channel
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self.created = 1_700_000_000
        self.msg_ids = 6_000_000_000_000_000_000

    def query(self, *, encrypt: str | None = None, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(self.channel.now()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(5)
        query = {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(TOKEN, ts, nonce)}
        if encrypt is not None:
            query.update(encrypt_type="aes", msg_signature=sha1_signature(TOKEN, ts, nonce, encrypt))
        return query

    async def post_xml(
        self,
        xml: str,
        *,
        encrypted: bool = False,
        query: dict[str, str] | None = None,
        crypto: WeChatCrypto | None = None,
    ) -> tuple[int, str]:
        if encrypted:
            envelope = xmltodict.parse((crypto or self.crypto).encrypt_message(xml, "n0nce"))["xml"]
            body = (
                f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
            )
            query = query or self.query(encrypt=envelope["Encrypt"])
        else:
            body = xml
            query = query or self.query()
        response = await self.client.post("/wechat", params=query, data=body.encode())
        text = await response.text()
        if encrypted and text.startswith("<xml>"):
            answer = xmltodict.parse(text)["xml"]
            assert answer["MsgSignature"] == sha1_signature(
                TOKEN, answer["TimeStamp"], answer["Nonce"], answer["Encrypt"]
            )
            text = self.crypto.decrypt_message(
                text, answer["MsgSignature"], answer["TimeStamp"], answer["Nonce"]
            )
        return response.status, text

    def text_xml(self, user: str, content: str, *, msg_id: int | None = None) -> str:
        self.created += 1
        self.msg_ids += 1
        return (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{self.created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or self.msg_ids}</MsgId></xml>"
        )

    async def say(self, user: str, content: str, *, encrypted: bool = False) -> str:
        """A shopper's text; the passive reply's text (or ``success``)."""
        status, text = await self.post_xml(self.text_xml(user, content), encrypted=encrypted)
        assert status == 200, text
        if text == "success":
            return text
        reply = xmltodict.parse(text)["xml"]
        if reply["MsgType"] == "news":
            item = reply["Articles"]["item"]
            return f"{item['Title']}\n{item['Description']}"
        return str(reply["Content"])


class WeChatWorld:
    def __init__(
        self, runtime: Runtime, channel: WeChatChannel, fake: FakeWeChat, official: Official, clock: FakeClock
    ) -> None:
        self.runtime = runtime
        self.channel = channel
        self.fake = fake
        self.official = official
        self.client = official.client
        self.clock = clock


def fake_wechat_channel(fake: FakeWeChat, settings: WeChatSettings) -> Any:
    """A channel factory for bootstrap: the real WeChat channel, talking to ``fake``."""

    def create(context: ChannelContext) -> WeChatChannel:
        return WeChatChannel(context, settings, http=httpx.AsyncClient(transport=httpx.MockTransport(fake)))

    return create


async def open_world(
    runtime: Runtime, clock: FakeClock, fake: FakeWeChat
) -> tuple[WeChatWorld, TestClient[Any, Any]]:
    channel = runtime.channels["wechat"]
    assert isinstance(channel, WeChatChannel)
    client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime)))
    await client.start_server()
    return WeChatWorld(runtime, channel, fake, Official(client, channel), clock), client


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """WeChat tests run on the embedded default."""
    return sqlite_copy(request, tmp_path)


@pytest_asyncio.fixture
async def world(
    db_url: str,
    tmp_path: Path,
    clock: FakeClock,
    interpreter: BuiltinInterpreter,
) -> AsyncIterator[WeChatWorld]:
    fake = FakeWeChat()
    channels = {"wechat": fake_wechat_channel(fake, wechat_settings())}
    runtime = await make_runtime(db_url, tmp_path, clock, interpreter, channels=channels)
    await build_shop(runtime.container.commerce)
    await runtime.refresh_catalogue()
    world, client = await open_world(runtime, clock, fake)
    try:
        yield world
    finally:
        await client.close()
        await runtime.aclose()


def count_round_trips(redis: Any) -> list[list[tuple[Any, ...]]]:
    """The commands of every pipeline round trip on ``redis`` from now on (the test's own included)."""
    trips: list[list[tuple[Any, ...]]] = []
    real = redis.pipeline

    def counted(*args: Any, **kwargs: Any) -> Any:
        batch = real(*args, **kwargs)
        execute = batch.execute

        async def counted_execute(*a: Any, **k: Any) -> Any:
            trips.append([command for command, _options in batch.command_stack])
            return await execute(*a, **k)

        batch.execute = counted_execute
        return batch

    redis.pipeline = counted  # type: ignore[method-assign]
    return trips
