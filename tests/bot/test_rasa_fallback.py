"""With ``SHOPBOT_NLU_BACKEND=rasa`` a Rasa outage (here: a closed port) falls back to the built-in NLU
with a warning in the log, instead of failing the shopper's turn."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import make_interpreter
from bot.settings import Settings
from nlu.rasa import RasaHttpInterpreter
from tests.runtime_support import NLU_CACHE


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody listens


async def test_a_rasa_outage_falls_back_to_the_builtin_nlu(
    tmp_path: Path, interpreter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "nlu").symlink_to(NLU_CACHE)  # the session's trained model
    settings = Settings(data_dir=tmp_path, nlu_backend="rasa", rasa_url=f"http://127.0.0.1:{_closed_port()}")
    chosen = make_interpreter(settings)
    assert isinstance(chosen, RasaHttpInterpreter)
    try:
        with caplog.at_level(logging.WARNING, logger="nlu.rasa"):
            result = await chosen.parse("我要退款")
    finally:
        await chosen.aclose()
    assert result.intent == "return_refund"
    assert any("using the fallback interpreter" in r.getMessage() for r in caplog.records)
