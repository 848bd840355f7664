"""The anomaly rules (R3.4-2, R5.1-3, R4.1-6), each a reaction to one committed fact.

The edge calls one method per outbox event (payment failed, order placed, refund succeeded, account
linked). Each method reads the facts it needs from the domain's own tables (payment events, orders,
refunds, identities, bindings), compares them with its :class:`AlertThresholds` and raises an alert
through :func:`~commerce_core.alerts.store.raise_alert`, which stores each alert once per rule,
subject and window, however many processes or retries evaluate the same event.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)

from commerce_core.alerts import contacts, store
from commerce_core.alerts.types import AlertFilter, AlertRule, AlertThresholds, AlertView
from commerce_core.customers.model import ChannelIdentity, Customer
from commerce_core.customers.types import AddressInput
from commerce_core.merchants.model import Merchant, MerchantApplication
from commerce_core.money import CURRENCY_EXPONENTS
from commerce_core.operators.model import OperatorIdentity, OperatorUser
from commerce_core.operators.types import Actor
from commerce_core.orders.model import Order, OrderLine
from commerce_core.payments.model import Payment, PaymentEvent, Refund
from commerce_core.payments.types import RefundStatus
from commerce_core.security import FieldCipher
from commerce_core.uow import Units, Work

PLATFORM = "platform"
#: what the order rules read of an order and its buyer: columns, not entities (no ORM identity map)
_ORDER_AND_BUYER = select(
    Order.id,
    Order.number,
    Order.customer_id,
    Order.total,
    Order.currency,
    Order.address_enc,
    Customer.public_id.label("buyer"),
    Customer.erased_at.label("buyer_erased_at"),
    Customer.created_at.label("buyer_since"),
    Customer.phone_enc.label("buyer_phone_enc"),
    Customer.phone_verified_at.label("buyer_phone_verified_at"),
).join(Customer, Customer.id == Order.customer_id)
_ORDER_AND_BUYER_BY_NUMBER = _ORDER_AND_BUYER.where(Order.number == bindparam("b_number"))
# what the order's merchants show of its buyer, and its lines, in ONE read (every order runs it):
# the order and its buyer are the one numbered ``b_number``. Each row is (what, merchant id,
# merchant code, a contact phone (encrypted), an amount), ``what`` one of:
_LINE, _BOUND, _MERCHANT, _APPLICATION = 0, 1, 2, 3
_THE_ORDER = select(Order.id).where(Order.number == bindparam("b_number")).scalar_subquery()
_THE_BUYER = select(Order.customer_id).where(Order.number == bindparam("b_number")).scalar_subquery()
_ORDER_MERCHANTS = select(OrderLine.merchant_id).where(OrderLine.order_id == _THE_ORDER)
_BUYER_ACCOUNT = ChannelIdentity.customer_id == _THE_BUYER
_NOTHING = null()


def _what(kind: int) -> ColumnElement[int]:
    return literal_column(str(kind), Integer)


_ORDER_FACTS_UNION = union_all(
    # its lines: the items of each merchant
    select(
        _what(_LINE).label("what"),
        OrderLine.merchant_id.label("merchant_id"),
        _NOTHING.label("code"),
        _NOTHING.label("phone"),
        func.sum(OrderLine.quantity).label("amount"),
    )
    .where(OrderLine.order_id == _THE_ORDER)
    .group_by(OrderLine.merchant_id),
    # a chat account of the buyer is bound to one of the merchant's users
    select(_what(_BOUND), OperatorUser.merchant_id, _NOTHING, _NOTHING, _what(0))
    .join(OperatorIdentity, OperatorIdentity.operator_id == OperatorUser.id)
    .join(
        ChannelIdentity,
        (ChannelIdentity.channel == OperatorIdentity.channel)
        & (ChannelIdentity.external_id == OperatorIdentity.channel_user_id),
    )
    .where(_BUYER_ACCOUNT, OperatorUser.merchant_id.in_(_ORDER_MERCHANTS)),
    # the merchant's code and contact phone
    select(_what(_MERCHANT), Merchant.id, Merchant.code, Merchant.contact_phone_enc, _what(0)).where(
        Merchant.id.in_(_ORDER_MERCHANTS)
    ),
    # its applications: their contact phone, and 1 when applied from here (as this customer, or from
    # one of their chat accounts)
    select(
        _what(_APPLICATION),
        MerchantApplication.merchant_id,
        _NOTHING,
        MerchantApplication.contact_phone_enc,
        case(
            (
                or_(
                    MerchantApplication.customer_id == _THE_BUYER,
                    exists().where(
                        _BUYER_ACCOUNT,
                        ChannelIdentity.channel == MerchantApplication.channel,
                        ChannelIdentity.external_id == MerchantApplication.channel_user_id,
                    ),
                ),
                1,
            ),
            else_=0,
        ),
    ).where(MerchantApplication.merchant_id.in_(_ORDER_MERCHANTS)),
)


_FACTS = _ORDER_FACTS_UNION.subquery("facts")
#: the order and its buyer beside each of those rows (or beside NULLs when there is none), in ONE read:
#: the order's columns repeat on every row, the facts' columns are ``what`` .. ``amount``
_ORDER_AND_FACTS = _ORDER_AND_BUYER_BY_NUMBER.add_columns(*_FACTS.c).outerjoin(_FACTS, true())


#: failed payment events since ``b_since``: on the platform, and of the orders of ``b_customer`` (one
#: read, built once; every payment belongs to an order, so the join leaves the platform's count whole)
_FAILURES = (
    select(
        func.count(PaymentEvent.id),
        func.count(PaymentEvent.id).filter(Order.customer_id == bindparam("b_customer")),
    )
    .join(Payment, Payment.id == PaymentEvent.payment_id)
    .join(Order, Order.id == Payment.order_id)
    .where(PaymentEvent.kind == "failed", PaymentEvent.received_at >= bindparam("b_since"))
)


def split_channels(identities: list[tuple[str, str]], joined: list[str]) -> tuple[list[str], list[str]]:
    """(channels the account used before, channels new to it) after ``joined`` accounts were linked in
    (``joined`` names them as ``channel:external id``)."""
    before = sorted({channel for channel, user in identities if f"{channel}:{user}" not in joined})
    added = sorted({entry.split(":", 1)[0] for entry in joined} - set(before))
    return before, added


def _contact_rule(contact: contacts.Contact) -> AlertRule:
    return AlertRule.SHARED_PHONE if contact.kind == contacts.PHONE else AlertRule.SHARED_ADDRESS


def _contact_subject(contact: contacts.Contact) -> str:
    """The blind index (a keyed hash) names the subject, never the phone or address itself."""
    return f"{contact.kind}:{contact.digest[:24]}"


class AlertService:
    def __init__(self, units: Units, cipher: FieldCipher, thresholds: AlertThresholds | None = None) -> None:
        self._units = units
        self._cipher = cipher
        #: replaced by the edge from its settings (``SHOPBOT_ALERTS_*``)
        self.thresholds = thresholds or AlertThresholds()

    # -- reading and acknowledging ---------------------------------------------------------------
    async def find(
        self, wanted: AlertFilter | None = None, *, limit: int = 100, offset: int = 0
    ) -> list[AlertView]:
        return await store.list_alerts(self._units, wanted or AlertFilter(), limit=limit, offset=offset)

    async def get(self, public_id: str) -> AlertView:
        return await store.get_alert(self._units, public_id)

    async def acknowledge(self, public_id: str, actor: Actor, note: str | None = None) -> AlertView:
        return await store.acknowledge(self._units, public_id, actor, note)

    async def forget_customer(self, customer_id: int) -> int:
        """Erasure (R3.3-2): the customer's phone and address fingerprints go."""
        return await contacts.forget(self._units, customer_id)

    async def _customer_public_id(self, customer_id: int) -> str:
        async with self._units.orm() as uow:
            found = await uow.session.scalar(select(Customer.public_id).where(Customer.id == customer_id))
        return found or f"#{customer_id}"

    # -- (1) bursts of failed payments -----------------------------------------------------------
    async def payment_failed(self, order_number: str, customer_id: int) -> list[AlertView]:
        """N failures within the window for this shopper, and N' for the whole platform (R3.4-2)."""
        limits = self.thresholds
        window = timedelta(minutes=limits.payment_failure_window_minutes)
        since = self._units.clock.now() - window
        async with self._units.hot() as uow:
            counted = (await uow.execute(_FAILURES, {"b_since": since, "b_customer": customer_id})).first()
        platform, shopper = (int(count or 0) for count in counted or (0, 0))
        raised: list[AlertView | None] = []
        common = {"window_minutes": limits.payment_failure_window_minutes, "last_order": order_number}
        if shopper >= limits.payment_failures_per_shopper:
            customer = await self._customer_public_id(customer_id)
            details = {**common, "failures": shopper, "threshold": limits.payment_failures_per_shopper}
            raised.append(
                await store.raise_alert(
                    self._units,
                    AlertRule.PAYMENT_FAILURES_SHOPPER,
                    f"customer:{customer}",
                    {**details, "customer": customer},
                    window=window,
                )
            )
        if platform >= limits.payment_failures_platform:
            details = {**common, "failures": platform, "threshold": limits.payment_failures_platform}
            raised.append(
                await store.raise_alert(
                    self._units, AlertRule.PAYMENT_FAILURES_PLATFORM, PLATFORM, details, window=window
                )
            )
        return [alert for alert in raised if alert is not None]

    # -- (2), (3), (5a): what an order shows -----------------------------------------------------
    async def order_placed(self, order_number: str) -> list[AlertView]:
        """A large order (R3.4-2); new accounts sharing its phone or address, and the merchant buying
        from itself (R4.1-6). Runs for every order (issue 16: it was the outbox relay's largest
        cost after the recipients), so it reads the columns it needs, the order, its buyer, its lines
        and what its merchants show of the buyer in ONE statement; for a new account ONE more
        records the order's contact fingerprints and counts the accounts behind each contact on
        which no alert is open in the window (none is counted once a crowd was alerted on: the
        usual case); each alert raised writes once more."""
        limits = self.thresholds
        new_since = self._units.clock.now() - timedelta(days=limits.new_account_days)
        async with self._units.hot() as uow:  # prepared statements on PostgreSQL, built once above
            rows = (await uow.execute(_ORDER_AND_FACTS, {"b_number": order_number})).all()
            if not rows or rows[0].buyer_erased_at is not None:
                return []
            order = rows[0]
            facts = [row[-5:] for row in rows if row.what is not None]
            address = AddressInput.from_dict(self._cipher.decrypt_json(order.address_enc))
            phone, phone_verified = order.buyer_phone_enc, order.buyer_phone_verified_at
            verified = self._cipher.decrypt(phone) if phone and phone_verified else None
            insiders = self._insider_signals(facts, contacts.valid_phones(address.phone, verified))
            crowds: list[tuple[contacts.Contact, list[str]]] = []
            if order.buyer_since >= new_since:  # an older account never counts towards a shared contact
                crowds = await self._crowds(uow, order.customer_id, address, verified, new_since)
                await uow.commit()
        quantity = sum(int(count or 0) for what, _, _, _, count in facts if what == _LINE)
        raised = [await self._large_order(order, quantity, order.buyer)]
        raised += [await self._shared_contact(order.number, *crowd) for crowd in crowds]
        for code, signals in insiders:
            details = {
                "order": order.number,
                "merchant": code,
                "customer": order.buyer,
                "signals": signals,
            }
            subject = f"merchant:{code}:{order.number}"
            raised.append(await store.raise_alert(self._units, AlertRule.SELF_PURCHASE, subject, details))
        return [alert for alert in raised if alert is not None]

    async def _large_order(self, order: Any, quantity: int, customer: str) -> AlertView | None:
        """``order``: a row with the order's number, total and currency."""
        limits = self.thresholds
        exponent = CURRENCY_EXPONENTS.get(order.currency, 2)
        amount_limit = round(limits.large_order_amount * 10**exponent)
        reasons = [
            name
            for name, over in (
                ("amount", order.total >= amount_limit),
                ("quantity", quantity >= limits.large_order_quantity),
            )
            if over
        ]
        if not reasons:
            return None
        details = {
            "order": order.number,
            "customer": customer,
            "total": order.total,
            "currency": order.currency,
            "quantity": quantity,
            "reasons": reasons,
            "amount_threshold": amount_limit,
            "quantity_threshold": limits.large_order_quantity,
        }
        return await store.raise_alert(self._units, AlertRule.LARGE_ORDER, f"order:{order.number}", details)

    async def _crowds(
        self, uow: Work, customer_id: int, address: AddressInput, verified: str | None, since: datetime
    ) -> list[tuple[contacts.Contact, list[str]]]:
        """Record the order's fingerprints (in the caller's unit) and return each contact that has
        reached the threshold of new accounts with no alert on it in the window yet, with them.

        Cheap in the usual cases: one read for all the contacts, where one already alerted on is not
        counted and the others are counted with a limit (a crowd of thousands is not read whole
        unless it is to be alerted on)."""
        limits = self.thresholds
        found = contacts.contacts_of(self._cipher, address, verified)
        watched = [(c, _contact_rule(c).value, _contact_subject(c)) for c in found]
        now = uow.now()
        alerted_since = now - timedelta(days=limits.new_account_days)
        threshold = limits.accounts_per_contact
        reached = await contacts.record_and_reach(
            uow, customer_id, watched, now, since, alerted_since, threshold
        )
        return [(c, await contacts.new_accounts_sharing(uow, c, since)) for c in reached]

    async def _shared_contact(
        self, order_number: str, contact: contacts.Contact, accounts: list[str]
    ) -> AlertView | None:
        limits = self.thresholds
        details = {
            "masked": contact.masked,
            "accounts": len(accounts),
            "customers": accounts[:20],
            "threshold": limits.accounts_per_contact,
            "new_account_days": limits.new_account_days,
            "last_order": order_number,
        }
        rule, subject = _contact_rule(contact), _contact_subject(contact)
        window = timedelta(days=limits.new_account_days)
        return await store.raise_alert(self._units, rule, subject, details, window=window)

    def _insider_signals(self, facts: Sequence[Any], buyer_phones: set[str]) -> list[tuple[str, list[str]]]:
        """(merchant code, signals) for each merchant of the order whose own people the buyer looks
        like: an identity one of its users bound, the phone it gave as contact, or the chat account it
        applied from (R4.1-6: 刷单). ``facts``: the rows of ``_ORDER_FACTS_UNION``."""
        signals: dict[int, set[str]] = {}
        codes: dict[int, str] = {}
        for what, merchant_id, code, phone, number in facts:
            if what == _BOUND and merchant_id is not None:
                signals.setdefault(merchant_id, set()).add("bound_identity")
            elif what == _MERCHANT:
                codes[merchant_id] = code
                if phone and self._same_phone(phone, buyer_phones):
                    signals.setdefault(merchant_id, set()).add("contact_phone")
            elif what == _APPLICATION:
                if number:
                    signals.setdefault(merchant_id, set()).add("applicant")
                if self._same_phone(phone, buyer_phones):
                    signals.setdefault(merchant_id, set()).add("contact_phone")
        return [(codes.get(m, f"#{m}"), sorted(found)) for m, found in sorted(signals.items())]

    def _same_phone(self, encrypted: str, phones: set[str]) -> bool:
        try:
            contact = self._cipher.decrypt(encrypted)
        except ValueError:  # unreadable (a retired key): no match rather than a failed event
            return False
        return bool(contacts.valid_phones(contact) & phones)

    # -- (5b) pay-then-refund loops --------------------------------------------------------------
    async def refund_succeeded(self, order_number: str, customer_id: int) -> list[AlertView]:
        """K of one shopper's paid orders refunded within the window (R4.1-6)."""
        limits = self.thresholds
        window = timedelta(hours=limits.refund_loop_window_hours)
        since = self._units.clock.now() - window
        async with self._units.orm() as uow:
            orders = sorted(
                (
                    await uow.session.scalars(
                        select(Order.number)
                        .distinct()
                        .join(Refund, Refund.order_id == Order.id)
                        .where(
                            Order.customer_id == customer_id,
                            Order.paid_at.is_not(None),
                            Refund.status == RefundStatus.SUCCEEDED.value,
                            Refund.completed_at >= since,
                        )
                    )
                ).all()
            )
        if len(orders) < limits.refund_loop_orders:
            return []
        customer = await self._customer_public_id(customer_id)
        details = {
            "customer": customer,
            "orders": orders[:20],
            "count": len(orders),
            "threshold": limits.refund_loop_orders,
            "window_hours": limits.refund_loop_window_hours,
            "last_order": order_number,
        }
        alert = await store.raise_alert(
            self._units, AlertRule.REFUND_LOOP, f"customer:{customer}", details, window=window
        )
        return [alert] if alert is not None else []

    # -- (4) a channel identity linked in from a new channel -------------------------------------
    async def account_linked(self, customer_id: int, joined: list[str]) -> list[AlertView]:
        """Staff hear of an account that gained a channel it never used (R5.1-3); the shopper is told
        on their old channels by the edge's notification."""
        async with self._units.orm() as uow:
            identities = [
                (r[0], r[1])
                for r in (
                    await uow.session.execute(
                        select(ChannelIdentity.channel, ChannelIdentity.external_id).where(
                            ChannelIdentity.customer_id == customer_id
                        )
                    )
                ).all()
            ]
        before, added = split_channels(identities, joined)
        if not before or not added:
            return []  # a second device on a channel already used, or nothing left to protect
        customer = await self._customer_public_id(customer_id)
        details = {
            "customer": customer,
            "new_channels": added,
            "old_channels": before,
            "accounts": len(joined),
        }
        # the joined accounts' ids stay out of the subject: a keyed hash tells one linking from another
        linking = self._cipher.blind_index("alert-link:" + ",".join(sorted(joined)))[:16]
        subject = f"customer:{customer}:{linking}"
        alert = await store.raise_alert(self._units, AlertRule.NEW_CHANNEL_LINKED, subject, details)
        return [alert] if alert is not None else []
