"""Outbox subscribers, registered per event type, receiving typed events.

Why: the one handler the relay called used to switch on event-name strings over payload dicts, so a
new reaction (a merchant's new-order notice, a staff alert) meant editing that switch. Here each
reaction is a function of one event class, registered in a table by the class itself; the payload is
decoded once, by :func:`commerce_core.events.decode`, for all of them. An :class:`OutboxSubscribers`
is the relay's handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from commerce_core.events import EVENT_TYPES, DomainEvent
from commerce_core.outbox.store import OutboxEnvelope

E = TypeVar("E", bound=DomainEvent)

#: a reaction to one event type; ``message`` gives the outbox id (for de-duplication) and attempts
Subscriber = Callable[[E, OutboxEnvelope], Awaitable[None]]


class OutboxSubscribers:
    """Event type -> subscribers, called in the order they subscribed.

    At least once: when one subscriber raises, the message is retried and every subscriber of its
    type runs again, so each must be idempotent (de-duplicate by ``message.id``).
    """

    def __init__(self) -> None:
        self._by_name: dict[str, list[Callable[[Any, OutboxEnvelope], Awaitable[None]]]] = {}

    def subscribe(self, event_type: type[E], subscriber: Subscriber[E]) -> None:
        if EVENT_TYPES.get(event_type.name) is not event_type:
            raise ValueError(f"{event_type.__name__} is not an outbox event (see events.EVENT_TYPES)")
        self._by_name.setdefault(event_type.name, []).append(subscriber)

    def event_types(self) -> list[type[DomainEvent]]:
        """The event types someone reacts to."""
        return [EVENT_TYPES[name] for name in self._by_name]

    async def __call__(self, message: OutboxEnvelope) -> None:
        """The relay's handler: decode once (only for types with subscribers) and call each."""
        subscribers = self._by_name.get(message.event_type)
        if not subscribers:
            return  # nobody reacts to it (yet): delivered
        event = message.event()  # MalformedEvent parks the message
        for subscriber in subscribers:
            await subscriber(event, message)
