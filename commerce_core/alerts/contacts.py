"""The shared-contact rule's memory: which customers ship to (or proved) which phone and address,
kept as blind indexes only (R4.1-6: many new accounts behind one phone or address is a fake-order sign).

Why blind indexes: the rule must count accounts that share a phone without the alert tables holding a
phone in clear. The phone's index is the one ``customers.phone_index`` already uses (HMAC of the
normalised number under the blind-index key), so a verified phone and an order's recipient phone
meet; an address gets the same HMAC over its normalised text with an ``address:`` prefix.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    delete,
    exists,
    literal_column,
    or_,
    select,
    union_all,
)

from commerce_core.alerts.model import Alert, AlertContact
from commerce_core.customers.model import Customer
from commerce_core.customers.types import AddressInput
from commerce_core.db.dialect import insert_ignoring_conflicts
from commerce_core.errors import InvalidInput
from commerce_core.security import FieldCipher, mask_address_line, mask_phone, normalise_phone
from commerce_core.uow import Units, Work

PHONE = "phone"
ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Contact:
    """One fingerprint of a customer: kind, blind index, and the masked form staff may see."""

    kind: str
    digest: str
    masked: str


def _normalised_address(address: AddressInput) -> str:
    parts = (address.country, address.region, address.city, address.district, address.line)
    return "|".join("".join(part.split()).casefold() for part in parts)


def valid_phones(*raw: str | None) -> set[str]:
    """The normalised form of each phone given; one that today's rules refuse is left out."""
    found: set[str] = set()
    for value in raw:
        if value:
            try:
                found.add(normalise_phone(value))
            except InvalidInput:
                continue  # an old row with a number today's rules refuse: nothing to compare it with
    return found


def contacts_of(cipher: FieldCipher, address: AddressInput, verified_phone: str | None) -> list[Contact]:
    """The fingerprints an order gives: its recipient phone and address, and the buyer's verified phone."""
    found: dict[tuple[str, str], Contact] = {}
    for phone in sorted(valid_phones(address.phone, verified_phone)):
        digest = cipher.blind_index(phone)
        found[(PHONE, digest)] = Contact(PHONE, digest, mask_phone(phone))
    place = " ".join(p for p in (address.region, address.city, address.district) if p)
    digest = cipher.blind_index("address:" + _normalised_address(address))
    found[(ADDRESS, digest)] = Contact(ADDRESS, digest, f"{place} {mask_address_line(address.line)}".strip())
    return list(found.values())


async def record(work: Work, customer_id: int, found: list[Contact], now: datetime) -> None:
    """Record each fingerprint of ``customer_id`` once, in the caller's unit: one statement, and a
    retry (or another process recording the same ones meanwhile) inserts nothing."""
    if not found:
        return
    rows = [
        {"customer_id": customer_id, "kind": c.kind, "digest": c.digest, "created_at": now} for c in found
    ]
    await work.execute(_RECORD[work.dialect_name == "postgresql"], rows)


def _new_accounts(kind: str) -> Select[Any]:
    """The live customers created since ``b_since`` behind the ``b_digest`` of ``kind`` (for a
    phone, also those who proved it without ordering yet); built once per kind."""
    recent = (Customer.created_at >= bindparam("b_since")) & Customer.erased_at.is_(None)
    behind = select(AlertContact.customer_id).where(
        AlertContact.kind == kind, AlertContact.digest == bindparam("b_digest")
    )
    who: ColumnElement[bool] = Customer.id.in_(behind)
    if kind == PHONE:
        who = or_(who, Customer.phone_index == bindparam("b_digest"))
    return select(Customer.public_id).where(who, recent)


_NEW_ACCOUNTS = {kind: _new_accounts(kind) for kind in (PHONE, ADDRESS)}
#: (SQLite, PostgreSQL) the insert of fingerprints, a conflict inserting nothing
_RECORD = tuple(
    insert_ignoring_conflicts(name, AlertContact, "kind", "digest", "customer_id")
    for name in ("sqlite", "postgresql")
)


async def new_accounts_sharing(work: Work, contact: Contact, since: datetime) -> list[str]:
    """Public ids of the live customers created since ``since`` behind this phone or address (for a
    phone, also those who proved it without ordering yet)."""
    found = await work.execute(_NEW_ACCOUNTS[contact.kind], {"b_since": since, "b_digest": contact.digest})
    return sorted(found.scalars().all())


def _unalerted_crowd(index: int, kind: str) -> Select[Any]:
    """Up to ``b_limit`` of the new accounts behind contact ``index`` (binds suffixed ``_<index>``),
    none when an alert of ``b_rule_<index>`` on ``b_subject_<index>`` was raised since
    ``b_alerted_since``: the question and its pre-check in one read."""
    n = f"_{index}"
    recent = (Customer.created_at >= bindparam("b_since")) & Customer.erased_at.is_(None)
    behind = select(AlertContact.customer_id).where(
        AlertContact.kind == kind, AlertContact.digest == bindparam("b_digest" + n)
    )
    who: ColumnElement[bool] = Customer.id.in_(behind)
    if kind == PHONE:
        who = or_(who, Customer.phone_index == bindparam("b_digest" + n))
    alerted = exists().where(
        Alert.rule == bindparam("b_rule" + n),
        Alert.subject == bindparam("b_subject" + n),
        Alert.raised_at >= bindparam("b_alerted_since"),
    )
    some = (
        select(literal_column(str(index), Integer).label("n"), Customer.public_id)
        .where(who, recent, ~alerted)
        .limit(bindparam("b_limit", type_=Integer))
        .subquery()
    )
    return select(some.c.n, some.c.public_id)


#: one statement per shape of an order's contacts (the kinds, in order; at most a few shapes)
_CROWDS: dict[tuple[str, ...], CompoundSelect[Any] | Select[Any]] = {}


def _crowds_of(kinds: tuple[str, ...]) -> CompoundSelect[Any] | Select[Any]:
    found = _CROWDS.get(kinds)
    if found is None:
        parts = [_unalerted_crowd(i, kind) for i, kind in enumerate(kinds)]
        found = _CROWDS[kinds] = parts[0] if len(parts) == 1 else union_all(*parts)
    return found


async def reaching(
    work: Work,
    watched: list[tuple[Contact, str, str]],
    since: datetime,
    alerted_since: datetime,
    threshold: int,
) -> list[Contact]:
    """Of ``watched`` (contact, alert rule, alert subject), the contacts behind which at least
    ``threshold`` new accounts (created since ``since``) exist and on which that rule raised no alert
    since ``alerted_since``.

    Why one statement: each order asks this of its two or three contacts, and a round trip per
    contact plus one for the alerts cost more than the reads. Each contact's count is limited to
    ``threshold`` rows (a crowd of thousands is not read whole), and one already alerted on is not
    counted at all (the usual case once a crowd formed). The statement is built once per shape."""
    if not watched:
        return []
    params: dict[str, Any] = {"b_since": since, "b_alerted_since": alerted_since, "b_limit": threshold}
    for i, (contact, rule, subject) in enumerate(watched):
        params |= {f"b_digest_{i}": contact.digest, f"b_rule_{i}": rule, f"b_subject_{i}": subject}
    query = _crowds_of(tuple(contact.kind for contact, _, _ in watched))
    counts = Counter(int(n) for n, _ in (await work.execute(query, params)).all())
    return [contact for i, (contact, _, _) in enumerate(watched) if counts[i] >= threshold]


async def forget(units: Units, customer_id: int) -> int:
    """Erasure: drop the customer's fingerprints (their alerts keep only masked forms and counts)."""
    async with units.orm() as uow:
        result = await uow.session.execute(
            delete(AlertContact).where(AlertContact.customer_id == customer_id)
        )
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
