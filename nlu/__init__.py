"""shopbot's language understanding: text (+ hints) in, ``Interpretation`` out.

A pure package: it imports nothing from ``bot``, ``dialogs`` or ``commerce_core``; the catalogue
arrives as ``CatalogueTerms`` data. See ``docs/nlu.md`` for the pipeline and value formats.
"""

from nlu.catalogue import (
    EMPTY_CATALOGUE,
    SAMPLE_CATALOGUE,
    AttributeValue,
    BrandTerm,
    CatalogueTerms,
    CategoryTerm,
    ProductTerm,
)
from nlu.interpreter import BuiltinInterpreter, Interpreter
from nlu.rasa import NluBackendError, RasaHttpInterpreter
from nlu.types import INFORM, INTENTS, OUT_OF_SCOPE, Entity, Hints, IntentScore, Interpretation

__all__ = [
    "EMPTY_CATALOGUE",
    "INFORM",
    "INTENTS",
    "OUT_OF_SCOPE",
    "SAMPLE_CATALOGUE",
    "AttributeValue",
    "BrandTerm",
    "BuiltinInterpreter",
    "CatalogueTerms",
    "CategoryTerm",
    "Entity",
    "Hints",
    "IntentScore",
    "Interpretation",
    "Interpreter",
    "NluBackendError",
    "ProductTerm",
    "RasaHttpInterpreter",
]
