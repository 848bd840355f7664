"""Data-subject rights (PIPL arts. 45/47, GDPR arts. 15/17; R6.3-1): a copy of my data, and erasure.

Erasure removes what identifies the person (channel identities, name, phone, saved addresses, cart)
and redacts delivery addresses on past orders to the city; the order records themselves stay, as
commercial and tax law require keeping transaction records.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update

from commerce_core.after_sales.model import AfterSalesCase
from commerce_core.analytics.model import BehaviourEvent
from commerce_core.analytics.service import customer_subject, events_of
from commerce_core.cart.model import CartLine
from commerce_core.customers.model import Address, ChannelIdentity, Customer
from commerce_core.errors import NotFound
from commerce_core.events import CustomerErased
from commerce_core.orders.model import Order, OrderLine
from commerce_core.questions.model import ProductQuestion
from commerce_core.reviews.model import ProductReview
from commerce_core.security import FieldCipher
from commerce_core.support.model import AuditEntry, StaffTopic, Ticket, TicketMessage
from commerce_core.uow import Units


class PrivacyService:
    def __init__(self, units: Units, cipher: FieldCipher) -> None:
        self._units = units
        self._cipher = cipher

    async def export(self, customer_id: int) -> dict[str, Any]:
        """Everything we hold about the customer, decrypted, as JSON-ready data."""
        async with self._units.orm() as uow:
            s = uow.session
            customer = await s.scalar(select(Customer).where(Customer.id == customer_id))
            if customer is None or customer.erased_at is not None:
                raise NotFound("no such customer", code="customer_not_found")
            identities = (
                await s.scalars(select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id))
            ).all()
            addresses = (await s.scalars(select(Address).where(Address.customer_id == customer_id))).all()
            orders = (
                await s.scalars(select(Order).where(Order.customer_id == customer_id).order_by(Order.id))
            ).all()
            cases = (
                await s.scalars(select(AfterSalesCase).where(AfterSalesCase.customer_id == customer_id))
            ).all()
            tickets = (await s.scalars(select(Ticket).where(Ticket.customer_id == customer_id))).all()
            export_orders = []
            for order in orders:
                lines = (await s.scalars(select(OrderLine).where(OrderLine.order_id == order.id))).all()
                export_orders.append(
                    {
                        "number": order.number,
                        "status": order.status,
                        "total": order.total,
                        "currency": order.currency,
                        "created_at": order.created_at.isoformat(),
                        "address": self._cipher.decrypt_json(order.address_enc),
                        "lines": [
                            {
                                "sku": li.sku_code,
                                "name": li.product_name,
                                "quantity": li.quantity,
                                "unit_price": li.unit_price,
                            }
                            for li in lines
                        ],
                    }
                )
            return {
                "customer": {
                    "id": customer.public_id,
                    "language": customer.language,
                    "created_at": customer.created_at.isoformat(),
                    "name": self._cipher.decrypt(customer.display_name_enc)
                    if customer.display_name_enc
                    else None,
                    "phone": self._cipher.decrypt(customer.phone_enc) if customer.phone_enc else None,
                    "phone_verified": customer.phone_verified_at is not None,
                },
                "channel_accounts": [{"channel": i.channel, "id": i.external_id} for i in identities],
                "addresses": [self._cipher.decrypt_json(a.payload_enc) for a in addresses],
                "orders": export_orders,
                "after_sales_cases": [
                    {"number": c.number, "kind": c.kind, "status": c.status, "reason": c.reason_text}
                    for c in cases
                ],
                "support_tickets": [
                    {"number": t.number, "status": t.status, "reason": t.reason} for t in tickets
                ],
                "behaviour_events": await events_of(s, customer_subject(self._cipher, customer_id)),
                "product_reviews": [  # R5.3-1: what they wrote about products
                    {"rating": r.rating, "comment": r.comment, "status": r.status}
                    for r in (
                        await s.scalars(select(ProductReview).where(ProductReview.customer_id == customer_id))
                    ).all()
                ],
                "product_questions": [  # R4.1-4: what they asked sellers, and the answers
                    {"question": q.text, "answer": q.answer, "status": q.status}
                    for q in (
                        await s.scalars(
                            select(ProductQuestion).where(ProductQuestion.customer_id == customer_id)
                        )
                    ).all()
                ],
            }

    async def erase(self, customer_id: int, *, actor: str) -> None:
        async with self._units.orm() as uow:
            s = uow.session
            customer = await s.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
            if customer is None or customer.erased_at is not None:
                raise NotFound("no such customer", code="customer_not_found")
            now = uow.now()
            await s.execute(delete(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id))
            await s.execute(delete(Address).where(Address.customer_id == customer_id))
            await s.execute(delete(CartLine).where(CartLine.customer_id == customer_id))
            await s.execute(delete(TicketMessage).where(TicketMessage.customer_id == customer_id))
            # the staff group's topics of their conversations (a conversation key names their chat)
            their_conversations = select(Ticket.conversation_key).where(Ticket.customer_id == customer_id)
            await s.execute(delete(StaffTopic).where(StaffTopic.conversation_key.in_(their_conversations)))
            subject = customer_subject(self._cipher, customer_id)
            await s.execute(delete(BehaviourEvent).where(BehaviourEvent.subject == subject))
            await s.execute(delete(ProductQuestion).where(ProductQuestion.customer_id == customer_id))
            # their review comments are their words; the ratings stay (anonymous) in the average
            await s.execute(
                update(ProductReview).where(ProductReview.customer_id == customer_id).values(comment=None)
            )
            for order in (await s.scalars(select(Order).where(Order.customer_id == customer_id))).all():
                city = str(self._cipher.decrypt_json(order.address_enc).get("city", ""))
                order.address_enc = self._cipher.encrypt_json(
                    {
                        "recipient": "-",
                        "phone": "-",
                        "city": city,
                        "line": "-",
                        "region": "",
                        "district": "",
                        "postal_code": "",
                        "country": "",
                    }
                )
            await s.execute(
                update(AfterSalesCase)
                .where(AfterSalesCase.customer_id == customer_id)
                .values(reason_text=None, photos=[])
            )
            customer.display_name_enc = None
            customer.phone_enc = None
            customer.phone_index = None
            customer.phone_verified_at = None
            customer.erased_at = now
            s.add(
                AuditEntry(
                    actor=actor,
                    action="customer_erased",
                    target_type="customer",
                    target_id=customer.public_id,
                    details={},
                    at=now,
                )
            )
            uow.emit(CustomerErased(customer_id))
            await uow.commit()

    async def erase_late_events(self, within: timedelta) -> int:
        """Delete, once more, the behaviour events of customers erased in the last ``within``.

        Why: events wait in a process's memory for up to a flush interval before they are written (see
        :class:`~commerce_core.analytics.service.EventBuffer`), so a shopper's last turns before an
        erasure can be written just after it, by this process or another. The job loop calls this
        every few seconds with a window well past the flush interval. Returns the rows deleted."""
        async with self._units.orm() as uow:
            s = uow.session
            since = uow.now() - within
            erased = (
                await s.scalars(
                    select(Customer.id).where(Customer.erased_at.is_not(None), Customer.erased_at >= since)
                )
            ).all()
            if not erased:
                return 0
            subjects = [customer_subject(self._cipher, customer_id) for customer_id in erased]
            result = await s.execute(delete(BehaviourEvent).where(BehaviourEvent.subject.in_(subjects)))
            await uow.commit()
            return int(getattr(result, "rowcount", 0) or 0)
