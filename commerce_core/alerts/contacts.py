"""The shared-contact rule's memory: which customers ship to (or proved) which phone and address,
kept as blind indexes only (R4.1-6: many new accounts behind one phone or address is a fake-order sign).

Why blind indexes: the rule must count accounts that share a phone without the alert tables holding a
phone in clear. The phone's index is the one ``customers.phone_index`` already uses (HMAC of the
normalised number under the blind-index key), so a verified phone and an order's recipient phone
meet; an address gets the same HMAC over its normalised text with an ``address:`` prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from commerce_core.alerts.model import AlertContact
from commerce_core.customers.model import Customer
from commerce_core.customers.types import AddressInput
from commerce_core.errors import InvalidInput
from commerce_core.security import FieldCipher, mask_address_line, mask_phone, normalise_phone
from commerce_core.uow import Units

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


async def record_and_count(
    units: Units, customer_id: int, found: list[Contact], since: datetime
) -> list[tuple[Contact, list[str]]]:
    """Record each fingerprint of ``customer_id`` once, then, in the same unit, count the live new
    accounts (created since ``since``) behind each: ``(contact, their public ids)``.

    One unit for all of it, as it runs for every order. A retry, or another process recording the
    same fingerprints meanwhile, is fine: the unique key keeps one of each and the unit runs again."""
    wanted = {(c.kind, c.digest) for c in found}
    for _attempt in range(3):
        async with units.orm() as uow:
            s = uow.session
            rows = await s.execute(
                select(AlertContact.kind, AlertContact.digest).where(AlertContact.customer_id == customer_id)
            )
            known = {(str(kind), str(digest)) for kind, digest in rows.all()}
            now = uow.now()
            s.add_all(
                AlertContact(customer_id=customer_id, kind=kind, digest=digest, created_at=now)
                for kind, digest in sorted(wanted - known)
            )
            try:
                await s.flush()
            except IntegrityError:
                continue  # recorded meanwhile by a retry or another process: read again
            counted = [(contact, await _new_accounts_sharing(s, contact, since)) for contact in found]
            await uow.commit()
            return counted
    raise RuntimeError("could not record the contact fingerprints")


async def _new_accounts_sharing(s: AsyncSession, contact: Contact, since: datetime) -> list[str]:
    """Public ids of the live customers created since ``since`` behind this phone or address (for a
    phone, also those who proved it without ordering yet)."""
    recent = (Customer.created_at >= since) & Customer.erased_at.is_(None)
    behind = select(AlertContact.customer_id).where(
        AlertContact.kind == contact.kind, AlertContact.digest == contact.digest
    )
    who: ColumnElement[bool] = Customer.id.in_(behind)
    if contact.kind == PHONE:
        who = or_(who, Customer.phone_index == contact.digest)
    return sorted((await s.scalars(select(Customer.public_id).where(who, recent))).all())


async def forget(units: Units, customer_id: int) -> int:
    """Erasure: drop the customer's fingerprints (their alerts keep only masked forms and counts)."""
    async with units.orm() as uow:
        result = await uow.session.execute(
            delete(AlertContact).where(AlertContact.customer_id == customer_id)
        )
        await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)
