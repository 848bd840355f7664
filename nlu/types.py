"""The values the NLU hands to the dialog layer.

Everything here is immutable (frozen dataclasses, one named tuple) so an ``Interpretation`` can be
cached, compared in tests and passed between tasks without defensive copies. ``to_dict`` gives plain
JSON types because the command line, logs and the Rasa backend all speak JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeAlias

JsonValue: TypeAlias = Any
"""Entity values are JSON types: ``str``, ``int``, ``float``, ``None`` or a ``dict`` of them."""

INTENTS: tuple[str, ...] = (
    "greet",
    "goodbye",
    "thanks",
    "help",
    "search_product",
    "product_details",
    "recommend",
    "add_to_cart",
    "view_cart",
    "edit_cart",
    "checkout",
    "pay",
    "payment_methods",
    "order_status",
    "cancel_order",
    "change_address",
    "return_refund",
    "exchange",
    "repair",
    "complaint",
    "human_agent",
    "account",
    "privacy",
    "affirm",
    "deny",
    "out_of_scope",
)
"""The trained intent catalogue (names shared with the evaluation data)."""

INFORM = "inform"
"""Not trained: produced only when the dialog expects a slot and the message is just that value."""

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True, slots=True)
class Entity:
    """One thing found in the text. ``start``/``end`` index the ORIGINAL text (``text[start:end]``)."""

    type: str
    value: JsonValue
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, JsonValue]:
        return {
            "type": self.type,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


class IntentScore(NamedTuple):
    """An intent with its calibrated probability.

    A named tuple rather than a frozen dataclass: every parse builds one per intent (27), and a
    frozen dataclass's ``__init__`` (two ``object.__setattr__`` calls) made that a tenth of a parse.
    It is just as immutable, and compares and hashes by value the same way.
    """

    intent: str
    confidence: float

    def to_dict(self) -> dict[str, JsonValue]:
        return {"intent": self.intent, "confidence": round(self.confidence, 4)}


@dataclass(frozen=True, slots=True)
class Hints:
    """What the dialog knows before the message arrives.

    ``expected_slot`` is the slot the last bot question asked for (``quantity``, ``color``, ``size``,
    ``ordinal``, ``order_number``, ``phone``, ``price``, ``product``...); ``lang`` is the user's language,
    used when the text itself does not say (digits, emoji, evenly mixed scripts).
    """

    expected_slot: str | None = None
    lang: str | None = None


@dataclass(frozen=True, slots=True)
class Interpretation:
    """The NLU result for one message."""

    text: str
    lang: str
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    ranking: tuple[IntentScore, ...] = ()
    mixed: bool = field(default=False)
    #: Latin script made only of English words the catalogue's English names use and common English
    #: words (``nlu.english``): evidence of English where the platform names no language (WeChat)
    plain_english: bool = field(default=False)

    def entity(self, type_: str) -> Entity | None:
        """The first entity of a type, the common question of a dialog step."""
        return next((e for e in self.entities if e.type == type_), None)

    def to_dict(self, top: int | None = None) -> dict[str, JsonValue]:
        ranking = self.ranking if top is None else self.ranking[:top]
        return {
            "text": self.text,
            "lang": self.lang,
            "mixed": self.mixed,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": [e.to_dict() for e in self.entities],
            "ranking": [r.to_dict() for r in ranking],
        }
