"""A backend for teams that run a Rasa server: ``POST {base_url}/model/parse``.

Rasa answers ``{"intent": {"name", "confidence"}, "entities": [{"entity", "value", "start", "end"}],
"intent_ranking": [...]}``; we map that to our ``Interpretation`` (Rasa's ``nlu_fallback`` becomes
``out_of_scope``). Language detection stays local. A server error, a timeout or a malformed answer
raises ``NluBackendError`` with the URL and the cause, or, when a ``fallback`` interpreter is given
(normally the built-in one), is logged and answered by the fallback, so a Rasa outage degrades the bot
instead of stopping it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import httpx

from nlu.catalogue import EMPTY_CATALOGUE, CatalogueTerms
from nlu.english import EnglishVocabulary
from nlu.interpreter import Interpreter
from nlu.lang import detect_language
from nlu.normalize import safe_text
from nlu.types import OUT_OF_SCOPE, Entity, Hints, IntentScore, Interpretation

log = logging.getLogger(__name__)
_FALLBACK_NAMES = {"nlu_fallback", "out_of_scope", "fallback"}


class NluBackendError(RuntimeError):
    """The remote NLU backend did not give a usable answer."""


def _intent_name(name: object) -> str:
    if not isinstance(name, str) or not name or name in _FALLBACK_NAMES:
        return OUT_OF_SCOPE
    return name


def from_rasa(text: str, payload: dict[str, Any], hints: Hints | None = None) -> Interpretation:
    """Map Rasa's ``/model/parse`` JSON to an ``Interpretation`` (raises ``NluBackendError`` if malformed)."""
    try:
        intent = payload.get("intent") or {}
        name = _intent_name(intent.get("name"))
        confidence = float(intent.get("confidence") or 0.0)
        entities = []
        for e in payload.get("entities") or []:
            start, end = e.get("start"), e.get("end")
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end <= len(text):
                continue
            entities.append(Entity(str(e.get("entity")), e.get("value"), start, end, text[start:end]))
        ranking = tuple(
            IntentScore(_intent_name(r.get("name")), float(r.get("confidence") or 0.0))
            for r in payload.get("intent_ranking") or []
        )
    except (AttributeError, TypeError, ValueError) as exc:
        raise NluBackendError(f"malformed Rasa answer: {exc}") from exc
    guess = detect_language(text, hints.lang if hints else None)
    return Interpretation(
        text,
        guess.lang,
        name,
        confidence,
        tuple(entities),
        ranking or (IntentScore(name, confidence),),
        guess.mixed,
    )


class RasaHttpInterpreter:
    """``Interpreter`` backed by a Rasa server's HTTP API."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 3.0,
        token: str | None = None,
        fallback: Interpreter | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._owns_client = client is None
        self._timeout = timeout
        self._params = {"token": token} if token else {}
        self.fallback = fallback
        #: Rasa knows no catalogue language: the catalogue's English words judge ``plain_english``
        self.english = EnglishVocabulary(EMPTY_CATALOGUE)

    async def parse(self, text: str, hints: Hints | None = None) -> Interpretation:
        url = f"{self.base_url}/model/parse"
        try:
            response = await self._client.post(
                url, json={"text": safe_text(text)}, params=self._params, timeout=self._timeout
            )
            response.raise_for_status()
            payload = response.json()
            if not isinstance(payload, dict):
                raise NluBackendError(f"Rasa at {url} answered {type(payload).__name__}, not an object")
            found = from_rasa(text, payload, hints)
            if found.lang == "en" and not found.mixed and self.english.is_plain_english(text):
                found = replace(found, plain_english=True)
            return found
        except (httpx.HTTPError, ValueError, NluBackendError) as exc:
            if self.fallback is None:
                if isinstance(exc, NluBackendError):
                    raise
                raise NluBackendError(f"Rasa NLU at {url} failed: {type(exc).__name__}: {exc}") from exc
            log.warning("Rasa NLU at %s failed (%s); using the fallback interpreter", url, exc)
            return await self.fallback.parse(text, hints)

    def update_catalogue(self, terms: CatalogueTerms) -> None:
        """Rasa keeps its own lookup tables; the fallback and the English vocabulary learn it here."""
        self.english = EnglishVocabulary(terms)
        if self.fallback is not None:
            self.fallback.update_catalogue(terms)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
