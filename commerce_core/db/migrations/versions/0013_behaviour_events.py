"""analytics: the behaviour_events table (R6.2-1)

Why: what shoppers search for (and do not find), view, add to the cart and order, pseudonymous, for
the back-office dashboard; pruned by ``day`` after the retention period.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "behaviour_events",
        sa.Column("id", commerce_core.db.base.BigId, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", commerce_core.db.base.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("query", sa.Text(), nullable=True),
        sa.Column("filters", commerce_core.db.base.PortableJSON, nullable=True),
        sa.Column("results", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=True),
    )
    op.create_index("ix_behaviour_events_day_kind", "behaviour_events", ["day", "kind"])
    op.create_index("ix_behaviour_events_subject", "behaviour_events", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_behaviour_events_subject", table_name="behaviour_events")
    op.drop_index("ix_behaviour_events_day_kind", table_name="behaviour_events")
    op.drop_table("behaviour_events")
