"""``shopbot wechat menu`` (custom menu set-up) and ``shopbot replay wechat FILE...``."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import httpx
import typer

from bot.channels.wechat.api import AccessTokens, Recorder, WeChatApi
from bot.channels.wechat.security import sha1_signature
from bot.infra.redis import make_redis
from bot.settings import Settings, load_settings
from dialogs.texts import Texts, load_texts

wechat_app = typer.Typer(no_args_is_help=True, add_completion=False)


def menu_definition(texts: Texts, lang: str = "zh-Hans") -> dict[str, Any]:
    """Search, my orders, after-sales and talk to a person (WeChat allows 3 top-level buttons)."""

    def click(key: str) -> dict[str, str]:
        return {"type": "click", "name": texts.get(lang, f"wechat.menu.{key}"), "key": key}

    return {
        "button": [
            click("search"),
            click("orders"),
            {
                "name": texts.get(lang, "wechat.menu.after_sales"),
                "sub_button": [click("after_sales"), click("human")],
            },
        ]
    }


@wechat_app.command("menu")
def menu(
    dry_run: bool = typer.Option(False, "--dry-run", help="print the menu JSON instead of sending it"),
    lang: str = typer.Option("zh-Hans"),
) -> None:
    """Set up the official account's custom menu (search, my orders, after-sales, talk to a person)."""
    definition = menu_definition(load_texts(), lang)
    if dry_run:
        typer.echo(json.dumps(definition, ensure_ascii=False))
        return
    settings = load_settings()
    wechat = settings.wechat
    if not (wechat.app_id and wechat.app_secret):
        raise typer.BadParameter("set SHOPBOT_WECHAT_APP_ID and SHOPBOT_WECHAT_APP_SECRET")

    async def go() -> None:
        redis = make_redis(settings.redis_url)
        async with httpx.AsyncClient(timeout=10) as http:
            tokens = AccessTokens(http, redis, wechat.app_id, wechat.app_secret, base=wechat.api_base)
            await WeChatApi(http, tokens, wechat.api_base).create_menu(definition)
        await redis.aclose()

    asyncio.run(go())
    typer.echo("menu set")


def signed_query(token: str, now: float) -> dict[str, str]:
    timestamp, nonce = str(int(now)), secrets.token_hex(6)
    return {"timestamp": timestamp, "nonce": nonce, "signature": sha1_signature(token, timestamp, nonce)}


async def replay_files(files: list[Path], settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every file through the whole pipeline with a recording WeChat (no network): what came out."""
    from bot.bootstrap import build_runtime
    from bot.channels.base import ChannelContext
    from bot.channels.wechat.channel import CHANNEL, WeChatChannel
    from commerce_core.api import migrate_database as upgrade

    settings = settings or load_settings()
    await upgrade(settings.db_url)
    recorder = Recorder()
    wechat = settings.wechat.model_copy(
        update={
            "mode": "plain",
            "app_id": "wxreplay",
            "app_secret": "replay",
            "token": "replay",
            "encoding_aes_key": "",
        }
    )

    def recording(context: ChannelContext) -> WeChatChannel:
        return WeChatChannel(context, wechat, http=httpx.AsyncClient(transport=recorder.transport()))

    runtime = await build_runtime(settings, channels={CHANNEL: recording})
    channel = runtime.channels[CHANNEL]
    assert isinstance(channel, WeChatChannel)
    lines: list[dict[str, Any]] = []
    try:
        for path in files:
            answer = await channel.receive(signed_query(wechat.token, channel.now()), path.read_bytes())
            await channel.drain()
            await runtime.tick()
            lines.append({"file": str(path), "status": answer.status, "reply": answer.body})
            lines.extend({"file": str(path), **call} for call in recorder.calls)
            recorder.calls.clear()
    finally:
        await runtime.aclose()
    return lines


def replay_wechat(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Run WeChat message XML files through the pipeline; print the passive reply and API calls as JSON.
    Mounted as ``shopbot replay wechat``."""
    for line in asyncio.run(replay_files(files)):
        typer.echo(json.dumps(line, ensure_ascii=False))
