"""Telegram Payments: the provider registered with commerce, pre-checkout checks, and payment capture.

Card data never reaches us: Telegram and the payment provider collect it; we get a pre-checkout query
(answered within Telegram's 10 s) and then a ``successful_payment`` message, which is applied
idempotently by its ``telegram_payment_charge_id``. Telegram Stars (XTR) invoices need no provider token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.channels.telegram.render import parse_invoice_payload
from commerce_core.api import (
    Commerce,
    Notification,
    NotificationKind,
    NotificationResult,
    PayableProblemKind,
    PaymentIntentRequest,
    PaymentRejected,
    ProviderPayment,
    ProviderRefund,
)
from dialogs.texts import Texts

log = logging.getLogger(__name__)
PROVIDER = "telegram"


class TelegramPaymentsProvider:
    """The invoice is sent by the channel when it renders the payment request; nothing to call here."""

    name = PROVIDER

    async def create_payment(self, request: PaymentIntentRequest) -> ProviderPayment:
        # the provider's charge id is only known after payment; capture fills it in
        return ProviderPayment(provider_ref="", pay_url=None, client_token=request.reference)

    def verify_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        raise PaymentRejected(
            "Telegram payments arrive as bot updates, not HTTP notifications", code="bad_signature"
        )

    async def refund(
        self, provider_ref: str, amount: int, currency: str, refund_reference: str
    ) -> ProviderRefund:
        # card refunds go through the payment provider's dashboard; Stars refunds need the payer's id
        return ProviderRefund("", succeeded=False, error="refund through the Telegram payment provider")

    async def query(self, provider_ref: str) -> NotificationKind | None:
        return None  # Telegram has no status query: the successful_payment update is the outcome


class TelegramPayments:
    def __init__(self, commerce: Commerce, texts: Texts) -> None:
        self.commerce = commerce
        self.texts = texts

    async def check(self, invoice_payload: str, currency: str, total_amount: int, lang: str) -> str | None:
        """None when the order can be paid now; otherwise the reason, in the shopper's language."""

        def t(key: str, **params: object) -> str:
            return self.texts.get(lang, f"telegram.precheckout.{key}", **params)

        _payment_id, number = parse_invoice_payload(invoice_payload)
        problem = await self.commerce.payments.check_payable(number, total_amount, currency)
        if problem is None:
            return None
        if problem.kind is PayableProblemKind.UNKNOWN_ORDER:
            return t("unknown")
        if problem.kind is PayableProblemKind.NOT_PAYABLE:
            status = self.texts.get(lang, f"status.{problem.order_status}")
            return t("not_payable", number=number, status=status)
        if problem.kind in (PayableProblemKind.UNAVAILABLE, PayableProblemKind.PRICE_CHANGED):
            return t(problem.kind.value, title=problem.title(lang))
        return t(problem.kind.value, number=number)  # expired, amount_changed

    async def capture(
        self,
        *,
        invoice_payload: str,
        telegram_charge_id: str,
        provider_charge_id: str,
        total_amount: int,
        currency: str,
    ) -> NotificationResult:
        payment_id, _number = parse_invoice_payload(invoice_payload)
        note = Notification(
            event_id=telegram_charge_id,
            kind="succeeded",
            reference=payment_id,
            provider_ref=provider_charge_id or telegram_charge_id,
            amount=total_amount,
            currency=currency,
        )
        return await self.commerce.payments.apply(PROVIDER, note)
