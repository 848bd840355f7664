"""The button of shoppers' product questions for the seller (R4.1-4): "Ask the seller".

Why apart from :mod:`dialogs.payloads`: that module must stay under 500 lines (same rules; listed in
:data:`dialogs.payloads.ACTIONS`). The button carries only the question's random id; the core sends
it only for the shopper of this conversation, so a forged ``askq:ID`` asks nothing of anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from dialogs.payload_kinds import Action, PublicId


@dataclass(frozen=True, slots=True)
class AskSeller(Action):
    """Send the question the bot could not answer to the product's seller."""

    prefix: ClassVar[str] = "askq"
    question_id: PublicId
