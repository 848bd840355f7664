"""Conversation state: a typed, versioned object kept in Redis with a TTL.

A state of another schema version, a corrupt one, or none at all starts a fresh conversation: the
shopper sees a normal greeting, never an error.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError

SCHEMA_VERSION = 1


class Frame(BaseModel):
    """A flow in progress: which flow, which step, what it collected so far."""

    flow: str
    step: str
    slots: dict[str, Any] = Field(default_factory=dict)


class ConversationState(BaseModel):
    version: int = SCHEMA_VERSION
    lang: str | None = None
    customer_id: int | None = None
    active: Frame | None = None
    suspended: list[Frame] = Field(default_factory=list)  # digressions resume these, newest last
    shown_products: list[str] = Field(default_factory=list)  # codes of the last list, for "the second one"
    focus_product: str | None = None  # the product being talked about ("add it")
    viewed: list[str] = Field(default_factory=list)  # products opened lately, newest last (recommendations)
    #: why each item of the last recommendation list is there: its card, opened from the list, says so too
    reasons: dict[str, str] = Field(default_factory=dict)
    #: what was shown last, "list" or "card": "in red?" asks about the card, "blue ones" about the list
    looking_at: str | None = None
    last_search: dict[str, Any] | None = None  # for "more" / next page
    last_order: str | None = None
    misunderstood: int = 0
    step_failures: int = 0  # answers in a row that left the waiting step where it was, with nothing new
    handoff_ticket: str | None = None
    turns: int = 0


class StateStore(Protocol):
    async def load(self, key: str) -> ConversationState: ...

    async def save(self, key: str, state: ConversationState) -> None: ...

    async def delete(self, key: str) -> None: ...


class RedisLike(Protocol):
    async def get(self, name: str) -> Any: ...

    async def set(self, name: str, value: Any, ex: Any = None) -> Any: ...

    async def delete(self, *names: str) -> Any: ...


class RedisStateStore:
    """JSON in Redis under ``shopbot:state:<conversation>``, expiring after ``ttl`` of silence."""

    def __init__(
        self, redis: RedisLike, *, ttl: timedelta = timedelta(days=7), prefix: str = "shopbot:state:"
    ) -> None:
        self._redis = redis
        self._ttl = ttl
        self._prefix = prefix

    def key_of(self, conversation: str) -> str:
        """The Redis key holding ``conversation``'s state (for callers that batch commands)."""
        return self._prefix + conversation

    async def load(self, key: str) -> ConversationState:
        return self.parse(await self._redis.get(self.key_of(key)))

    @staticmethod
    def parse(raw: bytes | str | None) -> ConversationState:
        """A stored state; a missing, unreadable or outdated one starts the conversation afresh."""
        if raw is None:
            return ConversationState()
        try:
            state = ConversationState.model_validate_json(raw)
        except ValidationError:
            return ConversationState()
        if state.version != SCHEMA_VERSION:
            return ConversationState(lang=state.lang, customer_id=state.customer_id)
        return state

    @staticmethod
    def dump(state: ConversationState) -> str:
        """The stored form of ``state`` (for callers that write it in a script of their own)."""
        return state.model_dump_json()

    @property
    def ttl_seconds(self) -> int:
        return int(self._ttl.total_seconds())

    async def save(self, key: str, state: ConversationState, *, client: RedisLike | None = None) -> None:
        """Store ``state``; ``client`` may be a pipeline, to send this with other commands."""
        await (client or self._redis).set(
            self.key_of(key), state.model_dump_json(), ex=int(self._ttl.total_seconds())
        )

    async def delete(self, key: str, *, client: RedisLike | None = None) -> None:
        await (client or self._redis).delete(self.key_of(key))
