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


def _behind(kind: str, digest: str) -> ColumnElement[bool]:
    """Customers behind the fingerprint of ``kind`` bound as ``digest`` (for a phone, also those who
    proved it without ordering yet)."""
    behind = select(AlertContact.customer_id).where(
        AlertContact.kind == kind, AlertContact.digest == bindparam(digest)
    )
    who: ColumnElement[bool] = Customer.id.in_(behind)
    if kind == PHONE:
        who = or_(who, Customer.phone_index == bindparam(digest))
    return who


def _recent() -> ColumnElement[bool]:
    """Live customers created since ``b_since``: the new accounts a crowd is made of."""
    return (Customer.created_at >= bindparam("b_since")) & Customer.erased_at.is_(None)


def _new_accounts(kind: str) -> Select[Any]:
    """The new accounts (:func:`_recent`) behind the ``b_digest`` of ``kind``; built once per kind."""
    return select(Customer.public_id).where(_behind(kind, "b_digest"), _recent())


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


def _unalerted_crowd(index: int, kind: str, recording: bool) -> Select[Any]:
    """Up to ``b_limit`` of the new accounts behind contact ``index`` (binds suffixed ``_<index>``),
    none when an alert of ``b_rule_<index>`` on ``b_subject_<index>`` was raised since
    ``b_alerted_since``: the question and its pre-check in one read. ``recording``: the same
    statement writes ``b_customer``'s fingerprints, which its reads do not see, so that customer is
    behind the contact as the row being written makes them."""
    n = f"_{index}"
    who = _behind(kind, "b_digest" + n)
    if recording:
        who = or_(who, Customer.id == bindparam("b_customer"))
    alerted = exists().where(
        Alert.rule == bindparam("b_rule" + n),
        Alert.subject == bindparam("b_subject" + n),
        Alert.raised_at >= bindparam("b_alerted_since"),
    )
    some = (
        select(literal_column(str(index), Integer).label("n"), Customer.public_id)
        .where(who, _recent(), ~alerted)
        .limit(bindparam("b_limit", type_=Integer))
        .subquery()
    )
    return select(some.c.n, some.c.public_id)


def _recorded(count: int) -> Any:
    """PostgreSQL: the insert of ``count`` fingerprints of ``b_customer`` (``b_kind_<i>``,
    ``b_digest_<i>``, at ``b_now``) as a CTE, a conflict inserting nothing."""
    rows = [
        select(
            bindparam("b_customer", type_=AlertContact.customer_id.type).label("customer_id"),
            bindparam(f"b_kind_{i}", type_=AlertContact.kind.type).label("kind"),
            bindparam(f"b_digest_{i}", type_=AlertContact.digest.type).label("digest"),
            bindparam("b_now", type_=AlertContact.created_at.type).label("created_at"),
        )
        for i in range(count)
    ]
    insert = _RECORD[True].from_select(
        ["customer_id", "kind", "digest", "created_at"], rows[0] if count == 1 else union_all(*rows)
    )
    return insert.cte("recorded")


#: one statement per shape of an order's contacts (the kinds, in order; at most a few shapes) and
#: whether it records them too (PostgreSQL)
_CROWDS: dict[tuple[tuple[str, ...], bool], Select[Any]] = {}


def _crowds_of(kinds: tuple[str, ...], recording: bool) -> Select[Any]:
    """A plain SELECT (the union as a subquery): a hot unit runs it without BEGIN, as its own
    transaction when it records."""
    found = _CROWDS.get((kinds, recording))
    if found is None:
        parts = [_unalerted_crowd(i, kind, recording) for i, kind in enumerate(kinds)]
        found = parts[0] if len(parts) == 1 else select(union_all(*parts).subquery())
        if recording:
            found = found.add_cte(_recorded(len(kinds)))
        _CROWDS[(kinds, recording)] = found
    return found


async def record_and_reach(
    work: Work,
    customer_id: int,
    watched: list[tuple[Contact, str, str]],
    now: datetime,
    since: datetime,
    alerted_since: datetime,
    threshold: int,
) -> list[Contact]:
    """Record the fingerprints of ``watched`` (contact, alert rule, alert subject) for
    ``customer_id`` at ``now`` (as :func:`record`) and return the contacts behind which at least
    ``threshold`` new accounts (created since ``since``, the customer included) exist and on which
    that rule raised no alert since ``alerted_since``.

    Why one statement on PostgreSQL (two elsewhere): each order asks this of its two or three
    contacts, and BEGIN, the insert, a read for the alerts, a read per contact and COMMIT cost more
    than the work. The insert is a CTE (its own transaction: a retry inserts nothing more), each
    contact's count is limited to ``threshold`` rows (a crowd of thousands is not read whole), and
    one already alerted on is not counted at all (the usual case once a crowd formed)."""
    if not watched:
        return []
    recording = work.dialect_name == "postgresql"
    if not recording:
        await record(work, customer_id, [contact for contact, _, _ in watched], now)
    params: dict[str, Any] = {
        "b_since": since,
        "b_alerted_since": alerted_since,
        "b_limit": threshold,
    }
    if recording:
        params |= {"b_customer": customer_id, "b_now": now}
    for i, (contact, rule, subject) in enumerate(watched):
        params |= {f"b_digest_{i}": contact.digest, f"b_rule_{i}": rule, f"b_subject_{i}": subject}
        if recording:
            params[f"b_kind_{i}"] = contact.kind
    query = _crowds_of(tuple(contact.kind for contact, _, _ in watched), recording)
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
