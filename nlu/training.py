"""Training and the on-disk model cache.

The cache key is a SHA-256 of the training files (names and bytes), ``CODE_VERSION`` and the
scikit-learn version: editing any YAML file, or changing how features are made, produces a new key
and the model is rebuilt on next start; unchanged data loads in milliseconds. The source of the
modules that shape features and training is hashed too, so a code change cannot reuse a stale model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from nlu.data import DATA_DIR, Example, data_files, load_examples
from nlu.features import features
from nlu.model import DEFAULT_THRESHOLD, IntentModel, train
from nlu.normalize import normalise
from nlu.tokenize import Tokenizer

CODE_VERSION = "nlu-intent-1"
_HERE = Path(__file__).parent
_CODE_FILES = ("features.py", "model.py", "tokenize.py", "normalize.py")
"""The code that shapes the model: its bytes are part of the cache key, so editing it retrains."""
log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$SHOPBOT_DATA_DIR/nlu``, or ``./.shopbot/nlu``."""
    return Path(os.environ.get("SHOPBOT_DATA_DIR") or ".shopbot") / "nlu"


def fingerprint(files: Sequence[Path]) -> str:
    """Hash of the training data and of the code that turns it into a model."""
    # the installed version from the package metadata, not ``import sklearn``: importing scikit-learn
    # took 12 s of a server start on a loaded machine just to read a cached model it never uses
    sklearn_version = metadata.version("scikit-learn")
    h = hashlib.sha256()
    h.update(f"{CODE_VERSION}|sklearn={sklearn_version}|threshold={DEFAULT_THRESHOLD}".encode())
    for name in _CODE_FILES:
        h.update((_HERE / name).read_bytes())
    for path in sorted(files, key=lambda p: p.name):
        h.update(b"\0" + path.name.encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def example_features(examples: Sequence[Example], tokenizer: Tokenizer) -> list[list[str]]:
    """Classifier features of each example's normalised text."""
    return [features(normalise(e.text).text, tokenizer) for e in examples]


@dataclass(frozen=True)
class TrainResult:
    """What ``load_or_train`` did, for the command line and the benchmark."""

    model: IntentModel
    trained: bool
    seconds: float
    path: Path
    examples: tuple[Example, ...] = ()


def train_from_files(
    files: Sequence[Path], tokenizer: Tokenizer, fp: str | None = None
) -> tuple[IntentModel, list[Example]]:
    """Train a model from YAML files (no cache involved)."""
    examples = load_examples(files)
    docs = example_features(examples, tokenizer)
    model = train(docs, [e.intent for e in examples], fp or fingerprint(files))
    return model, examples


def load_or_train(
    cache_dir: Path | None = None,
    data_dir: Path = DATA_DIR,
    tokenizer: Tokenizer | None = None,
    force: bool = False,
) -> TrainResult:
    """The cached model for the current data, training (and caching) it first if needed."""
    cache = cache_dir or default_cache_dir()
    files = data_files(data_dir)
    if not files:
        raise FileNotFoundError(f"no training data (*.yml) under {data_dir}")
    fp = fingerprint(files)
    path = cache / f"intent-{fp[:24]}.npz"
    started = time.perf_counter()
    if path.exists() and not force:
        try:
            model = IntentModel.load(path)
            if model.fingerprint == fp:
                return TrainResult(model, False, time.perf_counter() - started, path)
            log.warning("model cache %s has a different fingerprint; retraining", path)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("model cache %s unreadable (%s); retraining", path, exc)
    model, examples = train_from_files(files, tokenizer or Tokenizer(), fp)
    cache.mkdir(parents=True, exist_ok=True)
    model.save(path)
    for old in cache.glob("intent-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return TrainResult(model, True, time.perf_counter() - started, path, tuple(examples))
