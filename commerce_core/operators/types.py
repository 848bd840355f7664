"""The public vocabulary of operator accounts, shared by the core service and the web back office.

Why a module of its own: the back office (``bot/backoffice``) codes against these names while the
service is being written, and the import-linter contract lets edges import per-aggregate ``types``
modules directly. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from commerce_core.errors import InvalidInput, NotAllowed
from commerce_core.money import Money


class OperatorRole(StrEnum):
    """Who an operator is. Staff roles work for the platform; merchant roles belong to one merchant."""

    ADMIN = "admin"
    AGENT = "agent"
    REVIEWER = "reviewer"
    MERCHANT_OWNER = "merchant_owner"
    MERCHANT_STAFF = "merchant_staff"
    APPLICANT = "applicant"


#: the roles that must be tied to exactly one merchant
MERCHANT_ROLES = frozenset({OperatorRole.MERCHANT_OWNER, OperatorRole.MERCHANT_STAFF})
#: the roles of platform staff (never tied to a merchant)
STAFF_ROLES = frozenset({OperatorRole.ADMIN, OperatorRole.AGENT, OperatorRole.REVIEWER})


class Action(StrEnum):
    """What an operator may do; ``commerce_core.operators.permissions`` maps each role to a set."""

    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    REVIEW_MERCHANTS = "review_merchants"
    REVIEW_LISTINGS = "review_listings"
    HANDLE_CONVERSATIONS = "handle_conversations"
    HANDLE_CASES = "handle_cases"
    VIEW_OWN_MERCHANT = "view_own_merchant"
    MANAGE_OWN_MERCHANT = "manage_own_merchant"
    SHIP_OWN_ORDERS = "ship_own_orders"
    APPLY_AS_MERCHANT = "apply_as_merchant"
    MANAGE_OWN_ACCOUNT = "manage_own_account"
    BIND_CHAT_IDENTITY = "bind_chat_identity"
    #: the sales and funnel dashboard: admins see the whole shop, a merchant owner its own figures
    VIEW_DASHBOARD = "view_dashboard"
    #: anomaly alerts and fake-order signals: platform staff (admins and agents) read and acknowledge
    HANDLE_ALERTS = "handle_alerts"


@dataclass(frozen=True, slots=True)
class OperatorView:
    """An operator account as the edges see it (never the password hash or the TOTP secret).

    ``session_epoch``: a web session records the epoch it was issued under and is valid only while
    the account's epoch is unchanged, so bumping it logs the account out everywhere.
    """

    public_id: str
    email: str
    role: OperatorRole
    merchant_id: int | None
    merchant_code: str | None
    display_name: str
    language: str
    disabled: bool
    totp_enabled: bool
    session_epoch: int
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class AuditEntryView:
    """One audit row: who (actor), what (action), on which object, when (at), from where (ip)."""

    id: int
    at: datetime
    actor_id: str | None
    actor_email: str | None
    action: str
    object_type: str
    object_id: str | None
    ip: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Narrows the audit log; every field left ``None`` matches everything."""

    actor_email: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who performs a mutating call and from where; ``operator_id`` None means the system or CLI."""

    operator_id: str | None
    ip: str | None


#: the actor for commands run on the server itself (CLI, demo set-up)
SYSTEM_ACTOR = Actor(operator_id=None, ip=None)


@dataclass(frozen=True, slots=True)
class MerchantProductView:
    """A product as its own merchant sees it in the console (any status, with stock)."""

    code: str
    name: dict[str, str]
    status: str
    status_reason: str | None
    min_price: Money
    max_price: Money
    stock_on_hand: int
    stock_reserved: int
    sku_count: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MerchantOrderLineView:
    sku_code: str
    product_name: dict[str, str]
    options: dict[str, str]
    unit_price: Money
    quantity: int
    line_total: Money


@dataclass(frozen=True, slots=True)
class MerchantOrderView:
    """An order as one merchant sees it: only the lines of THAT merchant, and the total of those."""

    number: str
    status: str
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    lines: tuple[MerchantOrderLineView, ...]
    total: Money
    #: the reason, when this merchant cancelled its part (it could not fill it); None otherwise
    part_cancelled: str | None = None
    #: whether this merchant's part has gone to a carrier (a shipped part cannot be cancelled)
    part_shipped: bool = False


class LoginRefused(NotAllowed):
    """Unknown email, wrong password or disabled account: one error, so nobody can probe accounts."""

    code = "login_refused"


class AccountLocked(NotAllowed):
    """Too many failed attempts; ``until`` says when the account accepts a login again."""

    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__("account locked after repeated failures", until=until)
        self.until = until


class SecondFactorRequired(NotAllowed):
    """The password was right and the account has TOTP: ask for the code.

    ``challenge`` is an opaque, encrypted and authenticated token naming the operator, valid for a few
    minutes; the edge keeps it (not the password) between its two login forms and hands it back to
    ``OperatorService.authenticate_second_factor``. The core, not the edge, vouches that the password
    step happened.
    """

    code = "second_factor_required"

    def __init__(self, public_id: str, challenge: str) -> None:
        super().__init__("a second factor is required", public_id=public_id)
        self.public_id = public_id
        self.challenge = challenge


class WeakPassword(InvalidInput):
    """Shorter than the minimum or on the common-password list (bad input, hence InvalidInput)."""

    code = "weak_password"


@dataclass(frozen=True, slots=True)
class OperatorContact:
    """An enabled operator who can be told things in chat: their language and bound identities.

    ``operator_id`` is the account's internal id (what a ``StaffMember`` recipient names);
    ``identities`` are ``(channel, channel user id)`` pairs, oldest binding first.
    """

    operator_id: int
    role: OperatorRole
    merchant_id: int | None
    language: str
    identities: tuple[tuple[str, str], ...]
