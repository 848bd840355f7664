"""listings: the listing review queue (new listings, new versions of live ones, reports, price flags)

Why: a live listing keeps selling while its edited version waits for a reviewer, so the version
cannot live on the product row; each review item keeps the automated checks' findings and the
decision (who, when, why).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import commerce_core.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "listing_reviews",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("content", JSON, nullable=True),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reporter", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_listing_reviews_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_reviews")),
    )
    op.create_index(op.f("ix_listing_reviews_product_id"), "listing_reviews", ["product_id"], unique=False)
    op.create_index(op.f("ix_listing_reviews_state"), "listing_reviews", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_listing_reviews_state"), table_name="listing_reviews")
    op.drop_index(op.f("ix_listing_reviews_product_id"), table_name="listing_reviews")
    op.drop_table("listing_reviews")
