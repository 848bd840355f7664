"""Applying as a merchant in the back office (R4.2-1/2): the form with its files, the decision, the
resubmission after a rejection, then the contract and activation.

Who sees what is the core's decision: ``commerce.onboarding`` answers NotFound to anyone who is not a
reviewer or the applicant (the guard turns it into the ordinary 404 page), so a file of one
applicant is never served to another. Files are checked by the file store (type from the bytes,
size) before the application refers to them; a refused file leaves the form filled in, with the
reason, and nothing stored in the application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.backoffice.pages import field as text_field
from bot.backoffice.pages import flash, form, redirect, render, text, visit
from commerce_core.api import Commerce, DomainError, FileRef, FileStore, InvalidInput
from commerce_core.merchants.types import (
    ActivationForm,
    Applicant,
    ApplicationForm,
    ApplicationView,
    DocumentKind,
    Industry,
    MerchantStatus,
)

FORM_FIELDS = ("company_name", "legal_representative", "contact_name", "contact_phone", "contact_email")
ID_LIMIT = 16


async def _nothing() -> None:
    return None


@dataclass
class OnboardingDesk:
    """What the onboarding and review pages use: the core, the file store, and how to tell every
    process that what is on sale changed (bootstrap wires Redis in; tests may leave the default)."""

    commerce: Commerce
    files: FileStore
    catalogue_changed: Callable[[], Awaitable[Any]] = field(default=_nothing)


DESK: web.AppKey[OnboardingDesk] = web.AppKey("backoffice.onboarding", OnboardingDesk)


def desk(request: web.Request) -> OnboardingDesk:
    return request.app[DESK]


ONBOARDING_PROBLEMS = {
    "documents_missing": "onboarding.error.documents_missing",
    "file_too_large": "onboarding.error.file_too_large",
    "file_type_not_allowed": "onboarding.error.file_type",
    "file_empty": "onboarding.error.file_type",
    "invalid_email": "form.invalid_email",
    "invalid_phone": "onboarding.error.phone",
    "contract_not_accepted": "onboarding.error.contract",
    "invalid_payout": "onboarding.error.payout",
    "application_decided": "onboarding.error.decided",
}


def explain(request: web.Request, error: DomainError) -> str:
    """The visitor's-language reason for a refused form, naming the field when the core names one."""
    message = text(request, ONBOARDING_PROBLEMS.get(error.code, "form.invalid"))
    name = error.params.get("field")
    if isinstance(name, str) and error.code in {"required", "too_long", "documents_missing", "invalid_code"}:
        label = f"onboarding.field.{name}"
        message += f" ({text(request, label)})"
    return message


def _applicant(request: web.Request) -> Applicant:
    me = visit(request).me()
    return Applicant(language=visit(request).language, operator_id=me.public_id)


def _values(values: MultiDictProxy[Any] | None, current: ApplicationView | None) -> dict[str, Any]:
    """What the form shows: what was just typed, else the application on file, else blanks."""
    shown: dict[str, Any] = {name: "" for name in FORM_FIELDS}
    shown |= {"industry": Industry.GENERAL.value, "branded": False}
    if current is not None:
        shown |= {name: getattr(current, name) for name in FORM_FIELDS}
        shown |= {"industry": current.industry.value, "branded": current.branded}
    if values is not None:
        shown |= {name: text_field(values, name) for name in FORM_FIELDS}
        shown |= {"industry": text_field(values, "industry", 32), "branded": values.get("branded") == "yes"}
    return shown


def _page(
    request: web.Request,
    current: ApplicationView | None,
    *,
    values: MultiDictProxy[Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> web.Response:
    return render(
        request,
        "onboarding_apply.html",
        status=status,
        application=current,
        form=_values(values, current),
        industries=[i.value for i in Industry],
        kinds=[k.value for k in DocumentKind],
        editable=current is None or current.status in {MerchantStatus.APPLIED, MerchantStatus.REJECTED},
        error=error,
    )


async def apply_page(request: web.Request) -> web.StreamResponse:
    """My application: the form (new, pending or rejected), or the contract once approved."""
    current = await desk(request).commerce.onboarding.mine(_applicant(request))
    return _page(request, current)


async def _store(
    request: web.Request, values: MultiDictProxy[Any], keep: dict[str, str]
) -> dict[str, FileRef]:
    """Every uploaded file checked and stored; kinds not uploaded again keep the file on record."""
    documents = {kind: FileRef.parse(key) for kind, key in keep.items()}
    owner = f"applicant:{visit(request).me().public_id}"
    for kind in DocumentKind:
        upload = values.get(kind.value)
        if isinstance(upload, web.FileField):
            data = upload.file.read()
            if not data:
                continue
            stored = await desk(request).files.put(
                data, content_type=upload.content_type, owner=owner, kind="document"
            )
            documents[kind.value] = stored
    return documents


async def apply_submit(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    onboarding = desk(request).commerce.onboarding
    applicant = _applicant(request)
    current = await onboarding.mine(applicant)
    industry = text_field(values, "industry", 32)
    try:
        documents = await _store(request, values, dict(current.documents) if current else {})
        application = ApplicationForm(
            company_name=text_field(values, "company_name"),
            legal_representative=text_field(values, "legal_representative"),
            contact_name=text_field(values, "contact_name"),
            contact_phone=text_field(values, "contact_phone", 32),
            contact_email=text_field(values, "contact_email", 254),
            industry=Industry(industry) if industry in Industry.__members__.values() else Industry.GENERAL,
            branded=values.get("branded") == "yes",
        )
        await onboarding.submit(applicant, application, documents)
    except (InvalidInput, DomainError) as refused:
        return _page(request, current, values=values, error=explain(request, refused), status=400)
    flash(request, "onboarding.submitted")
    raise redirect(request, "onboarding.apply")


async def activate(request: web.Request) -> web.StreamResponse:
    """Accept the contract and give the activation details; the account becomes the shop's owner."""
    values = await form(request)
    onboarding = desk(request).commerce.onboarding
    current = await onboarding.mine(_applicant(request))
    if current is None:
        raise web.HTTPNotFound()
    details = ActivationForm(
        returns_address=text_field(values, "returns_address", 500),
        after_sales_policy=text_field(values, "after_sales_policy", 2000),
        payout_account_name=text_field(values, "payout_account_name", 100),
        payout_account_number=text_field(values, "payout_account_number", 64),
        accept_contract=values.get("accept") == "yes",
    )
    try:
        await onboarding.activate(current.public_id, details, visit(request).actor)
    except InvalidInput as refused:
        return _page(request, current, error=explain(request, refused), status=400)
    flash(request, "onboarding.activated")
    raise redirect(request, "merchant.orders")


async def document(request: web.Request) -> web.StreamResponse:
    """One file of an application, for a reviewer or the applicant (everyone else: 404)."""
    public_id = request.match_info["public_id"][:ID_LIMIT]
    kind = request.match_info["kind"][:40]
    ref = await desk(request).commerce.onboarding.document(public_id, kind, visit(request).actor)
    data, content_type = await desk(request).files.get(ref)
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{kind}"',
        },
    )
