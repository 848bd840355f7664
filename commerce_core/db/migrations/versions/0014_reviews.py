"""reviews: the product_reviews table (R5.3-1)

Why: shoppers rate what they received (1-5 and a comment); product cards show the average and recent
comments; comments the automated checks flag wait for staff (status ``held``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = commerce_core.db.base.BigId
    op.create_table(
        "product_reviews",
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("product_id", big, nullable=False),
        sa.Column("customer_id", big, nullable=False),
        sa.Column("order_id", big, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("findings", commerce_core.db.base.PortableJSON, nullable=False),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", commerce_core.db.base.UTCDateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_reviews_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_product_reviews_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_product_reviews_order_id_orders"), ondelete="CASCADE"
        ),
        sa.UniqueConstraint(
            "product_id", "customer_id", name=op.f("uq_product_reviews_product_id_customer_id")
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_product_reviews_review_rating_range")),
    )
    op.create_index("ix_product_reviews_customer_id", "product_reviews", ["customer_id"])
    op.create_index("ix_product_reviews_status", "product_reviews", ["status"])
    op.create_index("ix_product_reviews_product_status", "product_reviews", ["product_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_product_reviews_product_status", table_name="product_reviews")
    op.drop_index("ix_product_reviews_status", table_name="product_reviews")
    op.drop_index("ix_product_reviews_customer_id", table_name="product_reviews")
    op.drop_table("product_reviews")
