"""Operator accounts: creation, sign-in, lockout, second factor, logout everywhere, admin actions.

Why the core checks permissions too: every mutating call takes the :class:`Actor` who performs it and
refuses unless that actor may (admins manage users; everyone manages their own account; a merchant
owner adds staff to their own merchant; ``operator_id=None`` is the server itself: CLI, demo). A bug
in a web handler therefore cannot turn an agent into an admin. Each mutating call writes exactly one
audit row in the same transaction as the change.

Signing in is in ``signin``, the shared checks in ``base``; binding codes, the merchant console reads
and the audit queries live in sibling modules; this class is their single entry point.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.merchants.model import Merchant
from commerce_core.operators import bindings, console, credentials
from commerce_core.operators.audit import add_actor_audit, add_audit, read_audit
from commerce_core.operators.base import merchant_code_of, new_operator_id, operator_view, parse_role
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.permissions import allowed
from commerce_core.operators.signin import SignIn
from commerce_core.operators.types import (
    MERCHANT_ROLES,
    Action,
    Actor,
    AuditEntryView,
    AuditFilter,
    MerchantOrderView,
    MerchantProductView,
    OperatorContact,
    OperatorRole,
    OperatorView,
)
from commerce_core.validation import check_language, clean_text


class OperatorService(SignIn):
    """The operator accounts of the back office; ``Commerce.operators``."""

    # ----------------------------------------------------------------- accounts

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
    ) -> OperatorView:
        """A new account; merchant roles need an existing merchant, other roles must have none."""
        role = parse_role(role)
        address = credentials.normalise_email(email)
        credentials.check_password(password, address, self.policy)
        name = clean_text(display_name, "display_name", max_length=100, required=False)
        language = check_language(language)
        if (role in MERCHANT_ROLES) != bool(merchant_code):
            raise InvalidInput("merchant users need a merchant, others none", code="merchant_role_mismatch")
        password_hash = await credentials.hash_password(password, self.policy)
        async with self._units.orm() as uow:
            caller = await self._caller(uow, actor)
            merchant = None
            if merchant_code:
                merchant = await uow.session.scalar(select(Merchant).where(Merchant.code == merchant_code))
                if merchant is None:
                    raise NotFound("no such merchant", code="merchant_not_found")
            if not _may_create(caller.user, role, merchant.id if merchant else None):
                raise NotAllowed("may not create this account", code="forbidden")
            if await uow.session.scalar(select(OperatorUser.id).where(OperatorUser.email == address)):
                raise InvalidInput("e-mail already registered", code="email_taken")
            now = uow.now()
            user = OperatorUser(
                public_id=new_operator_id(),
                email=address,
                password_hash=password_hash,
                role=role.value,
                merchant_id=merchant.id if merchant else None,
                display_name=name,
                language=language,
                disabled=False,
                failed_attempts=0,
                totp_enabled=False,
                session_epoch=0,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(user)
            try:
                await uow.flush()
            except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won the race
                raise InvalidInput("e-mail already registered", code="email_taken") from exc
            self._audit(uow, caller, "user.created", user, detail=f"role={role.value}")
            await uow.commit()
            return operator_view(user, merchant.code if merchant else None)

    async def sign_up_applicant(
        self, email: str, password: str, display_name: str, language: str, ip: str | None
    ) -> OperatorView:
        """Self-service sign-up of someone who wants to apply as a merchant (no merchant yet)."""
        return await self.create(
            email,
            password,
            OperatorRole.APPLICANT,
            display_name=display_name,
            language=language,
            actor=Actor(operator_id=None, ip=ip),
        )

    async def list_users(
        self, *, role: OperatorRole | None = None, merchant_id: int | None = None
    ) -> list[OperatorView]:
        """Accounts by e-mail; ``merchant_id`` narrows to one merchant's users (a merchant owner's view)."""
        async with self._units.orm() as uow:
            query = select(OperatorUser, Merchant.code).outerjoin(
                Merchant, Merchant.id == OperatorUser.merchant_id
            )
            if role is not None:
                query = query.where(OperatorUser.role == parse_role(role).value)
            if merchant_id is not None:
                query = query.where(OperatorUser.merchant_id == merchant_id)
            rows = (await uow.session.execute(query.order_by(OperatorUser.email))).all()
            return [operator_view(user, code) for user, code in rows]

    # ----------------------------------------------------------------- admin and self-service

    async def disable(self, public_id: str, actor: Actor) -> None:
        """Refuse further logins and end every session of the account."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=False)
            if caller.user is not None and caller.user.id == user.id:
                raise NotAllowed("an admin cannot disable their own account", code="cannot_disable_self")
            user.disabled = True
            user.session_epoch += 1
            await self._done(uow, caller, "user.disabled", user)

    async def enable(self, public_id: str, actor: Actor) -> None:
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=False)
            user.disabled = False
            user.failed_attempts = 0
            user.locked_until = None
            await self._done(uow, caller, "user.enabled", user)

    async def reset_password(self, public_id: str, new_password: str, actor: Actor) -> None:
        """An admin sets a new password; the lock is lifted and every session ends."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=False)
            credentials.check_password(new_password, user.email, self.policy)
            user.password_hash = await credentials.hash_password(new_password, self.policy)
            user.failed_attempts = 0
            user.locked_until = None
            user.session_epoch += 1
            await self._done(uow, caller, "user.password_reset", user)

    async def change_password(self, public_id: str, old: str, new: str, actor: Actor) -> None:
        """The owner changes their password (the old one required); other sessions end (epoch + 1)."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, None, self_ok=True)
            matches, _ = await credentials.verify_password(user.password_hash, old or "", self.policy)
            if not matches:
                raise InvalidInput("the current password is wrong", code="wrong_password")
            credentials.check_password(new, user.email, self.policy)
            user.password_hash = await credentials.hash_password(new, self.policy)
            user.session_epoch += 1
            await self._done(uow, caller, "user.password_changed", user)

    async def end_sessions(self, public_id: str, actor: Actor) -> None:
        """Logout everywhere: every session issued before this call stops counting."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=True)
            user.session_epoch += 1
            await self._done(uow, caller, "user.sessions_ended", user)

    async def begin_totp(self, public_id: str, *, actor: Actor | None = None) -> tuple[str, str]:
        """A fresh secret and its ``otpauth://`` URI; live only after :meth:`confirm_totp`."""
        async with self._units.orm() as uow:
            who = actor or Actor(operator_id=public_id, ip=None)
            caller, user = await self._target(uow, who, public_id, None, self_ok=True)
            if user.totp_enabled:
                raise NotAllowed("a second factor is already set up", code="totp_already_enabled")
            secret = credentials.new_totp_secret()
            user.totp_secret_enc = self._cipher.encrypt(secret)
            await self._done(uow, caller, "user.totp_begun", user)
            return secret, credentials.provisioning_uri(secret, user.email, self.policy.totp_issuer)

    async def confirm_totp(self, public_id: str, code: str, actor: Actor) -> None:
        """Turn the second factor on once the user proves their app shows the right code."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, None, self_ok=True)
            if user.totp_enabled or user.totp_secret_enc is None:
                raise NotAllowed("no second factor is being set up", code="totp_not_pending")
            secret = self._cipher.decrypt(user.totp_secret_enc)
            step = credentials.totp_step(secret, code, uow.now(), None)
            if step is None:
                raise InvalidInput("wrong code", code="totp_code_invalid")
            user.totp_enabled = True
            user.totp_last_step = step
            await self._done(uow, caller, "user.totp_enabled", user)

    async def reset_totp(self, public_id: str, actor: Actor) -> None:
        """An admin removes a lost second factor; sessions end so the next login sets it up again."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=False)
            user.totp_enabled = False
            user.totp_secret_enc = None
            user.totp_last_step = None
            user.session_epoch += 1
            await self._done(uow, caller, "user.totp_reset", user)

    # ----------------------------------------------------------------- audit

    async def record(
        self,
        actor: Actor,
        action: str,
        object_type: str,
        object_id: str | None = None,
        detail: str | None = None,
    ) -> None:
        """An audit row for an action performed elsewhere (e.g. a logout at the web edge).

        Recording never refuses an actor (a disabled operator's logout is still written down); the
        e-mail is looked up when the actor exists."""
        action = clean_text(action, "action", max_length=64)
        object_type = clean_text(object_type, "object_type", max_length=32)
        async with self._units.orm() as uow:
            await add_actor_audit(
                uow, actor, action=action, object_type=object_type, object_id=object_id, detail=detail
            )
            await uow.commit()

    async def audit_log(
        self, filter: AuditFilter, *, limit: int = 100, offset: int = 0
    ) -> list[AuditEntryView]:
        async with self._units.orm() as uow:
            return await read_audit(uow.session, filter, limit=limit, offset=offset)

    async def rotate_encryption(self) -> int:
        """Re-encrypt every stored TOTP secret under the current first key (run with the customers'
        ``rotate_encryption`` before dropping an old key); returns how many were rewritten."""
        async with self._units.orm() as uow:
            users = await uow.session.scalars(
                select(OperatorUser).where(OperatorUser.totp_secret_enc.is_not(None)).with_for_update()
            )
            count = 0
            for user in users:
                assert user.totp_secret_enc is not None
                user.totp_secret_enc = self._cipher.rotate(user.totp_secret_enc)
                count += 1
            await uow.commit()
            return count

    # ----------------------------------------------------------------- chat identities

    async def issue_binding_code(self, public_id: str, actor: Actor) -> str:
        """A one-time code the operator sends to the bot from Telegram/WeChat to bind that identity."""
        async with self._units.orm() as uow:
            caller, user = await self._target(uow, actor, public_id, Action.MANAGE_USERS, self_ok=True)
            if not allowed(OperatorRole(user.role), Action.BIND_CHAT_IDENTITY):
                raise NotAllowed("this role has no chat identity", code="forbidden")
            code = await bindings.issue(uow, self._cipher, user, self.policy.binding_code_ttl)
            await self._done(uow, caller, "identity.code_issued", user)
            return code

    async def redeem_binding_code(self, channel: str, channel_user_id: str, code: str) -> OperatorView:
        """Bind the chat identity that sent ``code``; any wrong, used or expired code looks the same."""
        async with self._units.orm() as uow:
            user = await bindings.redeem(uow, self._cipher, channel, channel_user_id, code)
            if user is None or user.disabled:
                raise InvalidInput("binding code invalid", code="binding_code_invalid")
            add_audit(
                uow,
                actor_id=user.public_id,
                actor_email=user.email,
                action="identity.bound",
                object_type="operator",
                object_id=user.public_id,
                detail=f"{channel}:{channel_user_id}",
            )
            await uow.commit()
            return operator_view(user, await merchant_code_of(uow, user))

    async def operator_for_identity(self, channel: str, user_id: str) -> OperatorView | None:
        async with self._units.orm() as uow:
            user = await bindings.operator_for(uow, channel, user_id)
            if user is None or user.disabled:
                return None
            return operator_view(user, await merchant_code_of(uow, user))

    async def chat_contacts(
        self, *, merchant_id: int | None = None, operator_id: int | None = None, role: str | None = None
    ) -> list[OperatorContact]:
        """Who to push a merchant's or staff notification to (enabled operators with a bound identity).
        On a hot unit: every paid order's notifications ask this (issue 16)."""
        async with self._units.hot() as uow:
            return await bindings.contacts(uow, merchant_id=merchant_id, operator_id=operator_id, role=role)

    async def identities_of(self, public_id: str) -> list[tuple[str, str]]:
        async with self._units.orm() as uow:
            user = await self._user(uow, public_id)
            return await bindings.identities(uow, user.id)

    # ----------------------------------------------------------------- merchant console reads

    async def merchant_products(
        self, merchant_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[MerchantProductView]:
        async with self._units.orm() as uow:
            return await console.merchant_products(uow.session, merchant_id, limit=limit, offset=offset)

    async def merchant_product(self, merchant_id: int, code: str) -> MerchantProductView:
        async with self._units.orm() as uow:
            return await console.merchant_product(uow.session, merchant_id, code)

    async def merchant_order(self, merchant_id: int, number: str) -> MerchantOrderView:
        async with self._units.orm() as uow:
            return await console.merchant_order(uow.session, merchant_id, number)


def _may_create(creator: OperatorUser | None, role: OperatorRole, merchant_id: int | None) -> bool:
    """The server creates anyone; admins anyone; a merchant owner only staff of their own merchant."""
    if creator is None:
        return True
    creator_role = OperatorRole(creator.role)
    if allowed(creator_role, Action.MANAGE_USERS):
        return True
    return (
        allowed(creator_role, Action.MANAGE_OWN_MERCHANT)
        and role is OperatorRole.MERCHANT_STAFF
        and merchant_id is not None
        and merchant_id == creator.merchant_id
    )
