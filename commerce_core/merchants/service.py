"""Merchant accounts: registration (server side), status changes, and freezing (R4.2-3).

Freezing and unfreezing are staff actions (reviewers and admins), audited with the reason; the
listings keep their own status and every shopper-facing read filters frozen merchants out
(``commerce_core.merchants.visibility``), so unfreezing restores exactly what was on sale.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce_core.errors import NotAllowed, NotFound
from commerce_core.ids import MERCHANT_PREFIX, new_public_id
from commerce_core.merchants.model import MERCHANT_STATUS, Merchant
from commerce_core.merchants.types import MerchantStatus, MerchantSummary, MerchantView
from commerce_core.operators.audit import add_audit
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.permissions import allowed
from commerce_core.operators.types import Action, Actor, OperatorRole
from commerce_core.security import FieldCipher, normalise_phone
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import check_code, clean_text, localized


class MerchantService:
    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher

    async def register(
        self,
        code: str,
        name: dict[str, str],
        *,
        contact_email: str | None = None,
        contact_phone: str | None = None,
        status: MerchantStatus = MerchantStatus.APPLIED,
        actor: str = "system",
    ) -> MerchantView:
        check_code(code, "merchant")
        async with self._units.orm() as uow:
            merchant = Merchant(
                public_id=new_public_id(MERCHANT_PREFIX),
                code=code,
                name=localized(name, "name", max_length=100),
                status=status.value,
                contact_email=clean_text(contact_email, "email", max_length=254, required=False) or None,
                contact_phone_enc=self._cipher.encrypt(normalise_phone(contact_phone))
                if contact_phone
                else None,
                created_at=uow.now(),
            )
            uow.session.add(merchant)
            await uow.flush()
            uow.record_status("merchant", merchant.id, None, status.value, actor)
            await uow.commit()
            return MerchantView(
                merchant.id, merchant.public_id, code, merchant.name, merchant.status, merchant.contact_email
            )

    async def change_status(
        self, code: str, target: MerchantStatus, *, actor: str, reason: str | None = None
    ) -> MerchantView:
        async with self._units.orm() as uow:
            merchant = await uow.session.scalar(
                select(Merchant).where(Merchant.code == code).with_for_update()
            )
            if merchant is None:
                raise NotFound("no such merchant", code="merchant_not_found")
            current = MerchantStatus(merchant.status)
            MERCHANT_STATUS.check(current, target)
            merchant.status = target.value
            merchant.status_reason = reason
            uow.record_status("merchant", merchant.id, current.value, target.value, actor, reason)
            await uow.commit()
            return MerchantView(
                merchant.id,
                merchant.public_id,
                merchant.code,
                merchant.name,
                merchant.status,
                merchant.contact_email,
            )

    async def get(self, code: str) -> MerchantView:
        async with self._units.orm() as uow:
            m = await uow.session.scalar(select(Merchant).where(Merchant.code == code))
            if m is None:
                raise NotFound("no such merchant", code="merchant_not_found")
            return MerchantView(m.id, m.public_id, m.code, m.name, m.status, m.contact_email)

    async def freeze(self, code: str, reason: str, actor: Actor) -> MerchantView:
        """Take every listing of the merchant off sale at once (a reason is required)."""
        reason = clean_text(reason, "reason", max_length=500)
        return await self._staff_change(code, MerchantStatus.FROZEN, reason, actor, "merchant.frozen")

    async def unfreeze(self, code: str, reason: str, actor: Actor) -> MerchantView:
        """Put the merchant's listings back on sale (those that were live before the freeze)."""
        reason = clean_text(reason, "reason", max_length=500, required=False)
        return await self._staff_change(
            code, MerchantStatus.ACTIVE, reason or None, actor, "merchant.unfrozen"
        )

    async def list_merchants(self, actor: Actor, *, limit: int = 200) -> list[MerchantSummary]:
        """Every merchant with its status, for the staff page (reviewers and admins)."""
        async with self._units.orm() as uow:
            await _staff(uow, actor)
            rows = await uow.session.scalars(select(Merchant).order_by(Merchant.id).limit(limit))
            return [MerchantSummary(m.code, m.name, MerchantStatus(m.status), m.status_reason) for m in rows]

    async def _staff_change(
        self, code: str, target: MerchantStatus, reason: str | None, actor: Actor, action: str
    ) -> MerchantView:
        async with self._units.orm() as uow:
            staff = await _staff(uow, actor)
            merchant = await uow.session.scalar(
                select(Merchant).where(Merchant.code == code).with_for_update()
            )
            if merchant is None:
                raise NotFound("no such merchant", code="merchant_not_found")
            current = MerchantStatus(merchant.status)
            MERCHANT_STATUS.check(current, target)
            merchant.status = target.value
            merchant.status_reason = reason
            who = f"operator:{staff.public_id}" if staff else "system"
            uow.record_status("merchant", merchant.id, current.value, target.value, who, reason)
            add_audit(
                uow,
                actor_id=staff.public_id if staff else None,
                actor_email=staff.email if staff else None,
                action=action,
                object_type="merchant",
                object_id=merchant.code,
                ip=actor.ip,
                detail=reason,
            )
            await uow.commit()
            return MerchantView(
                merchant.id,
                merchant.public_id,
                merchant.code,
                merchant.name,
                merchant.status,
                merchant.contact_email,
            )


async def _staff(uow: UnitOfWork, actor: Actor) -> OperatorUser | None:
    """The reviewer or admin acting (None: the server itself); anyone else is refused."""
    if actor.operator_id is None:
        return None
    user = await uow.session.scalar(select(OperatorUser).where(OperatorUser.public_id == actor.operator_id))
    if user is None or user.disabled or not allowed(OperatorRole(user.role), Action.REVIEW_MERCHANTS):
        raise NotAllowed("reviewers and admins only", code="forbidden")
    return user
