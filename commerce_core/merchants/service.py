"""Merchant accounts (the onboarding review flow plugs into MERCHANT_STATUS later)."""

from __future__ import annotations

from sqlalchemy import select

from commerce_core.errors import NotFound
from commerce_core.ids import MERCHANT_PREFIX, new_public_id
from commerce_core.merchants.model import MERCHANT_STATUS, Merchant
from commerce_core.merchants.types import MerchantStatus, MerchantView
from commerce_core.security import FieldCipher, normalise_phone
from commerce_core.uow import Units
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
