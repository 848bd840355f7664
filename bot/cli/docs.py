"""``shopbot docs``: regenerate the Mermaid diagrams of the status machines."""

from __future__ import annotations

from pathlib import Path

import typer

from commerce_core.api import STATUS_MACHINES, status_document


def docs(out: Path = typer.Option(Path("docs/status"), help="where to write the diagrams")) -> None:
    """Write one Markdown file with a Mermaid diagram per status machine."""
    out.mkdir(parents=True, exist_ok=True)
    for name in STATUS_MACHINES:
        (out / f"{name}.md").write_text(status_document(name), encoding="utf-8")
        typer.echo(f"wrote {out / (name + '.md')}")
