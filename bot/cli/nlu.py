"""``shopbot nlu``: train, parse and evaluate (filled in by the NLU work)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def train() -> None:
    """Train and cache the intent model."""
    raise typer.Exit(1)
