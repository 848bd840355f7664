"""Merchants' vocabulary: statuses, the onboarding application and its review, and the merchant view.

Why a module of its own: enums, views and commands are what the rest of the core and the edges
share; keeping them apart from the ORM models and services lets anyone import them without
pulling in persistence (``commerce_core.api`` re-exports them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MerchantStatus(StrEnum):
    """A merchant's life (R4.2): applied -> approved (contract pending) -> active <-> frozen; a
    rejected application goes back to applied when the applicant resubmits it."""

    APPLIED = "applied"
    APPROVED = "approved"
    ACTIVE = "active"
    REJECTED = "rejected"
    FROZEN = "frozen"


class Industry(StrEnum):
    """What the shop sells, as far as permits go: special industries need an extra permit (R4.2-1)."""

    GENERAL = "general"
    FOOD = "food"
    COSMETICS = "cosmetics"
    DRUGS = "drugs"
    MEDICAL_DEVICES = "medical_devices"


class DocumentKind(StrEnum):
    """The files an application may carry; :func:`required_documents` says which it must."""

    BUSINESS_LICENCE = "business_licence"
    TAX_REGISTRATION = "tax_registration"
    BRAND_AUTHORISATION = "brand_authorisation"
    FOOD_PERMIT = "food_permit"
    COSMETICS_PERMIT = "cosmetics_permit"
    DRUG_PERMIT = "drug_permit"
    MEDICAL_DEVICE_PERMIT = "medical_device_permit"


#: the extra permit each special industry needs
INDUSTRY_PERMITS: dict[Industry, DocumentKind] = {
    Industry.FOOD: DocumentKind.FOOD_PERMIT,
    Industry.COSMETICS: DocumentKind.COSMETICS_PERMIT,
    Industry.DRUGS: DocumentKind.DRUG_PERMIT,
    Industry.MEDICAL_DEVICES: DocumentKind.MEDICAL_DEVICE_PERMIT,
}


def required_documents(industry: Industry, branded: bool) -> tuple[DocumentKind, ...]:
    """Licence and tax registration always; brand authorisation for branded goods; the industry's permit."""
    kinds = [DocumentKind.BUSINESS_LICENCE, DocumentKind.TAX_REGISTRATION]
    if branded:
        kinds.append(DocumentKind.BRAND_AUTHORISATION)
    if industry in INDUSTRY_PERMITS:
        kinds.append(INDUSTRY_PERMITS[industry])
    return tuple(kinds)


@dataclass(frozen=True, slots=True)
class MerchantView:
    id: int
    public_id: str
    code: str
    name: dict[str, str]
    status: str
    contact_email: str | None


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who applies and where to tell them: a back-office account, or a chat identity (channel, user)."""

    language: str
    operator_id: str | None = None
    channel: str | None = None
    channel_user_id: str | None = None
    #: the shopper account behind a chat applicant (the decision is pushed to it through the outbox)
    customer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ApplicationForm:
    """What an applicant fills in (the files travel separately, as stored file keys by kind)."""

    company_name: str
    legal_representative: str
    contact_name: str
    contact_phone: str
    contact_email: str
    industry: Industry = Industry.GENERAL
    branded: bool = False


@dataclass(frozen=True, slots=True)
class ActivationForm:
    """What an approved applicant gives when accepting the contract (payout details are encrypted)."""

    returns_address: str
    after_sales_policy: str
    payout_account_name: str
    payout_account_number: str
    accept_contract: bool


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application as the reviewer and its applicant see it (never the payout details)."""

    public_id: str
    merchant_code: str
    status: MerchantStatus
    company_name: str
    legal_representative: str
    contact_name: str
    contact_phone: str
    contact_email: str
    industry: Industry
    branded: bool
    documents: dict[str, str]  # kind -> stored file key
    language: str
    channel: str | None
    rejection_reasons: str | None
    suggestions: str | None
    submitted_at: datetime
    reviewed_at: datetime | None
    activated_at: datetime | None

    @property
    def missing_documents(self) -> tuple[DocumentKind, ...]:
        return tuple(
            k for k in required_documents(self.industry, self.branded) if k.value not in self.documents
        )


@dataclass(frozen=True, slots=True)
class MerchantSummary:
    """One merchant in the staff list (freeze/unfreeze)."""

    code: str
    name: dict[str, str]
    status: MerchantStatus
    status_reason: str | None
