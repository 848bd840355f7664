"""``nlu`` stays pure: no bot, dialogs, commerce_core, nor any platform or CLI library."""

from __future__ import annotations

import subprocess
import sys


def test_importing_nlu_pulls_in_nothing_forbidden() -> None:
    code = (
        "import sys, nlu, nlu.rasa, nlu.evaluation, nlu.training;"
        "bad = {'bot', 'dialogs', 'commerce_core', 'typer', 'aiogram', 'fastapi', 'starlette', 'wechatpy'};"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
