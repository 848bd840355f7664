"""WeChat endpoint benchmark: messages/s through ``POST /wechat`` in safe mode on one process.

Each message is signed and AES-encrypted as WeChat sends it, then verified, decrypted, de-duplicated
and answered by the whole pipeline (NLU, dialogs, commerce) behind the real HTTP app; every tenth
message is also retried, as WeChat does, to exercise de-duplication. WeChat's API is a recording fake
(no network). Reports throughput and the share answered passively within the reply budget.

Database and Redis come from the app settings (a scratch database is created on the configured
server); prints figures for people, then one JSON line.

    python bench/wechat.py --users 20 --messages 10
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from aiohttp.test_utils import TestClient, TestServer
from wechatpy.crypto import WeChatCrypto

from bench._common import emit_json, scratch_database, summary
from bot.bootstrap import build_runtime
from bot.channels.base import ChannelContext
from bot.channels.wechat.api import Recorder
from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.security import parse_xml, sha1_signature
from bot.channels.wechat.settings import WeChatSettings
from bot.http.app import create_app
from bot.settings import load_settings
from commerce_core.app import Commerce
from commerce_core.catalog.types import ProductDraft, VariantDraft
from commerce_core.merchants.types import MerchantStatus

TOKEN, APP_ID = "benchtoken", "wxbench000000000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SCRIPT = ("你好", "有没有红色连衣裙", "第一个", "有没有耳机", "谢谢")
PRODUCTS = (
    ("D1", "红色碎花连衣裙", "连衣裙", 19900),
    ("D2", "黑色连衣裙", "连衣裙", 25900),
    ("H1", "蓝牙耳机", "耳机", 39900),
)


async def setup(commerce: Commerce) -> None:
    """A few products the script's searches find (the benchmark needs no demo data)."""
    await commerce.merchants.register("bench", {"zh-Hans": "测试店"}, status=MerchantStatus.ACTIVE)
    await commerce.catalog.create_category("goods", {"zh-Hans": "商品"})
    for code, title, kind, price in PRODUCTS:
        await commerce.catalog.create_product(
            ProductDraft(
                code,
                "bench",
                "goods",
                {"zh-Hans": title, "en": title},
                {"zh-Hans": f"一款{kind}"},
                [VariantDraft(f"{code}-X", {}, price, 10_000)],
            )
        )
        await commerce.catalog.publish(code)


async def run(users: int, messages: int) -> dict[str, Any]:
    settings = load_settings()
    async with scratch_database(settings) as url:
        wechat = WeChatSettings.model_construct(
            **{
                **settings.wechat.model_dump(),
                "app_id": APP_ID,
                "app_secret": "x",
                "token": TOKEN,
                "encoding_aes_key": AES_KEY,
                "mode": "safe",
            }
        )
        recorder = Recorder()

        def recording(context: ChannelContext) -> WeChatChannel:
            return WeChatChannel(context, wechat, http=httpx.AsyncClient(transport=recorder.transport()))

        runtime = await build_runtime(
            settings.model_copy(update={"database_url": url}), channels={"wechat": recording}
        )
        await setup(runtime.container.commerce)
        await runtime.refresh_catalogue()
        channel = runtime.channels["wechat"]
        assert isinstance(channel, WeChatChannel)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(runtime)))
        await client.start_server()
        crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        latencies: list[float] = []
        passive = 0
        retries = 0
        counter = iter(range(10**9))

        async def post(xml: str) -> tuple[str, float]:
            encrypt = parse_xml(crypto.encrypt_message(xml, "n"))["Encrypt"]
            ts, nonce = str(int(channel.now())), secrets.token_hex(4)
            query = {
                "timestamp": ts,
                "nonce": nonce,
                "signature": sha1_signature(TOKEN, ts, nonce),
                "encrypt_type": "aes",
                "msg_signature": sha1_signature(TOKEN, ts, nonce, encrypt),
            }
            body = f"<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
            started = time.perf_counter()
            response = await client.post("/wechat", params=query, data=body.encode())
            text = await response.text()
            assert response.status == 200, text
            return text, time.perf_counter() - started

        async def shopper(user: int) -> None:
            nonlocal passive, retries
            for i in range(messages):
                n = next(counter)
                xml = (
                    f"<xml><ToUserName>gh</ToUserName><FromUserName>obench{user}</FromUserName>"
                    f"<CreateTime>{1_700_000_000 + n}</CreateTime><MsgType>text</MsgType>"
                    f"<Content>{SCRIPT[i % len(SCRIPT)]}</Content><MsgId>{10**15 + n}</MsgId></xml>"
                )
                text, seconds = await post(xml)
                latencies.append(seconds)
                if text != "success" and seconds <= wechat.reply_budget:
                    passive += 1
                if n % 10 == 0:
                    await post(xml)
                    retries += 1

        started = time.perf_counter()
        await asyncio.gather(*(shopper(u) for u in range(users)))
        elapsed = time.perf_counter() - started
        await channel.drain()
        await client.close()
        await runtime.aclose()
    total = users * messages
    return {
        "bench": "wechat",
        "messages": total,
        "retries": retries,
        "seconds": round(elapsed, 3),
        "messages_per_s": round(total / elapsed, 1),
        "passive_share": round(passive / total, 4),
        "late_via_customer_service": len(recorder.calls),
        **summary(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    figures = asyncio.run(run(args.users, args.messages))
    print(f"{figures['messages']} messages (+{figures['retries']} retries) in {figures['seconds']} s")
    print(f"throughput: {figures['messages_per_s']} messages/s (safe mode, one process)")
    print(f"answered passively within the budget: {figures['passive_share']:.1%}")
    print(f"latency p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    emit_json(figures)


if __name__ == "__main__":
    main()
