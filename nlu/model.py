"""The intent model: trained with scikit-learn, run with a few lines of numpy.

Training uses ``TfidfVectorizer`` + a one-vs-rest ``LinearSVC`` (a tenth of a second to fit, where
``LogisticRegression`` took tens of seconds on the same features for the same accuracy);
``out_of_scope`` is an ordinary class trained on many non-shopping examples. The SVM margins become
probabilities through a softmax whose temperature is fitted (minimum log-loss) on a held-out fifth of
the data, which calibrates them. A message is rejected as out of scope when that class
wins OR when the best intent's calibrated probability is below ``threshold``.

For prediction the fitted model is "compiled" into a vocabulary, idf weights and a weight matrix:
scoring one message is then a dictionary lookup per feature and one small matrix product, well under a
millisecond, instead of scikit-learn's per-call validation overhead. The compiled form is also what the
cache stores (``.npz`` arrays, no pickle).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import is_not
from pathlib import Path
from typing import cast

import numpy as np
import numpy.typing as npt

from nlu.types import OUT_OF_SCOPE

FloatArray = npt.NDArray[np.float32]

DEFAULT_THRESHOLD = 0.4

_known = partial(is_not, None)
"""``_known(index)``: the feature is in the vocabulary (index 0 is falsy, so not ``filter(None, ...)``)."""


@dataclass(frozen=True)
class IntentModel:
    """A compiled linear model over tf-idf features."""

    labels: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: FloatArray
    weights: FloatArray  # (n_features, n_labels)
    bias: FloatArray  # (n_labels,)
    temperature: float
    threshold: float
    fingerprint: str
    _table: FloatArray = field(init=False, repr=False, compare=False)
    _scaled_bias: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Scoring table, derived once: row ``j`` is feature ``j``'s weights already multiplied by its
        # idf, with idf squared as a last column, so one gather and one sum give both the numerator
        # and the squared norm of the tf-idf vector (every feature of a message usually occurs once,
        # so tf is 1); the temperature is folded into the scale and the bias.
        table = np.empty((self.weights.shape[0], self.weights.shape[1] + 1), dtype=np.float32)
        table[:, :-1] = self.weights * self.idf[:, None]
        table[:, -1] = self.idf * self.idf
        object.__setattr__(self, "_table", table)
        scaled_bias = (self.bias / np.float32(self.temperature)).astype(np.float32)
        object.__setattr__(self, "_scaled_bias", scaled_bias)

    def probabilities(self, feats: Sequence[str]) -> FloatArray:
        """Calibrated probability per label (same order as ``labels``).

        Profiling showed a dozen tiny numpy calls and a ``Counter`` per message dominated this; the
        known features' indices are now collected in C (``filter`` over ``map``) and, when none
        repeats, the arithmetic is one gather, one sum and the softmax.
        """
        ids = cast(list[int], list(filter(_known, map(self.vocabulary.get, feats))))
        if not ids:
            z = self._scaled_bias
        elif len(set(ids)) == len(ids):
            total = self._table.take(ids, axis=0).sum(axis=0)  # ``take``: a third cheaper than ``[ids]``
            z = total[:-1] * np.float32(1.0 / (math.sqrt(float(total[-1])) * self.temperature))
            z += self._scaled_bias
        else:  # some feature repeats: sublinear tf, as in training
            counts = Counter(ids)
            rows = self._table.take(list(counts), axis=0)
            tf = np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts))) + np.float32(1.0)
            norm = math.sqrt(float((tf * tf) @ rows[:, -1]))
            z = (tf @ rows[:, :-1]) * np.float32(1.0 / (norm * self.temperature)) + self._scaled_bias
        e = np.exp(z - z.max())
        out: FloatArray = e / e.sum()
        return out

    def save(self, path: Path) -> None:
        """Write arrays and metadata to ``path`` (.npz without pickled objects), atomically."""
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {
            "labels": list(self.labels),
            "temperature": self.temperature,
            "threshold": self.threshold,
            "fingerprint": self.fingerprint,
            "vocabulary": words,
        }
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as fh:
            np.savez(fh, idf=self.idf, weights=self.weights, bias=self.bias, meta=np.array(json.dumps(meta)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        """Read a model written by ``save``; raises ``ValueError``/``OSError`` on a damaged file."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            idf, weights, bias = z["idf"], z["weights"], z["bias"]
        words: list[str] = meta["vocabulary"]
        if weights.shape != (len(words), len(meta["labels"])):
            raise ValueError(f"inconsistent model file {path}")
        return cls(
            labels=tuple(meta["labels"]),
            vocabulary={w: i for i, w in enumerate(words)},
            idf=idf.astype(np.float32),
            weights=weights.astype(np.float32),
            bias=bias.astype(np.float32),
            temperature=float(meta["temperature"]),
            threshold=float(meta["threshold"]),
            fingerprint=str(meta["fingerprint"]),
        )


def _identity(x: list[str]) -> list[str]:
    return x


def _fit(docs: list[list[str]], labels: list[str], c: float, oos_weight: float) -> tuple[object, object]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float32)
    x = vec.fit_transform(docs)
    clf = LinearSVC(C=c, max_iter=5000, class_weight={OUT_OF_SCOPE: oos_weight})
    clf.fit(x, labels)
    return vec, clf


def _fit_temperature(logits: npt.NDArray[np.float64], y: npt.NDArray[np.intp]) -> float:
    best_t, best_nll = 1.0, math.inf
    for t in np.arange(0.02, 1.5, 0.01):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-logp[np.arange(len(y)), y].mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def train(
    docs: list[list[str]],
    labels: list[str],
    fingerprint: str,
    c: float = 0.5,
    oos_weight: float = 0.35,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> IntentModel:
    """Fit, calibrate on a held-out fifth, refit on everything and compile."""
    from sklearn.model_selection import train_test_split

    if OUT_OF_SCOPE not in labels:
        raise ValueError("training data needs out_of_scope examples")
    idx = np.arange(len(docs))
    tr, ho = train_test_split(idx, test_size=0.2, random_state=seed, stratify=labels)
    vec, clf = _fit([docs[i] for i in tr], [labels[i] for i in tr], c, oos_weight)
    logits = clf.decision_function(vec.transform([docs[i] for i in ho]))  # type: ignore[attr-defined]
    classes = list(clf.classes_)  # type: ignore[attr-defined]
    y = np.asarray([classes.index(labels[i]) for i in ho], dtype=np.intp)
    temperature = _fit_temperature(np.asarray(logits, dtype=np.float64), y)

    vec, clf = _fit(docs, labels, c, oos_weight)
    vocab: dict[str, int] = {str(k): int(v) for k, v in vec.vocabulary_.items()}  # type: ignore[attr-defined]
    return IntentModel(
        labels=tuple(str(x) for x in clf.classes_),  # type: ignore[attr-defined]
        vocabulary=vocab,
        idf=np.asarray(vec.idf_, dtype=np.float32),  # type: ignore[attr-defined]
        weights=np.ascontiguousarray(np.asarray(clf.coef_, dtype=np.float32).T),  # type: ignore[attr-defined]
        bias=np.asarray(clf.intercept_, dtype=np.float32),  # type: ignore[attr-defined]
        temperature=temperature,
        threshold=threshold,
        fingerprint=fingerprint,
    )
