"""Customers' vocabulary: address input (validated) and the masked views shown to people.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from commerce_core.security import mask_address_line, mask_name, mask_phone, normalise_phone
from commerce_core.validation import clean_text


@dataclass(frozen=True, slots=True)
class AddressInput:
    recipient: str
    phone: str
    city: str
    line: str
    region: str = ""
    district: str = ""
    postal_code: str = ""
    country: str = "CN"

    def validated(self) -> AddressInput:
        return AddressInput(
            recipient=clean_text(self.recipient, "recipient", max_length=50),
            phone=normalise_phone(self.phone),
            city=clean_text(self.city, "city", max_length=50),
            line=clean_text(self.line, "address line", max_length=200),
            region=clean_text(self.region, "region", max_length=50, required=False),
            district=clean_text(self.district, "district", max_length=50, required=False),
            postal_code=clean_text(self.postal_code, "postal code", max_length=12, required=False),
            country=clean_text(self.country, "country", max_length=2).upper(),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AddressInput:
        return cls(**{k: str(data.get(k, "")) for k in cls.__dataclass_fields__})

    def masked_line(self) -> str:
        """One line safe to show anywhere: ``张* 138******78 上海市 浦东新区 世纪大道****``."""
        place = " ".join(p for p in (self.region, self.city, self.district) if p)
        return f"{mask_name(self.recipient)} {mask_phone(self.phone)} {place} {mask_address_line(self.line)}"

    def full_line(self) -> str:
        """Unmasked: only for the shopper's own export and the carrier label."""
        place = " ".join(p for p in (self.region, self.city, self.district) if p)
        return f"{self.recipient} {self.phone} {place} {self.line}"


@dataclass(frozen=True, slots=True)
class AddressView:
    id: int
    address: AddressInput
    is_default: bool


@dataclass(frozen=True, slots=True)
class CustomerReach:
    """What a notification needs of a shopper: the language to write in and the ``(channel, external
    id)`` accounts to push to, in the order they were added."""

    language: str
    identities: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: int
    public_id: str
    language: str
    display_name: str | None
    phone: str | None
    phone_verified: bool
    erased: bool

    @property
    def masked_phone(self) -> str | None:
        return mask_phone(self.phone) if self.phone else None

    @property
    def masked_name(self) -> str | None:
        return mask_name(self.display_name) if self.display_name else None
