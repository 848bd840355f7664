"""R5.2-1, R5.2-4 (issue 14, NLU speed): the shortcuts that made parsing fast must not change what is
understood. Each test states the slow, obvious rule and checks the fast code against it."""

from __future__ import annotations

import random
import re

import jieba
import pytest

from nlu import SAMPLE_CATALOGUE, BuiltinInterpreter
from nlu.extractors.catalogue_match import CatalogueMatcher
from nlu.normalize import _normalise_char, _regional, normalise
from nlu.tokenize import Tokenizer

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_edit_typos(term: str) -> set[str]:
    """Every deletion, doubling, neighbour swap and substitution that keeps the first letter."""
    out: set[str] = set()
    for i in range(1, len(term)):
        out.add(term[:i] + term[i + 1 :])
        out.add(term[:i] + term[i] + term[i:])
        if i + 1 < len(term):
            out.add(term[:i] + term[i + 1] + term[i] + term[i + 2 :])
        for c in "xq":
            out.add(term[:i] + c + term[i + 1 :])
    return {t for t in out if len(t) >= 4 and " " not in t}


@pytest.mark.parametrize("term", ["pegasus", "ultraboost", "airpods", "sneakers", "backpack"])
def test_a_typo_anywhere_after_the_first_letter_still_finds_the_term(term: str) -> None:
    """The fuzzy matcher skips windows by their first two and last letters before building deletion
    variants; a single typo at ANY position after the first letter must still be found, alone and
    inside a sentence."""
    matcher = CatalogueMatcher(SAMPLE_CATALOGUE)
    expected = {(t, v) for t, v, s in SAMPLE_CATALOGUE.surfaces() if s.lower() == term}
    missed = []
    for typo in sorted(_one_edit_typos(term)):
        for text in (typo, f"do you have {typo} in red"):
            found = {(c.type, c.value) for c in matcher.find(text)}
            if not expected & found:
                missed.append(text)
    assert not missed, missed


def test_segmentation_equals_jieba() -> None:
    """The tokenizer's own single-pass segmentation gives exactly jieba's ``lcut(HMM=True)``, also
    with catalogue words added to the dictionary."""
    tokenizer = Tokenizer(["小米手环", "韦德之道"])
    tokenizer.tokens("预热")
    reference = jieba.Tokenizer()
    reference.initialize()
    for word in ("小米手环", "韦德之道"):
        reference.add_word(word, freq=2000)
    rng = random.Random(7)
    source = "我想买小米手环八多少钱有没有韦德之道篮球鞋帮我取消订单快递到哪了这件衣服质量太差了我要退货换货"
    runs = [source[i : i + rng.randint(2, 12)] for i in (rng.randrange(len(source)) for _ in range(300))]
    for run in runs:
        assert tokenizer._segment(run) == reference.lcut(run, HMM=True), run


def test_normalise_keeps_offsets_for_one_to_one_and_uneven_text() -> None:
    """The whole-message translation gives the same text and offsets as the character walk."""
    for text in ("紅色ＸＬ", "ﬁne 帳戶", "a\u200bb", "Nike AIR", "½ size", "\u00adx\t帳號"):
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(text):
            out = _normalise_char(ch)
            chars.extend(out)
            origin.extend([i] * len(out))
        nt = normalise(text)
        assert (nt.text, tuple(nt.origin)) == (_regional("".join(chars)), tuple(origin)), text


def test_ranking_is_sorted_and_sums_to_one(interpreter: BuiltinInterpreter) -> None:
    """The compiled scoring returns every intent once, best first, as probabilities."""
    for text in ("我要退货", "where is my order", "2 of the red ones pls", "hi", "嗯嗯嗯嗯"):
        ranking = interpreter.parse_sync(text).ranking
        assert sorted({r.intent for r in ranking}) == sorted(interpreter.model.labels)
        scores = [r.confidence for r in ranking]
        assert scores == sorted(scores, reverse=True)
        assert abs(sum(scores) - 1.0) < 1e-4
        assert re.fullmatch(r"[a-z_]+", ranking[0].intent)
