"""What the back office needs from the core's operator service, written down as a Protocol.

Why: the pages depend on a dozen calls, not on the whole :class:`Commerce`; naming them here lets mypy
check the real ``commerce.operators`` against exactly what the web side uses, and keeps the handlers
readable (``ctx.operators.disable(...)``) without importing anything behind the core's front door.
"""

from __future__ import annotations

from typing import Protocol

from commerce_core.api import ShipmentView
from commerce_core.operators.types import (
    Actor,
    AuditEntryView,
    AuditFilter,
    MerchantOrderView,
    MerchantProductView,
    OperatorRole,
    OperatorView,
)


class Fulfilment(Protocol):
    """Shipping a merchant's part of an order (``commerce.shipments``); always scoped by merchant id."""

    async def ship(
        self,
        order_number: str,
        *,
        merchant_id: int | None = None,
        carrier: str = "simulated",
        tracking_number: str | None = None,
        company: str | None = None,
        actor: str = "system",
    ) -> ShipmentView: ...

    async def parcels(
        self, order_number: str, *, customer_id: int | None = None, merchant_id: int | None = None
    ) -> list[ShipmentView]: ...


class OperatorAccounts(Protocol):
    async def authenticate(
        self, email: str, password: str, *, totp_code: str | None, ip: str | None
    ) -> OperatorView: ...

    async def authenticate_second_factor(
        self, challenge: str, code: str, *, ip: str | None
    ) -> OperatorView: ...

    async def active_session(self, public_id: str, epoch: int) -> OperatorView | None: ...

    async def get(self, public_id: str) -> OperatorView: ...

    async def list_users(self, *, role: OperatorRole | None = None) -> list[OperatorView]: ...

    async def create(
        self,
        email: str,
        password: str,
        role: OperatorRole,
        *,
        merchant_code: str | None = None,
        display_name: str = "",
        language: str = "en",
        actor: Actor,
    ) -> OperatorView: ...

    async def sign_up_applicant(
        self, email: str, password: str, display_name: str, language: str, ip: str | None
    ) -> OperatorView: ...

    async def disable(self, public_id: str, actor: Actor) -> None: ...

    async def enable(self, public_id: str, actor: Actor) -> None: ...

    async def reset_password(self, public_id: str, new_password: str, actor: Actor) -> None: ...

    async def change_password(self, public_id: str, old: str, new: str, actor: Actor) -> None: ...

    async def end_sessions(self, public_id: str, actor: Actor) -> None: ...

    async def begin_totp(self, public_id: str, *, actor: Actor | None = None) -> tuple[str, str]: ...

    async def confirm_totp(self, public_id: str, code: str, actor: Actor) -> None: ...

    async def reset_totp(self, public_id: str, actor: Actor) -> None: ...

    async def record(
        self,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: str | None = None,
        detail: str | None = None,
    ) -> None: ...

    async def audit_log(
        self, filter: AuditFilter, *, limit: int = 100, offset: int = 0
    ) -> list[AuditEntryView]: ...

    async def issue_binding_code(self, public_id: str, actor: Actor) -> str: ...

    async def identities_of(self, public_id: str) -> list[tuple[str, str]]: ...

    async def merchant_products(
        self, merchant_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[MerchantProductView]: ...

    async def merchant_product(self, merchant_id: int, code: str) -> MerchantProductView: ...

    async def merchant_order(self, merchant_id: int, number: str) -> MerchantOrderView: ...
