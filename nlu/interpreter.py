"""The ``Interpreter`` protocol every backend implements, and the built-in backend.

The dialog layer depends only on the protocol: ``await interpreter.parse(text, hints)``. The built-in
interpreter also offers ``parse_sync`` because it never waits on anything (no I/O), which the command
line and the benchmark use to avoid an event loop per message.
"""

from __future__ import annotations

import re
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Protocol, runtime_checkable

from nlu.catalogue import EMPTY_CATALOGUE, CatalogueTerms
from nlu.data import DATA_DIR
from nlu.english import EnglishVocabulary
from nlu.extractors import EntityExtractor, canonical_slot
from nlu.features import features
from nlu.lang import detect_language
from nlu.model import IntentModel
from nlu.normalize import normalise
from nlu.tokenize import Tokenizer
from nlu.training import load_or_train
from nlu.types import INFORM, OUT_OF_SCOPE, Entity, Hints, IntentScore, Interpretation

CLASSIFY_CHARS = 600
"""Only the start of a very long message is classified: the intent is stated early, and jieba's cost
grows with the length."""

_FILLER = re.compile(
    r"(?:i want|i'd like|i'll take|i need|let's do|let's go with|make it|give me|"
    r"the|a|an|please|pls|plz|one|ones|"
    r"size|colour|color|in|of|just|how about|maybe|ok|okay|我要|要|就|吧|呢|啊|"
    r"呀|的|吗|那|这|个|件|好了|好|来|选|码|号|色|颜色|尺码|嗯|额|谢谢|thanks|嘛|"
    r"用|还是|改成|换成|"
    r"[\s,.!?~。，！？、:;])+"
)
_ALNUM = re.compile(r"[^\W_]")
"""A letter or digit (``str.isalnum``), found in one C scan."""
_CONFIDENCE = itemgetter(1)
_as_score = partial(tuple.__new__, IntentScore)
"""``(intent, confidence)`` -> ``IntentScore`` without the named tuple's Python-level ``__new__`` (27 per
parse)."""
_SLOT_INTENT = {"order_number": "order_status", "tracking_number": "order_status"}


@runtime_checkable
class Interpreter(Protocol):
    """Turns one message into an ``Interpretation``."""

    async def parse(self, text: str, hints: Hints | None = None) -> Interpretation:
        """Interpret ``text``; ``hints`` carry what the dialog expects."""
        ...

    def update_catalogue(self, terms: CatalogueTerms) -> None:
        """Use a new catalogue for product, brand and category matching (no retraining)."""
        ...


def _is_only(text: str, entities: tuple[Entity, ...], types: set[str]) -> bool:
    """True when, apart from entities of ``types`` and filler words, the message says nothing."""
    spans = [e for e in entities if e.type in types]
    if not spans:
        return False
    rest = text
    for e in sorted(spans, key=lambda e: e.start, reverse=True):
        rest = rest[: e.start] + " " + rest[e.end :]
    leftover = _FILLER.sub("", normalise(rest).text)
    return len(leftover) <= 2


class BuiltinInterpreter:
    """Normalise -> detect language -> extract entities -> classify -> apply hints."""

    def __init__(
        self,
        model: IntentModel,
        catalogue: CatalogueTerms = EMPTY_CATALOGUE,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer or Tokenizer()
        self.extractor = EntityExtractor(catalogue)
        self.tokenizer.add_terms(self.extractor.matcher.words())
        self.english = EnglishVocabulary(catalogue)

    @classmethod
    def load(
        cls,
        cache_dir: Path | None = None,
        catalogue: CatalogueTerms = EMPTY_CATALOGUE,
        data_dir: Path = DATA_DIR,
    ) -> BuiltinInterpreter:
        """Load the cached model (training it if the data changed) and index ``catalogue``."""
        tokenizer = Tokenizer()
        result = load_or_train(cache_dir, data_dir, tokenizer)
        return cls(result.model, catalogue, tokenizer)

    def update_catalogue(self, terms: CatalogueTerms) -> None:
        self.extractor.update_catalogue(terms)
        self.tokenizer.add_terms(self.extractor.matcher.words())
        self.english = EnglishVocabulary(terms)

    async def parse(self, text: str, hints: Hints | None = None) -> Interpretation:
        return self.parse_sync(text, hints)

    def warm_up(self) -> None:
        """Load what the first message would (jieba's dictionary, about a second) ahead of it."""
        self.parse_sync("你好，有没有红色连衣裙 hello")

    def classify(self, normalised: str) -> tuple[IntentScore, ...]:
        """All intents with calibrated probabilities, best first."""
        probs = self.model.probabilities(features(normalised[:CLASSIFY_CHARS], self.tokenizer))
        # plain Python numbers once (``tolist``), not one numpy scalar conversion per label; sorting 27
        # pairs in Python is cheaper than argsort plus fancy indexing
        pairs = sorted(zip(self.model.labels, probs.tolist(), strict=True), key=_CONFIDENCE, reverse=True)
        return tuple(map(_as_score, pairs))

    def parse_sync(self, text: str, hints: Hints | None = None) -> Interpretation:
        """Interpret ``text`` without an event loop."""
        hints = hints or Hints()
        guess = detect_language(text, hints.lang)
        nt = normalise(text)
        if not _ALNUM.search(nt.text):
            return Interpretation(
                text, guess.lang, OUT_OF_SCOPE, 1.0, (), (IntentScore(OUT_OF_SCOPE, 1.0),), guess.mixed
            )
        slot = canonical_slot(hints.expected_slot)
        entities = self.extractor.extract(nt, slot)
        ranking = self.classify(nt.text)
        top = ranking[0]
        intent, confidence = top.intent, top.confidence
        if intent != OUT_OF_SCOPE and confidence < self.model.threshold:
            intent, confidence = OUT_OF_SCOPE, 1.0 - confidence
        if slot and _is_only(text, entities, {slot}):
            intent, confidence = INFORM, max(0.9, confidence if intent == INFORM else 0.0)
        elif intent == OUT_OF_SCOPE and _is_only(text, entities, set(_SLOT_INTENT)):
            intent, confidence = "order_status", 0.7
        # only Latin-script text can be plainly English; Chinese text skips the word scan
        plain = guess.lang == "en" and not guess.mixed and self.english.is_plain_english(text)
        return Interpretation(text, guess.lang, intent, confidence, entities, ranking, guess.mixed, plain)
