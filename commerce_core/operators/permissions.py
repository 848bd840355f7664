"""The one table of what each operator role may do.

Why one table: the back office, the staff group in Telegram and the core's own checks all ask
:func:`allowed`, so granting or withdrawing a permission is a one-line change reviewed in one place.
Merchant roles never get platform actions, and what they see is further scoped to their own merchant
by the console reads (another merchant's objects are "not found").
"""

from __future__ import annotations

from types import MappingProxyType

from commerce_core.errors import NotAllowed
from commerce_core.operators.types import Action, OperatorRole

_EVERY_ACCOUNT = frozenset({Action.MANAGE_OWN_ACCOUNT})
_CHAT = frozenset({Action.BIND_CHAT_IDENTITY})

PERMISSIONS: MappingProxyType[OperatorRole, frozenset[Action]] = MappingProxyType(
    {
        OperatorRole.ADMIN: _EVERY_ACCOUNT
        | _CHAT
        | {
            Action.VIEW_AUDIT,
            Action.MANAGE_USERS,
            Action.REVIEW_MERCHANTS,
            Action.REVIEW_LISTINGS,
            Action.HANDLE_CONVERSATIONS,
            Action.HANDLE_CASES,
            Action.VIEW_DASHBOARD,
            Action.HANDLE_ALERTS,
        },
        OperatorRole.AGENT: _EVERY_ACCOUNT
        | _CHAT
        | {Action.HANDLE_CONVERSATIONS, Action.HANDLE_CASES, Action.HANDLE_ALERTS},
        OperatorRole.REVIEWER: _EVERY_ACCOUNT | _CHAT | {Action.REVIEW_MERCHANTS, Action.REVIEW_LISTINGS},
        OperatorRole.MERCHANT_OWNER: _EVERY_ACCOUNT
        | _CHAT
        | {Action.VIEW_OWN_MERCHANT, Action.MANAGE_OWN_MERCHANT, Action.SHIP_OWN_ORDERS}
        | {Action.VIEW_DASHBOARD},
        # staff pack and ship parcels; they do not run the shop
        OperatorRole.MERCHANT_STAFF: _EVERY_ACCOUNT
        | _CHAT
        | {Action.VIEW_OWN_MERCHANT, Action.SHIP_OWN_ORDERS},
        OperatorRole.APPLICANT: _EVERY_ACCOUNT | {Action.APPLY_AS_MERCHANT},
    }
)


def allowed(role: OperatorRole, action: Action) -> bool:
    """Whether ``role`` may perform ``action`` (an unknown role may do nothing)."""
    return action in PERMISSIONS.get(role, frozenset())


def require(role: OperatorRole, action: Action) -> None:
    """Raise :class:`NotAllowed` (code ``forbidden``) unless ``role`` may perform ``action``."""
    if not allowed(role, action):
        raise NotAllowed(f"{role.value} may not {action.value}", code="forbidden", action=action.value)
