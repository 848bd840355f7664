"""The shared half of the operator service: resolving who acts, on whom, and writing the audit row.

Why a base class: the sign-in steps (``signin``) and the account management (``service``) both need the
same checks (an actor must exist and be enabled; acting on another account needs a permission) and
the same read model; keeping them here means one definition of "who may act on this account".
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from commerce_core.clock import Clock
from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.ids import new_public_id, public_id_pattern
from commerce_core.merchants.model import Merchant
from commerce_core.operators.audit import add_audit
from commerce_core.operators.credentials import OperatorPolicy
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.permissions import allowed
from commerce_core.operators.types import Action, Actor, OperatorRole, OperatorView
from commerce_core.security import FieldCipher
from commerce_core.uow import UnitOfWork, Units

OPERATOR_PREFIX = "OP"
_OPERATOR_ID_RE = public_id_pattern(OPERATOR_PREFIX)


@dataclass(frozen=True, slots=True)
class _Caller:
    """The actor of a call, resolved: its account row (None for the server itself) and its IP."""

    user: OperatorUser | None
    ip: str | None

    @property
    def id(self) -> str | None:
        return self.user.public_id if self.user else None

    @property
    def email(self) -> str | None:
        return self.user.email if self.user else None


class OperatorBase:
    """State and checks shared by the sign-in steps and the account management."""

    def __init__(
        self, units: Units, cipher: FieldCipher, clock: Clock, policy: OperatorPolicy | None = None
    ) -> None:
        self._units = units
        self._cipher = cipher
        self._clock = clock
        self.policy = policy or OperatorPolicy()

    async def get(self, public_id: str) -> OperatorView:
        async with self._units.orm() as uow:
            user = await self._user(uow, public_id)
            return operator_view(user, await merchant_code_of(uow, user))

    async def _user(self, uow: UnitOfWork, public_id: str, *, lock: bool = False) -> OperatorUser:
        if not isinstance(public_id, str) or not _OPERATOR_ID_RE.fullmatch(public_id):
            raise NotFound("no such operator", code="operator_not_found")
        query = select(OperatorUser).where(OperatorUser.public_id == public_id)
        user = await uow.session.scalar(query.with_for_update() if lock else query)
        if user is None:
            raise NotFound("no such operator", code="operator_not_found")
        return user

    async def _caller(self, uow: UnitOfWork, actor: Actor) -> _Caller:
        """Resolve the actor; a named actor must exist and be enabled."""
        if actor.operator_id is None:
            return _Caller(None, actor.ip)
        try:
            user = await self._user(uow, actor.operator_id)
        except NotFound as exc:
            raise NotAllowed("unknown actor", code="forbidden") from exc
        if user.disabled:
            raise NotAllowed("disabled actor", code="forbidden")
        return _Caller(user, actor.ip)

    async def _target(
        self, uow: UnitOfWork, actor: Actor, public_id: str, action: Action | None, *, self_ok: bool
    ) -> tuple[_Caller, OperatorUser]:
        """The caller and the (locked) account it acts on, if the caller may: itself when ``self_ok``,
        anyone when its role allows ``action``, anything when it is the server itself."""
        caller = await self._caller(uow, actor)
        user = await self._user(uow, public_id, lock=True)
        if caller.user is None:
            return caller, user
        own = caller.user.id == user.id
        if own and self_ok:
            return caller, user
        if action is not None and allowed(OperatorRole(caller.user.role), action):
            return caller, user
        raise NotAllowed("may not act on this account", code="forbidden")

    async def _done(self, uow: UnitOfWork, caller: _Caller, action: str, user: OperatorUser) -> None:
        user.updated_at = uow.now()
        self._audit(uow, caller, action, user)
        await uow.commit()

    def _audit(
        self, uow: UnitOfWork, caller: _Caller, action: str, user: OperatorUser, *, detail: str | None = None
    ) -> None:
        add_audit(
            uow,
            actor_id=caller.id,
            actor_email=caller.email,
            action=action,
            object_type="operator",
            object_id=user.public_id,
            ip=caller.ip,
            detail=detail,
        )

    def _login_audit(
        self, uow: UnitOfWork, user: OperatorUser, action: str, ip: str | None, detail: str | None = None
    ) -> None:
        add_audit(
            uow,
            actor_id=user.public_id,
            actor_email=user.email,
            action=action,
            object_type="operator",
            object_id=user.public_id,
            ip=ip,
            detail=detail,
        )


def new_operator_id() -> str:
    return new_public_id(OPERATOR_PREFIX)


def parse_role(role: OperatorRole | str) -> OperatorRole:
    try:
        return OperatorRole(role)
    except ValueError as exc:
        raise InvalidInput("unknown role", code="invalid_role", role=str(role)) from exc


async def merchant_code_of(uow: UnitOfWork, user: OperatorUser) -> str | None:
    if user.merchant_id is None:
        return None
    return await uow.session.scalar(select(Merchant.code).where(Merchant.id == user.merchant_id))


def operator_view(user: OperatorUser, merchant_code: str | None) -> OperatorView:
    return OperatorView(
        public_id=user.public_id,
        email=user.email,
        role=OperatorRole(user.role),
        merchant_id=user.merchant_id,
        merchant_code=merchant_code,
        display_name=user.display_name,
        language=user.language,
        disabled=user.disabled,
        totp_enabled=user.totp_enabled,
        session_epoch=user.session_epoch,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
    )
