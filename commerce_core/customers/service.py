"""Customers: identity across channels, language, phone and addresses (encrypted), rotation."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    Insert,
    Select,
    bindparam,
    exists,
    false,
    func,
    insert,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError

from commerce_core.customers.model import Address, ChannelIdentity, Customer
from commerce_core.customers.types import AddressInput, AddressView, CustomerReach, CustomerView
from commerce_core.db.base import table_of
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.ids import CUSTOMER_PREFIX, new_public_id
from commerce_core.security import FieldCipher, normalise_phone
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import check_language, clean_text

MAX_ADDRESSES = 20
#: a channel's name as the edge registers it (``telegram``, ``web``, ...): which channels exist is the
#: edge's business (its channel registry), the core only keeps the column's shape
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_]{0,15}")

# First contact and a first address happen in every new conversation: prebuilt column statements
# that run on the hot unit (prepared statements on PostgreSQL), not ORM flushes.
_CUSTOMER_COLUMNS = (
    Customer.id,
    Customer.public_id,
    Customer.language,
    Customer.display_name_enc,
    Customer.phone_enc,
    Customer.phone_verified_at,
    Customer.erased_at,
)
_BY_IDENTITY = (
    select(*_CUSTOMER_COLUMNS)
    .join(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
    .where(
        ChannelIdentity.channel == bindparam("b_channel"), ChannelIdentity.external_id == bindparam("b_id")
    )
)
_INSERT_CUSTOMER = insert(Customer).returning(*_CUSTOMER_COLUMNS)
_INSERT_IDENTITY = insert(ChannelIdentity)


def _first_contact() -> Select[Any]:
    """PostgreSQL: the customer behind a channel account, or (none yet) a new customer and its channel
    identity, in ONE statement (a data-modifying CTE).

    Why: first contact was a SELECT, then BEGIN, two INSERTs and COMMIT, in every new conversation.
    One statement is atomic on its own: the inserts select from "no such account found", so a known
    account inserts nothing; when another message of the same new user won the race (the identity's
    unique key), neither row is inserted and :meth:`CustomerService.identify` reads theirs.
    """
    customers, identities = table_of(Customer), table_of(ChannelIdentity)
    now = bindparam("created_at", type_=customers.c.created_at.type)
    channel = bindparam("channel", type_=identities.c.channel.type)
    external_id = bindparam("external_id", type_=identities.c.external_id.type)
    found = (
        select(*(customers.c[column.key] for column in _CUSTOMER_COLUMNS))
        .join(identities, identities.c.customer_id == customers.c.id)
        .where(identities.c.channel == channel, identities.c.external_id == external_id)
        .cte("found")
    )
    created = (
        insert(customers)
        .from_select(
            ["public_id", "language", "display_name_enc", "created_at"],
            select(
                bindparam("public_id", type_=customers.c.public_id.type),
                bindparam("language", type_=customers.c.language.type),
                bindparam("display_name_enc", type_=customers.c.display_name_enc.type),
                now,
            ).where(~exists(select(found.c.id))),
        )
        .returning(*(customers.c[column.key] for column in _CUSTOMER_COLUMNS))
        .cte("created")
    )
    identity = (
        insert(identities)
        .from_select(
            ["customer_id", "channel", "external_id", "created_at"],
            select(created.c.id, channel, external_id, now),
        )
        .cte("identity")
    )
    return union_all(select(*found.c), select(*created.c)).subquery("customer").select().add_cte(identity)


_FIRST_CONTACT = _first_contact()
#: lock the (not erased) customer, so two new addresses cannot both pass the limit; count theirs
_LOCK_FOR_ADDRESS = (
    select(
        Customer.id,
        select(func.count(Address.id))
        .where(Address.customer_id == Customer.id)
        .scalar_subquery()
        .label("addresses"),
    )
    .where(Customer.id == bindparam("b_customer"), Customer.erased_at.is_(None))
    .with_for_update(of=Customer)
)
_CLEAR_DEFAULT = (
    update(Address).where(Address.customer_id == bindparam("b_customer")).values(is_default=False)
)
_INSERT_ADDRESS = insert(Address).returning(Address.id)


def _insert_default_address() -> Insert:
    """PostgreSQL: clear the customer's default and insert the new default address in ONE statement.

    Why: the address turn was BEGIN, lock, UPDATE, INSERT, COMMIT. The two writes share a snapshot
    taken after the lock statement, so an address another message added (and committed) before this
    one got the customer's lock is seen and un-defaulted, as with two statements; the UPDATE does not
    see the row its own statement inserts, so the new address alone stays the default.
    """
    addresses = table_of(Address)

    def bound(name: str, column: str) -> Any:
        return bindparam(name, type_=addresses.c[column].type)

    cleared = (
        update(addresses)
        .where(addresses.c.customer_id == bound("b_customer", "customer_id"))
        .values(is_default=false())
        .cte("cleared")
    )
    return (
        insert(addresses)
        .values(
            customer_id=bound("b_customer", "customer_id"),
            payload_enc=bound("b_payload", "payload_enc"),
            is_default=true(),
            created_at=bound("b_created", "created_at"),
        )
        .returning(addresses.c.id)
        .add_cte(cleared)
    )


_INSERT_DEFAULT_ADDRESS = _insert_default_address()
_ADDRESS_COLUMNS = (Address.id, Address.payload_enc, Address.is_default)
_ADDRESSES_OF = (
    select(*_ADDRESS_COLUMNS)
    .where(Address.customer_id == bindparam("b_customer"))
    .order_by(Address.is_default.desc(), Address.id.desc())
)
_ADDRESS_OF = select(*_ADDRESS_COLUMNS).where(
    Address.id == bindparam("b_address"), Address.customer_id == bindparam("b_customer")
)

#: a live customer's language and accounts in one read (one row per account; one with NULLs for none)
_REACH = (
    select(Customer.language, ChannelIdentity.channel, ChannelIdentity.external_id)
    .outerjoin(ChannelIdentity, ChannelIdentity.customer_id == Customer.id)
    .where(Customer.id == bindparam("b_customer"), Customer.erased_at.is_(None))
    .order_by(ChannelIdentity.id)
)


class CustomerMerger(Protocol):
    """Move everything of ``source_id`` to ``target_id`` and close ``source_id``.

    A port: the merge touches carts, orders, cases and tickets, aggregates that depend on customers,
    so it lives outside them (:func:`commerce_core.linking.merge_customers`) and is wired in by
    :class:`~commerce_core.app.Commerce`.
    """

    async def __call__(self, source_id: int, target_id: int, *, actor: str) -> None: ...


#: other aggregates' tables with personal fields encrypted under the same keys: (model, field names)
EncryptedFields = Sequence[tuple[type[Any], tuple[str, ...]]]


class CustomerService:
    def __init__(
        self,
        units: Units,
        cipher: FieldCipher,
        *,
        merge: CustomerMerger | None = None,
        encrypted_elsewhere: EncryptedFields = (),
    ) -> None:
        """``merge`` links channel accounts (:meth:`link_into`); ``encrypted_elsewhere`` lists the
        other aggregates' encrypted fields that :meth:`rotate_encryption` re-encrypts too (orders'
        delivery addresses). Both come from the composition root, so customers import neither."""
        self._units = units
        self._cipher = cipher
        self._merge = merge
        self._encrypted_elsewhere = tuple(encrypted_elsewhere)

    def _view(self, c: Any) -> CustomerView:
        """From a Customer, or a row of ``_CUSTOMER_COLUMNS``."""
        return CustomerView(
            id=c.id,
            public_id=c.public_id,
            language=c.language,
            display_name=self._cipher.decrypt(c.display_name_enc) if c.display_name_enc else None,
            phone=self._cipher.decrypt(c.phone_enc) if c.phone_enc else None,
            phone_verified=c.phone_verified_at is not None,
            erased=c.erased_at is not None,
        )

    async def identify(
        self, channel: str, external_id: str, *, language: str = "zh-Hans", display_name: str | None = None
    ) -> CustomerView:
        """The customer behind a channel account, created on first contact (the channel is the login)."""
        if not isinstance(channel, str) or not CHANNEL_NAME.fullmatch(channel):
            raise InvalidInput(f"unknown channel {channel!r}", code="invalid_channel")
        external_id = clean_text(external_id, "external id", max_length=128)
        check_language(language)
        name = clean_text(display_name, "name", max_length=100, required=False)
        lookup = {"b_channel": channel, "b_id": external_id}
        for _attempt in range(3):
            async with self._units.hot() as uow:
                postgres = uow.dialect_name == "postgresql"
                if not postgres:
                    found = (await uow.execute(_BY_IDENTITY, lookup)).first()
                    if found is not None:
                        return self._view(found)
                values = {
                    "public_id": new_public_id(CUSTOMER_PREFIX),
                    "language": language,
                    "created_at": uow.now(),
                    "display_name_enc": self._cipher.encrypt(name) if name else None,
                }
                identity = {"channel": channel, "external_id": external_id}
                try:
                    if postgres:
                        # found or created by one statement, its own transaction: no BEGIN or COMMIT
                        created = (await uow.execute(_FIRST_CONTACT, values | identity)).first()
                    else:
                        created = (await uow.execute(_INSERT_CUSTOMER, values)).first()
                        await uow.execute(
                            _INSERT_IDENTITY,
                            {"customer_id": created.id, "created_at": values["created_at"]} | identity,
                        )
                except IntegrityError:
                    continue  # another message of the same new user created it first: read theirs
                await uow.commit()
                return self._view(created)
        raise RuntimeError("could not create or find the customer")

    async def get(self, customer_id: int) -> CustomerView:
        async with self._units.orm() as uow:
            return self._view(await self._load(uow, customer_id))

    async def _load(self, uow: UnitOfWork, customer_id: int, *, lock: bool = False) -> Customer:
        stmt = select(Customer).where(Customer.id == customer_id)
        customer = await uow.session.scalar(stmt.with_for_update() if lock else stmt)
        if customer is None or customer.erased_at is not None:
            raise NotFound("no such customer", code="customer_not_found")
        return customer

    async def link_into(self, source_id: int, target_id: int) -> None:
        """This channel account belongs to ``target_id`` (proved by a verified phone): move it there."""
        if self._merge is None:
            raise RuntimeError("customers were built without a merger (see Commerce)")
        await self._merge(source_id, target_id, actor=f"customer:{source_id}")

    async def identities(self, customer_id: int) -> list[tuple[str, str]]:
        """(channel, external id) of every account the customer uses, for pushing messages."""
        async with self._units.orm() as uow:
            rows = (
                await uow.session.execute(
                    select(ChannelIdentity.channel, ChannelIdentity.external_id)
                    .where(ChannelIdentity.customer_id == customer_id)
                    .order_by(ChannelIdentity.id)
                )
            ).all()
            return [(r[0], r[1]) for r in rows]

    async def reach(self, customer_id: int) -> CustomerReach | None:
        """The language and accounts to notify a customer on, or None for an erased (or unknown) one.

        Why not :meth:`get` and :meth:`identities`: every notification asked both, two ORM units and
        a decryption of the name and phone it never used (issue 16: most of the outbox relay's CPU).
        This is one prepared statement on the hot unit."""
        async with self._units.hot() as uow:
            rows = (await uow.execute(_REACH, {"b_customer": customer_id})).all()
        if not rows:
            return None
        return CustomerReach(rows[0][0], [(r[1], r[2]) for r in rows if r[1] is not None])

    async def set_language(self, customer_id: int, language: str) -> None:
        check_language(language)
        async with self._units.orm() as uow:
            (await self._load(uow, customer_id)).language = language
            await uow.commit()

    async def set_display_name(self, customer_id: int, name: str) -> None:
        name = clean_text(name, "name", max_length=100)
        async with self._units.orm() as uow:
            (await self._load(uow, customer_id)).display_name_enc = self._cipher.encrypt(name)
            await uow.commit()

    async def bind_phone(self, customer_id: int, phone: str, *, verified: bool) -> CustomerView:
        """Store the phone (encrypted) with a blind index; ``verified`` once a code was confirmed."""
        phone = normalise_phone(phone)
        async with self._units.orm() as uow:
            customer = await self._load(uow, customer_id, lock=True)
            customer.phone_enc = self._cipher.encrypt(phone)
            customer.phone_index = self._cipher.blind_index(phone)
            customer.phone_verified_at = uow.now() if verified else None
            await uow.commit()
            return self._view(customer)

    async def find_by_phone(self, phone: str) -> CustomerView | None:
        index = self._cipher.blind_index(normalise_phone(phone))
        async with self._units.orm() as uow:
            found = await uow.session.scalar(
                select(Customer).where(Customer.phone_index == index, Customer.erased_at.is_(None))
            )
            return self._view(found) if found else None

    async def add_address(
        self, customer_id: int, address: AddressInput, *, make_default: bool = True
    ) -> AddressView:
        clean = address.validated()
        async with self._units.hot() as uow:
            customer = (await uow.execute(_LOCK_FOR_ADDRESS, {"b_customer": customer_id})).first()
            if customer is None:
                raise NotFound("no such customer", code="customer_not_found")
            count = int(customer.addresses)
            if count >= MAX_ADDRESSES:
                raise InvalidInput(
                    "too many saved addresses", code="too_many_addresses", maximum=MAX_ADDRESSES
                )
            default = make_default or count == 0
            payload = self._cipher.encrypt_json(clean.to_dict())
            if default and uow.dialect_name == "postgresql":
                both = {"b_customer": customer_id, "b_payload": payload, "b_created": uow.now()}
                address_id = (await uow.execute(_INSERT_DEFAULT_ADDRESS, both)).scalar()
                await uow.commit()
                return AddressView(address_id, clean, default)
            if default:
                await uow.execute(_CLEAR_DEFAULT, {"b_customer": customer_id})
            address_id = (
                await uow.execute(
                    _INSERT_ADDRESS,
                    {
                        "customer_id": customer_id,
                        "payload_enc": payload,
                        "is_default": default,
                        "created_at": uow.now(),
                    },
                )
            ).scalar()
            await uow.commit()
            return AddressView(address_id, clean, default)

    async def addresses(self, customer_id: int) -> list[AddressView]:
        """The saved addresses, default first, then newest first."""
        async with self._units.hot() as uow:
            rows = (await uow.execute(_ADDRESSES_OF, {"b_customer": customer_id})).all()
        return [self._address_view(r) for r in rows]

    async def address(self, customer_id: int, address_id: int) -> AddressView:
        """One saved address of this customer (reads and decrypts that one only)."""
        async with self._units.hot() as uow:
            row = (
                await uow.execute(_ADDRESS_OF, {"b_customer": customer_id, "b_address": address_id})
            ).first()
        if row is None:
            raise NotFound("no such address", code="address_not_found")
        return self._address_view(row)

    def _address_view(self, row: Any) -> AddressView:
        """From an Address, or a row of its columns."""
        return AddressView(
            row.id, AddressInput.from_dict(self._cipher.decrypt_json(row.payload_enc)), row.is_default
        )

    async def delete_address(self, customer_id: int, address_id: int) -> None:
        async with self._units.orm() as uow:
            row = await uow.session.scalar(
                select(Address).where(Address.id == address_id, Address.customer_id == customer_id)
            )
            if row is None:
                raise NotFound("no such address", code="address_not_found")
            await uow.session.delete(row)
            await uow.commit()

    async def rotate_encryption(self, batch: int = 500) -> int:
        """Re-encrypt every personal field under the current first key, in batches; returns rows touched."""
        touched = 0
        tables: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
            (Customer, ("phone_enc", "display_name_enc")),
            (Address, ("payload_enc",)),
            *self._encrypted_elsewhere,
        )
        for model, fields in tables:
            last_id = 0
            while True:
                async with self._units.orm() as uow:
                    rows = (
                        await uow.session.scalars(
                            select(model)
                            .where(model.id > last_id)
                            .order_by(model.id)
                            .limit(batch)
                            .with_for_update()
                        )
                    ).all()
                    if not rows:
                        break
                    for row in rows:
                        for name in fields:
                            value = getattr(row, name)
                            if value:
                                setattr(row, name, self._cipher.rotate(value))
                    last_id = int(getattr(rows[-1], "id"))  # noqa: B009 - the tables differ, all have id
                    touched += len(rows)
                    await uow.commit()
        return touched
