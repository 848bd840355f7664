"""One person, several channels: linking a channel account to the customer who proved the same phone.

When a shopper who already has an account (say on WeChat) verifies the same mobile number from
another channel (say Telegram), the new channel account joins the existing customer: its identities,
addresses, orders, after-sales cases, tickets and cart move over, so orders placed on either channel
are visible on both. The emptied record is closed, and the move is written to the audit log.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from commerce_core.after_sales.model import AfterSalesCase
from commerce_core.cart.model import CartLine
from commerce_core.customers.model import Address, ChannelIdentity, Customer
from commerce_core.errors import InvalidInput, NotFound
from commerce_core.events import AccountLinked
from commerce_core.orders.model import Order
from commerce_core.reviews.model import ProductReview
from commerce_core.support.model import AuditEntry, Ticket
from commerce_core.uow import Units


async def merge_customers(units: Units, source_id: int, target_id: int, *, actor: str) -> None:
    """Move everything of ``source_id`` to ``target_id`` and close ``source_id``."""
    if source_id == target_id:
        raise InvalidInput("a customer cannot be merged into itself", code="same_customer")
    async with units.orm() as uow:
        s = uow.session
        # lock both in primary-key order, like every other multi-row lock in the core
        customers = {
            c.id: c
            for c in (
                await s.scalars(
                    select(Customer)
                    .where(Customer.id.in_([source_id, target_id]))
                    .order_by(Customer.id)
                    .with_for_update()
                )
            ).all()
        }
        source, target = customers.get(source_id), customers.get(target_id)
        if source is None or target is None or source.erased_at or target.erased_at:
            raise NotFound("no such customer", code="customer_not_found")
        target_skus = set(
            (await s.scalars(select(CartLine.sku_id).where(CartLine.customer_id == target_id))).all()
        )
        if target_skus:  # the target's own cart lines win over duplicates
            await s.execute(
                delete(CartLine).where(CartLine.customer_id == source_id, CartLine.sku_id.in_(target_skus))
            )
        reviewed = select(ProductReview.product_id).where(ProductReview.customer_id == target_id)
        await s.execute(  # one review per person and product: the target's own wins over a duplicate
            delete(ProductReview).where(
                ProductReview.customer_id == source_id, ProductReview.product_id.in_(reviewed)
            )
        )
        joined = (
            await s.execute(
                select(ChannelIdentity.channel, ChannelIdentity.external_id).where(
                    ChannelIdentity.customer_id == source_id
                )
            )
        ).all()
        for model in (ChannelIdentity, Address, Order, AfterSalesCase, Ticket, CartLine, ProductReview):
            await s.execute(update(model).where(model.customer_id == source_id).values(customer_id=target_id))
        await s.execute(update(Address).where(Address.customer_id == target_id).values(is_default=False))
        now = uow.now()
        source.phone_enc = source.display_name_enc = source.phone_index = None
        source.phone_verified_at = None
        source.erased_at = now
        s.add(
            AuditEntry(
                actor=actor,
                action="customer_merged",
                target_type="customer",
                target_id=target.public_id,
                details={"from": source.public_id},
                at=now,
            )
        )
        uow.emit(AccountLinked(target_id, [f"{channel}:{external}" for channel, external in joined]))
        await uow.commit()
