"""``shopbot rasa-actions``: serve our commerce actions through rasa-sdk's action server."""

from __future__ import annotations

import typer

from bot.bootstrap import bootstrap
from bot.rasa_actions import action_executor
from bot.settings import load_settings


def rasa_actions(port: int = typer.Option(5055, help="the port Rasa's endpoints.yml points at")) -> None:
    """Run the action server (POST /webhook) with search, cart, order status, cancel and after-sales."""
    from rasa_sdk import endpoint

    container = bootstrap(load_settings())
    endpoint.run(action_executor(container.commerce), port=port)
