"""The ``Interpreter`` protocol every backend implements, and the built-in backend.

The dialog layer depends only on the protocol: ``await interpreter.parse(text, hints)``. The built-in
interpreter also offers ``parse_sync`` because it never waits on anything (no I/O), which the command
line and the benchmark use to avoid an event loop per message.
"""

from __future__ import annotations

import dataclasses
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
from nlu.types import INFORM, OUT_OF_SCOPE, Entity, Hints, IntentScore, Interpretation, JsonValue

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
_NO_HINTS = Hints()

PARSE_CACHE = 1024
"""Interpretations remembered per interpreter (short messages only); past this the memory starts
afresh. About 3 KiB each, mostly the ranking."""
PARSE_CACHE_CHARS = 64
"""Only messages up to this long are remembered: the ones shoppers repeat word for word ("确认",
"第一个", "结算", "yes"); a longer one seldom comes back."""
_PERSONAL = re.compile(r"[\d@]")
"""Messages with a digit or an ``@`` are never remembered: phone numbers, addresses, order and tracking
numbers, e-mail addresses are personal or one shopper's own, and the memory must not keep them past
their turn (nor could they come back from another shopper)."""


@runtime_checkable
class Interpreter(Protocol):
    """Turns one message into an ``Interpretation``."""

    async def parse(self, text: str, hints: Hints | None = None) -> Interpretation:
        """Interpret ``text``; ``hints`` carry what the dialog expects."""
        ...

    def update_catalogue(self, terms: CatalogueTerms) -> None:
        """Use a new catalogue for product, brand and category matching (no retraining)."""
        ...


def _own(value: JsonValue) -> JsonValue:
    """A copy of an entity value's dicts and lists (scalars are immutable and shared)."""
    if isinstance(value, dict):
        return {k: _own(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_own(v) for v in value]
    return value


def _detached(found: Interpretation) -> Interpretation:
    """``found`` with entity values nobody else holds: an ``Interpretation`` is frozen, but a price's or
    an ordinal's value is a dict, and a caller changing the one it was given must not change what the
    next caller of a remembered parse gets."""
    if not any(isinstance(e.value, dict | list) for e in found.entities):
        return found
    entities = tuple(Entity(e.type, _own(e.value), e.start, e.end, e.text) for e in found.entities)
    return dataclasses.replace(found, entities=entities)


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
        parse_cache: int = PARSE_CACHE,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer or Tokenizer()
        self.extractor = EntityExtractor(catalogue)
        self.tokenizer.add_terms(self.extractor.matcher.words())
        self.english = EnglishVocabulary(catalogue)
        self.parse_cache = parse_cache
        #: (text, hints) -> interpretation, valid only for the state in ``_parsed_for`` (see ``_state``)
        self._parsed: dict[tuple[str, Hints], Interpretation] = {}
        self._parsed_for: tuple[object, ...] = ()

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

    def _state(self) -> tuple[object, ...]:
        """Everything an interpretation depends on besides the text and the hints: the model, the
        catalogue index, the English vocabulary, the tokenizer and its dictionary's ``version``."""
        tokenizer = self.tokenizer
        return (self.model, self.extractor.matcher, self.english, tokenizer, tokenizer.version)

    def _current(self, state: tuple[object, ...]) -> bool:
        """``state`` is the one the remembered interpretations were computed with. Objects compare by
        identity (a new catalogue index or model is a new object, even when equal), the version by
        value."""
        before = self._parsed_for
        return (
            len(before) == len(state)
            and all(a is b for a, b in zip(before[:-1], state[:-1], strict=True))
            and before[-1] == state[-1]
        )

    def parse_sync(self, text: str, hints: Hints | None = None) -> Interpretation:
        """Interpret ``text`` without an event loop.

        Short messages are remembered with their hints: shoppers send the same ones again and again,
        and their interpretation is a function of the text, the hints and ``_state``. A remembered one
        is used only while that state is the very same (a catalogue update, which adds words to jieba
        and replaces the index, forgets them all), so it is never stale.
        """
        hints = hints or _NO_HINTS
        if not self.parse_cache or len(text) > PARSE_CACHE_CHARS or _PERSONAL.search(text):
            return self._parse(text, hints)
        key = (text, hints)
        state = self._state()
        if not self._current(state):
            self._parsed = {}
            self._parsed_for = state
        parsed = self._parsed
        found = parsed.get(key)
        if found is not None:
            return _detached(found)
        found = self._parse(text, hints)
        if parsed is self._parsed and self._current(self._state()):  # nothing changed while parsing
            if len(parsed) >= self.parse_cache:
                parsed.clear()
            parsed[key] = _detached(found)
        return found

    def _parse(self, text: str, hints: Hints) -> Interpretation:
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
