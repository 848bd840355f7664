"""fulfilment: shipments per merchant, and the simulated carrier's routes in the database

Why: an order with lines from two merchants is shipped by each of them separately, so a shipment
names the merchant whose part it carries (NULL for parcels shipped before this revision). The
simulated carrier kept its routes in memory, so parcels stopped moving after a restart or when
another process shipped them; ``carrier_routes`` keeps every planned scan with absolute times.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import commerce_core.db.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch_op:
        batch_op.add_column(
            sa.Column("merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.create_foreign_key(
            op.f("fk_shipments_merchant_id_merchants"), "merchants", ["merchant_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_shipments_merchant_id"), ["merchant_id"], unique=False)
    op.create_table(
        "carrier_routes",
        sa.Column("tracking_number", sa.String(length=64), nullable=False),
        sa.Column("carrier", sa.String(length=32), nullable=False),
        sa.Column(
            "steps",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tracking_number", name=op.f("pk_carrier_routes")),
    )


def downgrade() -> None:
    op.drop_table("carrier_routes")
    with op.batch_alter_table("shipments") as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_merchant_id"))
        batch_op.drop_constraint(op.f("fk_shipments_merchant_id_merchants"), type_="foreignkey")
        batch_op.drop_column("merchant_id")
