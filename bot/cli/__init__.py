"""The ``shopbot`` command line: one Typer app with a sub-app per concern.

Each command builds what it needs through :func:`bot.bootstrap.bootstrap`, so the command line, the
HTTP app and the tests wire the system the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import typer

from bot.channels.telegram import cli as telegram_cli
from bot.channels.wechat import cli as wechat_cli
from bot.cli import backup as backup_cli
from bot.cli import chat as chat_cli
from bot.cli import commerce as commerce_cli
from bot.cli import docs as docs_cli
from bot.cli import nlu as nlu_cli
from bot.cli import operators as operators_cli
from bot.cli import rasa as rasa_cli
from bot.cli import serve as serve_cli


@dataclass(frozen=True, slots=True)
class ChannelCommands:
    """A channel's part of the command line: ``shopbot <channel> ...`` and ``shopbot replay <channel>``."""

    commands: typer.Typer
    help: str
    replay: Callable[..., None] | None = None


#: one line per channel that has commands (the same names as ``bot.bootstrap.CHANNEL_FACTORIES``)
CHANNEL_COMMANDS = {
    "telegram": ChannelCommands(
        telegram_cli.app, "Telegram: webhook set-up and polling.", telegram_cli.replay_telegram
    ),
    "wechat": ChannelCommands(
        wechat_cli.wechat_app, "WeChat official account set-up.", wechat_cli.replay_wechat
    ),
}

#: plain click help: typer's rich panels (with click 8.5) print every flag as "--json <bool>"
typer.core.HAS_RICH = False
app = typer.Typer(no_args_is_help=True, add_completion=False, help="shopbot: a conversational shopping bot")
replay_app = typer.Typer(no_args_is_help=True, add_completion=False)
app.add_typer(nlu_cli.app, name="nlu", help="Train, run and evaluate the language understanding.")
app.add_typer(commerce_cli.db_app, name="db", help="Database migrations.")
app.add_typer(commerce_cli.seed_app, name="seed", help="Load data.")
app.add_typer(commerce_cli.orders_app, name="orders", help="Operator views of orders.")
app.add_typer(replay_app, name="replay", help="Replay platform payloads through the pipeline.")
app.command("demo")(commerce_cli.demo)
app.command("docs")(docs_cli.docs)
app.command("chat")(chat_cli.chat)
app.command("serve")(serve_cli.serve)
app.command("worker")(serve_cli.worker)
app.command("rasa-actions")(rasa_cli.rasa_actions)
for channel_name, channel_commands in CHANNEL_COMMANDS.items():
    app.add_typer(channel_commands.commands, name=channel_name, help=channel_commands.help)
    if channel_commands.replay is not None:  # `shopbot replay <channel> FILE...`
        replay_app.command(channel_name)(channel_commands.replay)
operators_cli.register(app)  # `shopbot staff add`, `shopbot merchant-user add`
app.command("backup")(backup_cli.backup)  # encrypted, with a checksum manifest (R7.1-1)
app.command("restore")(backup_cli.restore)


#: files shopbot creates (SQLite database and journal, secrets, uploads, the NLU cache) are readable
#: by their owner only: they hold customers' personal data and keys (a reviewer found them 0644)
PRIVATE_UMASK = 0o077


def main() -> None:
    """Entry point of the ``shopbot`` console script."""
    os.umask(PRIVATE_UMASK)
    app()
