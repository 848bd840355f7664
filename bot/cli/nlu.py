"""``shopbot nlu``: train, parse and evaluate the language understanding.

The only place where the NLU meets Typer: ``nlu`` itself stays free of command-line concerns. The
model is loaded once per command, so ``parse --jsonl`` handles thousands of lines a second.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.infra.input import MAX_JSON_DEPTH, too_deep
from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter, Hints
from nlu.catalogue import EMPTY_CATALOGUE
from nlu.data import DATA_DIR, counts, data_files, load_examples
from nlu.evaluation import evaluate, format_report, read_rows
from nlu.normalize import safe_text
from nlu.tokenize import Tokenizer
from nlu.training import default_cache_dir, load_or_train

app = typer.Typer(no_args_is_help=True)

CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Model cache directory (default: $SHOPBOT_DATA_DIR/nlu or ./.shopbot/nlu)."
    ),
]


def _dumps(obj: Any) -> str:
    return safe_text(json.dumps(obj, ensure_ascii=False))


def _interpreter(cache_dir: Path | None, sample_catalogue: bool) -> BuiltinInterpreter:
    return BuiltinInterpreter.load(cache_dir, SAMPLE_CATALOGUE if sample_catalogue else EMPTY_CATALOGUE)


@app.command()
def train(
    cache_dir: CacheDir = None,
    force: Annotated[bool, typer.Option("--force", help="Retrain even if the cache is current.")] = False,
) -> None:
    """Train and cache the intent model; print the training data counts per intent and language."""
    result = load_or_train(cache_dir, DATA_DIR, Tokenizer(), force=force)
    examples = result.examples or tuple(load_examples(data_files(DATA_DIR)))
    table = counts(examples)
    typer.echo(f"{'intent':<18}{'en':>6}{'zh':>6}")
    for intent, per_lang in table.items():
        typer.echo(f"{intent:<18}{per_lang.get('en', 0):>6}{per_lang.get('zh', 0):>6}")
    typer.echo(
        f"{'total':<18}{sum(v.get('en', 0) for v in table.values()):>6}"
        f"{sum(v.get('zh', 0) for v in table.values()):>6}"
    )
    action = f"trained in {result.seconds:.1f}s" if result.trained else "cache is current, reused"
    typer.echo(f"model: {result.path} ({action}; {len(result.model.vocabulary)} features)")


@app.command()
def parse(
    text: Annotated[str | None, typer.Argument(help="The message to interpret.")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read JSON lines with a 'text' field from stdin.")
    ] = False,
    expected_slot: Annotated[
        str | None, typer.Option("--expected-slot", help="Slot the dialog asks for.")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="The user's language (zh-Hans, zh-Hant, en).")
    ] = None,
    sample_catalogue: Annotated[
        bool, typer.Option("--sample-catalogue", help="Match the built-in demo catalogue.")
    ] = False,
    cache_dir: CacheDir = None,
) -> None:
    """Print the interpretation of TEXT (or of each stdin line with --jsonl) as JSON."""
    if text is None and not jsonl:
        raise typer.BadParameter("give TEXT or --jsonl")
    interpreter = _interpreter(cache_dir, sample_catalogue)
    hints = Hints(expected_slot, lang)
    if not jsonl:
        typer.echo(_dumps(interpreter.parse_sync(text or "", hints).to_dict(top=3)))
        return
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(_parse_line(interpreter, line, hints) + "\n")
    out.flush()


#: a line longer than this is refused: no chat message is (the web chat keeps 4,000 characters)
MAX_LINE = 16_000


def _parse_line(interpreter: BuiltinInterpreter, line: str, hints: Hints) -> str:
    """One output line: the interpretation, or ``{"error": ...}`` for a bad input line, so one bad
    line (deep JSON, a non-string field) never ends a run over thousands."""
    try:
        if len(line) > MAX_LINE:
            raise ValueError(f"line longer than {MAX_LINE} characters")
        if too_deep(line.encode("utf-8", errors="replace")):
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        record = json.loads(line)
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise ValueError("no 'text' string")
        for name in ("expected_slot", "lang"):
            if record.get(name) is not None and not isinstance(record[name], str):
                raise ValueError(f"'{name}' must be a string")
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return _dumps({"error": f"bad input line: {exc}"})
    line_hints = hints
    if "expected_slot" in record or "lang" in record:
        line_hints = Hints(record.get("expected_slot", hints.expected_slot), record.get("lang", hints.lang))
    try:
        return _dumps(interpreter.parse_sync(record["text"], line_hints).to_dict(top=3))
    except Exception as exc:  # noqa: BLE001 - report the line and go on with the next
        return _dumps({"error": f"could not interpret the line: {type(exc).__name__}"})


@app.command("eval")
def eval_(
    files: Annotated[
        list[Path], typer.Argument(help="JSON-lines files with text, label, also, lang.", exists=True)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one machine-readable JSON summary.")] = False,
    top_confusions: Annotated[int, typer.Option("--top-confusions")] = 10,
    cache_dir: CacheDir = None,
) -> None:
    """Accuracy, macro-F1, per-intent precision/recall, out-of-scope recall and confusions per file."""
    interpreter = _interpreter(cache_dir, sample_catalogue=False)
    reports = []
    for path in files:
        started = time.perf_counter()
        report = evaluate(
            path.name, read_rows(path), lambda t: interpreter.parse_sync(t).intent, top_confusions
        )
        reports.append(report)
        if not as_json:
            typer.echo(format_report(report))
            typer.echo(f"({report.rows / max(time.perf_counter() - started, 1e-9):.0f} utterances/s)\n")
    if as_json:
        typer.echo(
            _dumps(
                {"files": [r.to_dict() for r in reports], "cache_dir": str(cache_dir or default_cache_dir())}
            )
        )
