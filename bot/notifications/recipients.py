"""Who a notification is for, and where to find them.

A recipient names a person or a group by the domain's own ids, never by a chat address: a shopper
(customer id), a merchant (merchant id: its users), a staff member (operator user id) or a staff
queue (a role such as ``agent``: whoever serves it). A :class:`RecipientDirectory` turns a recipient
into the language to write in and the ``(channel, user_id)`` addresses to push to.

Shoppers are found through their channel identities in the core. Merchants and staff are found
through the operator accounts and their Telegram/WeChat bindings, which the back office adds: until
then :class:`NoOperators` knows none of them, and a notification for them goes nowhere (and is
still marked delivered: there was nobody to tell). :class:`OperatorDirectory` finds them through the
bound identities (``bot.notifications.merchants.notify_merchants`` plugs it in)::

    directory = Directory(ShopperDirectory(commerce), OperatorDirectory(commerce))
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol, cast, runtime_checkable

from commerce_core.api import Commerce, OperatorContact


@dataclass(frozen=True, slots=True)
class Shopper:
    customer_id: int
    #: ``channel:user id`` accounts of the shopper not to tell (the one a sign-in came from)
    except_accounts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Merchant:
    """Everyone who works for the merchant and has bound a chat identity."""

    merchant_id: int


@dataclass(frozen=True, slots=True)
class StaffMember:
    """One operator account (back-office user id)."""

    user_id: int


@dataclass(frozen=True, slots=True)
class StaffQueue:
    """Whoever serves a role or queue (``agent``, ``reviewer``, ``admin``) at the moment."""

    role: str


Recipient = Shopper | Merchant | StaffMember | StaffQueue


class Address(NamedTuple):
    """Where a push goes: a channel name and that channel's user id."""

    channel: str
    user_id: str


class RecipientDirectory(Protocol):
    """Finds recipients. Both methods answer "nobody" (None, []) for a recipient they do not know."""

    async def language_of(self, recipient: Recipient) -> str | None:
        """The language to write to them in; None: unknown or erased, send nothing."""
        ...

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        """Their chat addresses (for a queue or merchant: everyone's)."""
        ...


class Reach(NamedTuple):
    """A recipient's language (None: send nothing) and addresses, found together."""

    language: str | None
    addresses: list[Address]


NOBODY = Reach(None, [])


@runtime_checkable
class KnowsReach(Protocol):
    """A directory that finds a recipient's language and addresses in one look-up."""

    async def reach_of(self, recipient: Recipient) -> Reach: ...


class ShopperDirectory:
    """Shoppers from the core's customer records; no one else.

    One read gives a shopper's language and accounts (``customers.reach``): a notification asks
    for both, and :class:`EventDirectory` keeps the answer for the rest of the event."""

    def __init__(self, commerce: Commerce) -> None:
        self._commerce = commerce

    async def reach_of(self, recipient: Recipient) -> Reach:
        if not isinstance(recipient, Shopper):
            return NOBODY
        found = await self._commerce.customers.reach(recipient.customer_id)
        if found is None:
            return NOBODY  # erased customers get no messages
        skip = recipient.except_accounts
        return Reach(
            found.language,
            [Address(channel, user) for channel, user in found.identities if f"{channel}:{user}" not in skip],
        )

    async def language_of(self, recipient: Recipient) -> str | None:
        return (await self.reach_of(recipient)).language

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        return (await self.reach_of(recipient)).addresses


class NoOperators:
    """Merchants and staff before operator identities exist: nobody to reach."""

    async def language_of(self, recipient: Recipient) -> None:
        return None

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        return []


@runtime_checkable
class KnowsMembers(Protocol):
    """A directory that can split a group (a merchant, a staff queue) into the people in it."""

    async def members_of(self, recipient: Recipient) -> list[Recipient]: ...


_KNOWS: dict[tuple[type, type], bool] = {}


def _knows(protocol: type, directory: object) -> bool:
    """``isinstance(directory, protocol)`` for a runtime-checkable protocol of methods, remembered
    per class: the check walks the protocol's attributes, and every event asks it several times."""
    key = (protocol, type(directory))
    found = _KNOWS.get(key)
    if found is None:
        found = _KNOWS[key] = isinstance(directory, protocol)
    return found


#: how long the operator directory remembers a recipient's contacts (seconds), and for how many
CONTACTS_TTL = 2.0
CONTACTS_KEPT = 2000


class OperatorDirectory:
    """Merchants and staff from the operator accounts and the chat identities they bound with a code.

    ``Merchant(id)``: the enabled users of that merchant; ``StaffMember(id)``: that operator account
    (internal id); ``StaffQueue(role)``: the enabled operators with that role. Only accounts with at
    least one bound Telegram/WeChat identity count: the others have nowhere to be told. A group's
    language is its first member's; :meth:`members_of` lets a subscriber write to each in their own.
    """

    def __init__(self, commerce: Commerce, *, remember_seconds: float = CONTACTS_TTL) -> None:
        self._commerce = commerce
        self._remember = remember_seconds
        self._known: dict[Recipient, tuple[float, list[OperatorContact]]] = {}

    async def _contacts(self, recipient: Recipient) -> list[OperatorContact]:
        """The recipient's contacts, remembered for a moment: one paid order asks for the same merchant's
        members, then each member's language, then their addresses, and a burst of orders asks again
        for every order. A binding made or removed shows within ``remember_seconds``."""
        now = time.monotonic()
        known = self._known.get(recipient)
        if known is not None and now - known[0] < self._remember:
            return known[1]
        found = await self._look_up(recipient)
        if not found:
            # nobody bound yet: not remembered, so a binding made a moment from now, by any process,
            # counts at once; asking again is one prepared statement on a hot unit (issue 16)
            return found
        if len(self._known) >= CONTACTS_KEPT:
            self._known.clear()
        self._known[recipient] = (now, found)
        return found

    async def _look_up(self, recipient: Recipient) -> list[OperatorContact]:
        operators = self._commerce.operators
        if isinstance(recipient, Merchant):
            return await operators.chat_contacts(merchant_id=recipient.merchant_id)
        if isinstance(recipient, StaffMember):
            return await operators.chat_contacts(operator_id=recipient.user_id)
        if isinstance(recipient, StaffQueue):
            return await operators.chat_contacts(role=recipient.role)
        return []

    async def language_of(self, recipient: Recipient) -> str | None:
        contacts = await self._contacts(recipient)
        return contacts[0].language if contacts else None

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        return [
            Address(channel, user_id)
            for contact in await self._contacts(recipient)
            for channel, user_id in contact.identities
        ]

    async def members_of(self, recipient: Recipient) -> list[Recipient]:
        return [StaffMember(contact.operator_id) for contact in await self._contacts(recipient)]


class Directory:
    """Shoppers from one directory, merchants and staff from another (the back office's)."""

    def __init__(self, shoppers: RecipientDirectory, operators: RecipientDirectory | None = None) -> None:
        self._shoppers = shoppers
        self._operators: RecipientDirectory = operators or NoOperators()

    def _for(self, recipient: Recipient) -> RecipientDirectory:
        return self._shoppers if isinstance(recipient, Shopper) else self._operators

    async def language_of(self, recipient: Recipient) -> str | None:
        return await self._for(recipient).language_of(recipient)

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        return await self._for(recipient).addresses_of(recipient)

    async def members_of(self, recipient: Recipient) -> list[Recipient]:
        """The people in a group, each to be written to in their own language (a person: themself)."""
        found = self._for(recipient)
        if not _knows(KnowsMembers, found):
            return [recipient]
        return await cast(KnowsMembers, found).members_of(recipient)

    async def reach_of(self, recipient: Recipient) -> Reach:
        found = self._for(recipient)
        if _knows(KnowsReach, found):
            return await cast(KnowsReach, found).reach_of(recipient)
        return Reach(await found.language_of(recipient), await found.addresses_of(recipient))


class EventDirectory:
    """A directory's answers kept for the notifications of ONE outbox event.

    Why: an event's notification asks for its recipient's language (to write it), then for their
    addresses (to push it), and a paid order asks for the same merchant's members again for each
    notification; each was a database read (issue 16: most of the relay's CPU). Kept for one event
    only, never longer: a shopper may switch language or unbind a channel between two events, and
    the next event must see it. A directory that finds both at once (:class:`KnowsReach`) is asked
    once per recipient; any other is asked each question once."""

    def __init__(self, inner: RecipientDirectory) -> None:
        self.inner = inner
        self._finds_both = _knows(KnowsReach, inner)
        self._reach: dict[Recipient, Reach] = {}
        self._languages: dict[Recipient, str | None] = {}
        self._addresses: dict[Recipient, list[Address]] = {}

    async def _both(self, recipient: Recipient) -> Reach | None:
        if not self._finds_both:
            return None
        found = self._reach.get(recipient)
        if found is None:
            found = self._reach[recipient] = await cast(KnowsReach, self.inner).reach_of(recipient)
        return found

    async def language_of(self, recipient: Recipient) -> str | None:
        if (both := await self._both(recipient)) is not None:
            return both.language
        if recipient not in self._languages:
            self._languages[recipient] = await self.inner.language_of(recipient)
        return self._languages[recipient]

    async def addresses_of(self, recipient: Recipient) -> list[Address]:
        if (both := await self._both(recipient)) is not None:
            return list(both.addresses)
        if recipient not in self._addresses:
            self._addresses[recipient] = await self.inner.addresses_of(recipient)
        return list(self._addresses[recipient])


class EventDirectoryOfGroups(EventDirectory):
    """:class:`EventDirectory` over a directory that splits groups into members (kept apart so a
    subscriber's ``isinstance(directory, KnowsMembers)`` answers as it would for the inner one)."""

    def __init__(self, inner: RecipientDirectory) -> None:
        super().__init__(inner)
        self._members: dict[Recipient, list[Recipient]] = {}

    async def members_of(self, recipient: Recipient) -> list[Recipient]:
        if recipient not in self._members:
            inner = self.inner
            self._members[recipient] = await cast(KnowsMembers, inner).members_of(recipient)
        return list(self._members[recipient])


def for_one_event(directory: RecipientDirectory) -> EventDirectory:
    """``directory``'s answers kept for one event's notifications (see :class:`EventDirectory`)."""
    if _knows(KnowsMembers, directory):
        return EventDirectoryOfGroups(directory)
    return EventDirectory(directory)
