"""Product questions for the seller (R4.1-4): statuses and the view the console and the chat read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

QUESTION_LIMIT = 500
ANSWER_LIMIT = 1000


class QuestionStatus(StrEnum):
    OFFERED = "offered"  # the bot had no answer and offered "Ask the seller"; not sent yet
    OPEN = "open"  # the shopper sent it: the seller's users see it in the console
    ANSWERED = "answered"


@dataclass(frozen=True, slots=True)
class QuestionView:
    public_id: str
    product_code: str
    product_name: dict[str, str]
    text: str
    language: str
    status: str
    asked_at: datetime | None
    answer: str | None
    answered_at: datetime | None
