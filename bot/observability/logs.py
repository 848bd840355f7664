"""Structured logs: one JSON object per line, through structlog, for the app's own loggers and every
library's (stdlib ``logging`` records pass through the same processors).

Each line carries what lets an operator follow one request or one conversation without personal
data: ``request_id`` (HTTP middleware), ``conversation`` (a keyed pseudonym of the conversation key),
``turn`` and ``channel`` (the pipeline's turn record). Never a phone number, a name or an address: the
code does not log them, and :func:`redact` scrubs phone numbers and e-mail addresses from every line
as a second line of defence (a library's error message may quote the input).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from bot.observability.metrics import turn_context
from bot.observability.settings import LogSettings

#: mobile numbers (mainland China 1[3-9]x, or +country ...) and longer digit runs; e-mail addresses
_PHONE = re.compile(r"(?<!\d)(?:\+?\d[\d -]{6,}\d)(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_HANDLER_NAME = "shopbot-structured"
#: fields this package writes itself (hex ids, pseudonyms, route patterns): nothing personal to scrub
_OWN_FIELDS = frozenset({"timestamp", "level", "logger", "request_id", "turn", "conversation", "route"})


def _scrub(value: str) -> str:
    return _EMAIL.sub("[email]", _PHONE.sub("[number]", value))


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace phone-like digit runs and e-mail addresses in every string field of the line."""
    for key, value in event_dict.items():
        if isinstance(value, str) and key not in _OWN_FIELDS:
            event_dict[key] = _scrub(value)
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        turn_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        structlog.stdlib.ExtraAdder(),
        redact,
    ]


def configure_logging(settings: LogSettings | None = None, *, stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (stderr) as JSON (or readable text), at the configured
    level. Safe to call again (a test does, with its own stream): it replaces its own handler only."""
    settings = settings or LogSettings()
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if settings.format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
