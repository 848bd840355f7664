"""``shopbot chat``: talk to the bot in a terminal, play a script, or speak JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import typer

from bot.bootstrap import build_runtime
from bot.channels.console import ConsoleSession, format_for_terminal
from bot.runtime import Runtime
from bot.settings import load_settings
from commerce_core.api import migrate_database as upgrade
from commerce_core.catalog.types import SearchQuery


def chat(
    script: Path | None = typer.Option(None, help="play one user line per line and print the transcript"),
    as_json: bool = typer.Option(False, "--json", help="read lines from stdin, write replies as JSON lines"),
    user: str = typer.Option("console-user", help="who is chatting"),
    lang: str | None = typer.Option(None, help="zh-Hans, zh-Hant or en"),
) -> None:
    """Chat with the bot on the embedded default (or the configured database)."""
    settings = load_settings()
    asyncio.run(upgrade(settings.db_url))
    script_lines = script.read_text(encoding="utf-8").splitlines() if script else None
    asyncio.run(_chat(script_lines, as_json, user, lang))


async def _chat(script_lines: list[str] | None, as_json: bool, user: str, lang: str | None) -> None:
    from bot.cli.commerce import ensure_demo_catalogue

    runtime = await build_runtime()
    try:
        await ensure_demo_catalogue(runtime.container.commerce, quiet=as_json)
        await runtime.refresh_catalogue()
        await _warm_up(runtime)
        session = ConsoleSession(runtime, user, language=lang, numbered_buttons=not as_json)
        if as_json:
            for line in sys.stdin:
                for reply in await session.send(line.rstrip("\n")):
                    sys.stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
                sys.stdout.write(json.dumps({"turn_end": True}) + "\n")
                sys.stdout.flush()
        elif script_lines is not None:
            for line in script_lines:
                if not line.strip() or line.startswith("#"):
                    continue
                typer.echo(f"> {line}")
                typer.echo(format_for_terminal(await session.send(line)))
        else:
            typer.echo("shopbot chat — type a message (Ctrl-D to quit). Numbers press buttons.")
            loop = asyncio.get_running_loop()
            while True:
                line = await loop.run_in_executor(None, _read)
                if line is None:
                    break
                if line.strip():
                    typer.echo(format_for_terminal(await session.send(line)))
    finally:
        await runtime.aclose()


async def _warm_up(runtime: Runtime) -> None:
    """Load before the prompt what the first message would (the NLU's jieba dictionary and model
    pages, the search's own jieba dictionary and statements), so the first answer is as quick as
    the rest instead of taking seconds (issue 14, "a newcomer's first minutes")."""
    warm_up = getattr(runtime.interpreter, "warm_up", None)  # the built-in NLU; Rasa is remote
    if warm_up is not None:
        warm_up()
    await runtime.container.commerce.catalog.search(SearchQuery(text="连衣裙 dress", page_size=1))


def _read() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None
