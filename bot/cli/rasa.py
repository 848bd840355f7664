"""``shopbot rasa-actions``: serve our commerce actions to Rasa (see :mod:`bot.rasa_server`)."""

from __future__ import annotations

import typer
from aiohttp import web

from bot.bootstrap import bootstrap
from bot.rasa_actions import action_executor
from bot.rasa_server import create_action_app
from bot.settings import load_settings


def rasa_actions(
    port: int = typer.Option(5055, help="the port Rasa's endpoints.yml points at"),
    host: str = typer.Option("127.0.0.1", help="the address to listen on"),
) -> None:
    """Run the action server (POST /webhook) with search, cart, order status, cancel and after-sales."""
    container = bootstrap(load_settings())
    app = create_action_app(action_executor(container.commerce))

    async def close(_: web.Application) -> None:
        await container.commerce.close()

    app.on_cleanup.append(close)
    typer.echo(f"rasa action server on http://{host}:{port} (/health, /actions, /webhook)")
    web.run_app(app, host=host, port=port, print=None)
