"""One trained interpreter for the whole test session (training takes a couple of seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter


@pytest.fixture(scope="session")
def nlu_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture(scope="session")
def interpreter(nlu_cache: Path) -> BuiltinInterpreter:
    return BuiltinInterpreter.load(nlu_cache, SAMPLE_CATALOGUE)
