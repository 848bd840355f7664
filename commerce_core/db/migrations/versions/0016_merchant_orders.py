"""merchant orders: a merchant's cancelled part of an order; shoppers' questions for the seller

Why: a merchant may cancel a paid order's lines it cannot fill (R4.4): the shopper is refunded for
those lines, shipping stops waiting for that part, and the settlement statement counts the goods as
the merchant's refund. Shoppers' product questions the bot cannot answer go to the seller's users
(R4.1-4): product_questions.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = commerce_core.db.base.BigId
    op.create_table(
        "order_part_cancellations",
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("order_id", big, nullable=False),
        sa.Column("merchant_id", big, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("goods_amount", sa.Integer(), nullable=False),
        sa.Column("refund_amount", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_part_cancellations_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_order_part_cancellations_merchant_id_merchants")
        ),
        sa.UniqueConstraint(
            "order_id", "merchant_id", name=op.f("uq_order_part_cancellations_order_id_merchant_id")
        ),
    )
    op.create_index("ix_order_part_cancellations_order_id", "order_part_cancellations", ["order_id"])
    op.create_index("ix_order_part_cancellations_merchant_id", "order_part_cancellations", ["merchant_id"])
    op.create_table(
        "product_questions",
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("product_id", big, nullable=False),
        sa.Column("merchant_id", big, nullable=False),
        sa.Column("customer_id", big, nullable=True),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(), nullable=False),
        sa.Column("asked_at", commerce_core.db.base.UTCDateTime(), nullable=True),
        sa.Column("answered_at", commerce_core.db.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_questions_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_product_questions_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_product_questions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_product_questions_public_id")),
    )
    op.create_index("ix_product_questions_customer_id", "product_questions", ["customer_id"])
    op.create_index("ix_product_questions_merchant_status", "product_questions", ["merchant_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_product_questions_merchant_status", table_name="product_questions")
    op.drop_index("ix_product_questions_customer_id", table_name="product_questions")
    op.drop_table("product_questions")
    op.drop_index("ix_order_part_cancellations_merchant_id", table_name="order_part_cancellations")
    op.drop_index("ix_order_part_cancellations_order_id", table_name="order_part_cancellations")
    op.drop_table("order_part_cancellations")
