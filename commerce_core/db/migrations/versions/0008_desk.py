"""desk: what the after-sales desk records on a case

Why: staff and merchants now act on cases. An exchange records the variant wanted, a return records
the parcel the shopper sent back (and when it arrived) and the replacement shipped, the merchant
gives its returns address, a repair has a stage, a closed case a 1-5 rating, and an overdue case
remembers that the staff were alerted and the admins told so neither happens twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MOMENTS = ("return_received_at", "alerted_at", "escalated_at")


def upgrade() -> None:
    with op.batch_alter_table("after_sales_cases") as batch_op:
        batch_op.add_column(sa.Column("wanted_sku", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("return_carrier", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("return_tracking", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("replacement_tracking", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("returns_address", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("repair_stage", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        for name in _MOMENTS:
            batch_op.add_column(
                sa.Column(name, commerce_core.db.base.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    with op.batch_alter_table("after_sales_cases") as batch_op:
        for name in (
            *_MOMENTS,
            "rating",
            "repair_stage",
            "returns_address",
            "replacement_tracking",
            "return_tracking",
            "return_carrier",
            "wanted_sku",
        ):
            batch_op.drop_column(name)
