"""Running one command against the wired system: settings, bootstrap, the work, clean-up.

Why one helper: every command that touches the database needs the same frame (a configuration error
is exit 2 with the message, a domain error exit 1 with its code, never a traceback), and the operator
and commerce commands had grown two copies of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer

from bot.bootstrap import bootstrap
from bot.runtime import Container
from bot.settings import ConfigurationError, load_settings
from commerce_core.api import DomainError

T = TypeVar("T")


def run_in_container(work: Callable[[Container], Awaitable[T]]) -> T:
    """Run ``work`` on a freshly bootstrapped container and close it afterwards."""
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def go() -> T:
        container = bootstrap(settings)
        try:
            return await work(container)
        finally:
            await container.aclose()

    try:
        return asyncio.run(go())
    except DomainError as exc:
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        raise typer.Exit(1) from exc
