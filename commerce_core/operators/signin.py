"""Signing in: password, lockout, the TOTP second factor, and the two-form variant of it.

Sign-in never tells an unknown e-mail from a wrong password or a disabled account (one
:class:`LoginRefused`; an unknown e-mail spends the same hashing time). Consecutive failures, wrong
second-factor codes included, lock the account for a while; a password alone never resets the count
when a second factor is due, so the code cannot be guessed by alternating. Every attempt is audited
without the password.
"""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import select

from commerce_core.errors import InvalidInput, NotFound
from commerce_core.operators import credentials
from commerce_core.operators.audit import add_audit
from commerce_core.operators.base import OperatorBase, merchant_code_of, operator_view
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.types import AccountLocked, LoginRefused, OperatorView, SecondFactorRequired
from commerce_core.uow import UnitOfWork

_CHALLENGE_PURPOSE = "second_factor"


class SignIn(OperatorBase):
    """The sign-in half of :class:`~commerce_core.operators.service.OperatorService`."""

    async def active_session(self, public_id: str, epoch: int) -> OperatorView | None:
        """The operator behind a session issued under ``epoch``, or None once it no longer counts.

        A session ends when the account is disabled or its epoch moved on (logout everywhere,
        password reset, second factor reset)."""
        try:
            view = await self.get(public_id)
        except NotFound:
            return None
        return None if view.disabled or view.session_epoch != epoch else view

    async def authenticate(
        self, email: str, password: str, *, totp_code: str | None, ip: str | None
    ) -> OperatorView:
        """Check e-mail + password (+ TOTP code when the account has one); lock after repeated failures."""
        try:
            address = credentials.normalise_email(email)
        except InvalidInput:
            address = None
        async with self._units.orm() as uow:
            user = None
            if address is not None:
                user = await uow.session.scalar(
                    select(OperatorUser).where(OperatorUser.email == address).with_for_update()
                )
            if user is None:
                await credentials.spend_verification_time(password or "", self.policy)
                add_audit(
                    uow,
                    actor_id=None,
                    actor_email=address,
                    action="login.failed",
                    object_type="operator",
                    ip=ip,
                    detail="unknown account",
                )
                await uow.commit()
                raise LoginRefused("login refused")
            await self._refuse_if_locked(uow, user, ip)
            matches, new_hash = await credentials.verify_password(
                user.password_hash, password or "", self.policy
            )
            if not matches:
                await self._failed(uow, user, ip, "wrong password")
            if user.disabled:
                self._login_audit(uow, user, "login.failed", ip, "account disabled")
                await uow.commit()
                raise LoginRefused("login refused")
            if new_hash:
                user.password_hash = new_hash
            if user.totp_enabled:
                if totp_code is None:
                    challenge = self._challenge(uow, user)
                    self._login_audit(uow, user, "login.second_factor_required", ip)
                    await uow.commit()
                    raise SecondFactorRequired(user.public_id, challenge)
                await self._check_totp(uow, user, totp_code, ip)
            return await self._succeeded(uow, user, ip)

    async def authenticate_second_factor(self, challenge: str, code: str, *, ip: str | None) -> OperatorView:
        """The second step of a two-form sign-in: the challenge from SecondFactorRequired + a TOTP code."""
        public_id, epoch = self._read_challenge(challenge)
        async with self._units.orm() as uow:
            user = await uow.session.scalar(
                select(OperatorUser).where(OperatorUser.public_id == public_id).with_for_update()
            )
            if user is None or user.session_epoch != epoch or not user.totp_enabled:
                raise LoginRefused("login refused")
            await self._refuse_if_locked(uow, user, ip)
            if user.disabled:
                self._login_audit(uow, user, "login.failed", ip, "account disabled")
                await uow.commit()
                raise LoginRefused("login refused")
            await self._check_totp(uow, user, code, ip)
            return await self._succeeded(uow, user, ip)

    async def _refuse_if_locked(self, uow: UnitOfWork, user: OperatorUser, ip: str | None) -> None:
        """While locked, no password is even checked; the attempt is audited and refused."""
        if user.locked_until is not None and user.locked_until > uow.now():
            until = user.locked_until
            self._login_audit(uow, user, "login.locked", ip, "attempt while locked")
            await uow.commit()
            raise AccountLocked(until)

    async def _failed(self, uow: UnitOfWork, user: OperatorUser, ip: str | None, reason: str) -> NoReturn:
        """Count a failure, lock on the last allowed one, commit the audit row, and raise."""
        user.failed_attempts += 1
        self._login_audit(uow, user, "login.failed", ip, reason)
        locked_until = None
        if user.failed_attempts >= self.policy.max_failures:
            locked_until = uow.now() + self.policy.lockout
            user.locked_until = locked_until
            user.failed_attempts = 0
            self._login_audit(uow, user, "login.locked", ip, f"until {locked_until.isoformat()}")
        await uow.commit()
        if locked_until is not None:
            raise AccountLocked(locked_until)
        raise LoginRefused("login refused")

    async def _check_totp(self, uow: UnitOfWork, user: OperatorUser, code: str, ip: str | None) -> None:
        assert user.totp_secret_enc is not None
        secret = self._cipher.decrypt(user.totp_secret_enc)
        step = credentials.totp_step(secret, code, uow.now(), user.totp_last_step)
        if step is None:
            await self._failed(uow, user, ip, "wrong second factor")
        user.totp_last_step = step

    async def _succeeded(self, uow: UnitOfWork, user: OperatorUser, ip: str | None) -> OperatorView:
        user.failed_attempts = 0
        user.locked_until = None
        user.last_login_at = uow.now()
        self._login_audit(uow, user, "login.succeeded", ip)
        await uow.commit()
        return operator_view(user, await merchant_code_of(uow, user))

    def _challenge(self, uow: UnitOfWork, user: OperatorUser) -> str:
        expires = uow.now() + self.policy.second_factor_ttl
        return self._cipher.encrypt_json(
            {
                "purpose": _CHALLENGE_PURPOSE,
                "operator": user.public_id,
                "epoch": user.session_epoch,
                "expires": expires.timestamp(),
            }
        )

    def _read_challenge(self, challenge: str) -> tuple[str, int]:
        try:
            data = self._cipher.decrypt_json(challenge or "")
            expired = float(data["expires"]) <= self._clock.now().timestamp()
            if data["purpose"] != _CHALLENGE_PURPOSE or expired:
                raise LoginRefused("second-factor challenge expired")
            return str(data["operator"]), int(data["epoch"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoginRefused("not a second-factor challenge") from exc
