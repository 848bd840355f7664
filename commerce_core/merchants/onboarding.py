"""Merchant onboarding with review (R4.2-1/2): apply, review (approve, or reject with reasons and
suggestions), resubmit, accept the contract and activate.

Why the core decides who sees an application: the back office and the chat both ask through
:class:`OnboardingService`, which answers ``NotFound`` to anyone who is neither a reviewer (or admin)
nor the applicant, so a web handler cannot leak another applicant's licence by forgetting a check.
On activation the applicant's account becomes the owner of the new merchant (and may then get a
binding code for Telegram/WeChat like any merchant user). Every decision is audited and written to
the status history; payout details and the contact phone are encrypted like other PII.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

from sqlalchemy import select

from commerce_core.errors import InvalidInput, NotAllowed, NotFound
from commerce_core.events import MerchantApplicationReviewed
from commerce_core.files.types import FileRef
from commerce_core.ids import MERCHANT_PREFIX, new_public_id, public_id_pattern
from commerce_core.merchants.model import MERCHANT_STATUS, Merchant, MerchantApplication
from commerce_core.merchants.types import (
    ActivationForm,
    Applicant,
    ApplicationForm,
    ApplicationView,
    DocumentKind,
    Industry,
    MerchantStatus,
    required_documents,
)
from commerce_core.operators.audit import add_audit
from commerce_core.operators.credentials import normalise_email
from commerce_core.operators.model import OperatorUser
from commerce_core.operators.permissions import allowed
from commerce_core.operators.types import Action, Actor, OperatorRole
from commerce_core.security import FieldCipher, normalise_phone
from commerce_core.uow import UnitOfWork, Units
from commerce_core.validation import check_language, clean_text

APPLICATION_PREFIX = "MA"
_APPLICATION_RE = public_id_pattern(APPLICATION_PREFIX)
REASON_LIMIT = 1000


def _form(form: ApplicationForm) -> ApplicationForm:
    """The form with every field cleaned; bad input is refused with the field's name."""
    try:
        industry = Industry(form.industry)
    except ValueError as exc:
        raise InvalidInput("unknown industry", code="invalid_industry", field="industry") from exc
    return ApplicationForm(
        company_name=clean_text(form.company_name, "company_name", max_length=200),
        legal_representative=clean_text(form.legal_representative, "legal_representative", max_length=100),
        contact_name=clean_text(form.contact_name, "contact_name", max_length=100),
        contact_phone=normalise_phone(clean_text(form.contact_phone, "contact_phone", max_length=32)),
        contact_email=normalise_email(form.contact_email),
        industry=industry,
        branded=bool(form.branded),
    )


#: a document sent as a photo in a chat: the platform's file reference, kept as ``chat:<reference>``
#: (the reviewer sees it was sent in chat; the file store holds only files uploaded in the back office)
CHAT_DOCUMENT = "chat:"


def _documents(form: ApplicationForm, documents: Mapping[str, FileRef | str]) -> dict[str, str]:
    """Every required file present (and nothing unknown): kind -> stored file key, or ``chat:<ref>``
    for a photo sent in a chat."""
    known = {kind.value for kind in DocumentKind}
    unknown = sorted(set(documents) - known)
    if unknown:
        raise InvalidInput("unknown document kind", code="invalid_document", field=unknown[0])
    missing = [k.value for k in required_documents(form.industry, form.branded) if k.value not in documents]
    if missing:
        raise InvalidInput("documents missing", code="documents_missing", field=missing[0], missing=missing)
    return {
        kind: ref.key if isinstance(ref, FileRef) else CHAT_DOCUMENT + clean_text(ref, kind, max_length=300)
        for kind, ref in sorted(documents.items())
    }


def _view(app: MerchantApplication, merchant: Merchant, cipher: FieldCipher) -> ApplicationView:
    return ApplicationView(
        public_id=app.public_id,
        merchant_code=merchant.code,
        status=MerchantStatus(merchant.status),
        company_name=app.company_name,
        legal_representative=app.legal_representative,
        contact_name=app.contact_name,
        contact_phone=cipher.decrypt(app.contact_phone_enc),
        contact_email=app.contact_email,
        industry=Industry(app.industry),
        branded=app.branded,
        documents=dict(app.documents),
        language=app.language,
        channel=app.channel,
        rejection_reasons=app.rejection_reasons,
        suggestions=app.suggestions,
        submitted_at=app.submitted_at,
        reviewed_at=app.reviewed_at,
        activated_at=app.activated_at,
    )


class OnboardingService:
    """``Commerce.onboarding``: the application's whole life, scoped to reviewers and the applicant."""

    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher

    # ----------------------------------------------------------------- the applicant's side

    @staticmethod
    def check_field(name: str, value: str) -> str:
        """One text field of the form checked (and normalised) as :meth:`submit` will, so a chat can
        ask again at once; refusals are :class:`InvalidInput` naming the field."""
        sample = {
            "company_name": "x",
            "legal_representative": "x",
            "contact_name": "x",
            "contact_phone": "13800138000",
            "contact_email": "a@example.com",
        }
        if name not in sample:
            raise InvalidInput("unknown field", code="invalid_field", field=name)
        checked = _form(ApplicationForm(**(sample | {name: value})))  # type: ignore[arg-type]
        result: str = getattr(checked, name)
        return result

    async def submit(
        self, applicant: Applicant, form: ApplicationForm, documents: Mapping[str, FileRef | str]
    ) -> ApplicationView:
        """A new application, or the applicant's rejected (or still pending) one updated and back in
        the queue; an approved or active merchant cannot be re-applied for."""
        form = _form(form)
        files = _documents(form, documents)
        language = check_language(applicant.language)
        async with self._units.orm() as uow:
            operator = await self._applicant_operator(uow, applicant)
            found = await self._own(uow, applicant, operator, lock=True)
            now = uow.now()
            if found is None:
                merchant = Merchant(
                    public_id=new_public_id(MERCHANT_PREFIX),
                    code=f"m-{secrets.token_hex(5)}",
                    name={
                        "en": form.company_name,
                        "zh-Hans": form.company_name,
                        "zh-Hant": form.company_name,
                    },
                    status=MerchantStatus.APPLIED.value,
                    contact_email=form.contact_email,
                    contact_phone_enc=self._cipher.encrypt(form.contact_phone),
                    created_at=now,
                )
                uow.session.add(merchant)
                await uow.flush()
                app = MerchantApplication(
                    public_id=new_public_id(APPLICATION_PREFIX),
                    merchant_id=merchant.id,
                    applicant_operator_id=operator.id if operator else None,
                    channel=applicant.channel,
                    channel_user_id=applicant.channel_user_id,
                    customer_id=applicant.customer_id,
                    submitted_at=now,
                )
                uow.record_status(
                    "merchant", merchant.id, None, MerchantStatus.APPLIED.value, _who(applicant)
                )
            else:
                app, merchant = found
                current = MerchantStatus(merchant.status)
                if current is MerchantStatus.REJECTED:
                    MERCHANT_STATUS.check(current, MerchantStatus.APPLIED)
                    merchant.status = MerchantStatus.APPLIED.value
                    uow.record_status(
                        "merchant", merchant.id, current.value, merchant.status, _who(applicant)
                    )
                elif current is not MerchantStatus.APPLIED:
                    raise NotAllowed("the application is already decided", code="application_decided")
                merchant.name = {lang: form.company_name for lang in ("en", "zh-Hans", "zh-Hant")}
                merchant.contact_email = form.contact_email
                app.submitted_at = now
            app.language = language
            app.company_name = form.company_name
            app.legal_representative = form.legal_representative
            app.contact_name = form.contact_name
            app.contact_phone_enc = self._cipher.encrypt(form.contact_phone)
            app.contact_email = form.contact_email
            app.industry = form.industry.value
            app.branded = form.branded
            app.documents = files
            if found is None:
                uow.session.add(app)
                await uow.flush()
            self._audit(uow, operator, applicant, "application.submitted", app.public_id)
            await uow.commit()
            return _view(app, merchant, self._cipher)

    async def mine(self, applicant: Applicant) -> ApplicationView | None:
        """The applicant's own application (a back-office account's, or a chat identity's), if any."""
        async with self._units.orm() as uow:
            operator = await self._applicant_operator(uow, applicant)
            found = await self._own(uow, applicant, operator)
            return _view(*found, self._cipher) if found else None

    async def activate(self, public_id: str, form: ActivationForm, actor: Actor) -> ApplicationView:
        """Contract accepted: the merchant goes live and the applicant becomes its owner."""
        if not form.accept_contract:
            raise InvalidInput("the contract must be accepted", code="contract_not_accepted", field="accept")
        returns = clean_text(form.returns_address, "returns_address", max_length=500)
        policy = clean_text(form.after_sales_policy, "after_sales_policy", max_length=2000)
        payout_name = clean_text(form.payout_account_name, "payout_account_name", max_length=100)
        payout_number = clean_text(form.payout_account_number, "payout_account_number", max_length=64)
        if not payout_number.replace(" ", "").replace("-", "").isdigit():
            raise InvalidInput(
                "account number must be digits", code="invalid_payout", field="payout_account_number"
            )
        async with self._units.orm() as uow:
            operator = await self._operator(uow, actor)
            app, merchant = await self._load(uow, public_id, lock=True)
            if operator is None or app.applicant_operator_id != operator.id:
                raise NotFound("no such application", code="application_not_found")
            current = MerchantStatus(merchant.status)
            MERCHANT_STATUS.check(current, MerchantStatus.ACTIVE)
            app.returns_address = returns
            app.after_sales_policy = policy
            app.payout_enc = self._cipher.encrypt_json({"name": payout_name, "number": payout_number})
            app.activated_at = uow.now()
            merchant.status = MerchantStatus.ACTIVE.value
            merchant.status_reason = None
            operator.role = OperatorRole.MERCHANT_OWNER.value
            operator.merchant_id = merchant.id
            operator.updated_at = uow.now()
            uow.record_status(
                "merchant", merchant.id, current.value, merchant.status, f"operator:{operator.public_id}"
            )
            self._audit(uow, operator, None, "application.activated", app.public_id, ip=actor.ip)
            await uow.commit()
            return _view(app, merchant, self._cipher)

    # ----------------------------------------------------------------- the reviewer's side

    async def queue(self, actor: Actor, *, limit: int = 100) -> list[ApplicationView]:
        """Applications waiting for a decision, oldest first (reviewers and admins only)."""
        async with self._units.orm() as uow:
            await self._reviewer(uow, actor)
            rows = (
                await uow.session.execute(
                    select(MerchantApplication, Merchant)
                    .join(Merchant, Merchant.id == MerchantApplication.merchant_id)
                    .where(Merchant.status == MerchantStatus.APPLIED.value)
                    .order_by(MerchantApplication.submitted_at, MerchantApplication.id)
                    .limit(limit)
                )
            ).all()
            return [_view(app, merchant, self._cipher) for app, merchant in rows]

    async def get(self, public_id: str, actor: Actor) -> ApplicationView:
        """The application, for a reviewer or its own applicant; everyone else: ``NotFound``."""
        async with self._units.orm() as uow:
            app, merchant = await self._visible(uow, public_id, actor)
            return _view(app, merchant, self._cipher)

    async def document(self, public_id: str, kind: str, actor: Actor) -> FileRef:
        """The stored file of ``kind``, for a reviewer or the applicant only."""
        async with self._units.orm() as uow:
            app, _ = await self._visible(uow, public_id, actor)
            key = app.documents.get(kind) if isinstance(kind, str) else None
            if key is None or key.startswith(CHAT_DOCUMENT):  # a chat photo is not in the file store
                raise NotFound("no such file", code="file_not_found")
            return FileRef.parse(key)

    async def approve(self, public_id: str, actor: Actor) -> ApplicationView:
        return await self._decide(public_id, actor, MerchantStatus.APPROVED, None, None)

    async def reject(self, public_id: str, reasons: str, suggestions: str, actor: Actor) -> ApplicationView:
        reasons = clean_text(reasons, "reasons", max_length=REASON_LIMIT)
        suggestions = clean_text(suggestions, "suggestions", max_length=REASON_LIMIT, required=False)
        return await self._decide(public_id, actor, MerchantStatus.REJECTED, reasons, suggestions or None)

    async def _decide(
        self,
        public_id: str,
        actor: Actor,
        target: MerchantStatus,
        reasons: str | None,
        suggestions: str | None,
    ) -> ApplicationView:
        async with self._units.orm() as uow:
            reviewer = await self._reviewer(uow, actor)
            app, merchant = await self._load(uow, public_id, lock=True)
            current = MerchantStatus(merchant.status)
            MERCHANT_STATUS.check(current, target)
            merchant.status = target.value
            merchant.status_reason = reasons
            app.rejection_reasons = reasons
            app.suggestions = suggestions
            app.reviewed_at = uow.now()
            who = f"operator:{reviewer.public_id}" if reviewer else "system"
            uow.record_status("merchant", merchant.id, current.value, target.value, who, reasons)
            self._audit(
                uow, reviewer, None, f"application.{target.value}", app.public_id, ip=actor.ip, detail=reasons
            )
            view = _view(app, merchant, self._cipher)
            uow.emit(
                MerchantApplicationReviewed(
                    app.public_id, target.value, app.language, app.customer_id, reasons, suggestions
                )
            )
            await uow.commit()
            return view

    # ----------------------------------------------------------------- helpers

    async def _operator(self, uow: UnitOfWork, actor: Actor) -> OperatorUser | None:
        if actor.operator_id is None:
            return None
        user = await uow.session.scalar(
            select(OperatorUser).where(OperatorUser.public_id == actor.operator_id)
        )
        if user is None or user.disabled:
            raise NotAllowed("unknown actor", code="forbidden")
        return user

    async def _reviewer(self, uow: UnitOfWork, actor: Actor) -> OperatorUser | None:
        user = await self._operator(uow, actor)
        if user is not None and not allowed(OperatorRole(user.role), Action.REVIEW_MERCHANTS):
            raise NotAllowed("reviewers only", code="forbidden")
        return user

    async def _applicant_operator(self, uow: UnitOfWork, applicant: Applicant) -> OperatorUser | None:
        if applicant.operator_id is None:
            if not applicant.channel or not applicant.channel_user_id:
                raise InvalidInput(
                    "an applicant needs an account or a chat identity", code="applicant_unknown"
                )
            return None
        user = await self._operator(uow, Actor(applicant.operator_id, None))
        assert user is not None
        if not allowed(OperatorRole(user.role), Action.APPLY_AS_MERCHANT):
            raise NotAllowed("only applicants apply", code="forbidden")
        return user

    async def _own(
        self, uow: UnitOfWork, applicant: Applicant, operator: OperatorUser | None, *, lock: bool = False
    ) -> tuple[MerchantApplication, Merchant] | None:
        query = select(MerchantApplication, Merchant).join(
            Merchant, Merchant.id == MerchantApplication.merchant_id
        )
        if operator is not None:
            query = query.where(MerchantApplication.applicant_operator_id == operator.id)
        else:
            query = query.where(
                MerchantApplication.channel == applicant.channel,
                MerchantApplication.channel_user_id == applicant.channel_user_id,
            )
        row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
        return (row[0], row[1]) if row else None

    async def _load(
        self, uow: UnitOfWork, public_id: str, *, lock: bool = False
    ) -> tuple[MerchantApplication, Merchant]:
        if not isinstance(public_id, str) or not _APPLICATION_RE.fullmatch(public_id):
            raise NotFound("no such application", code="application_not_found")
        query = (
            select(MerchantApplication, Merchant)
            .join(Merchant, Merchant.id == MerchantApplication.merchant_id)
            .where(MerchantApplication.public_id == public_id)
        )
        row = (await uow.session.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise NotFound("no such application", code="application_not_found")
        return row[0], row[1]

    async def _visible(
        self, uow: UnitOfWork, public_id: str, actor: Actor
    ) -> tuple[MerchantApplication, Merchant]:
        operator = await self._operator(uow, actor)
        app, merchant = await self._load(uow, public_id)
        if operator is None or allowed(OperatorRole(operator.role), Action.REVIEW_MERCHANTS):
            return app, merchant
        if app.applicant_operator_id == operator.id:
            return app, merchant
        raise NotFound("no such application", code="application_not_found")

    @staticmethod
    def _audit(
        uow: UnitOfWork,
        operator: OperatorUser | None,
        applicant: Applicant | None,
        action: str,
        object_id: str,
        *,
        ip: str | None = None,
        detail: str | None = None,
    ) -> None:
        add_audit(
            uow,
            actor_id=operator.public_id if operator else None,
            actor_email=operator.email if operator else None,
            action=action,
            object_type="merchant_application",
            object_id=object_id,
            ip=ip,
            detail=detail
            if detail is not None
            else (f"{applicant.channel}" if applicant and applicant.channel else None),
        )


def _who(applicant: Applicant) -> str:
    if applicant.operator_id:
        return f"operator:{applicant.operator_id}"
    return f"{applicant.channel}:{applicant.channel_user_id}"
