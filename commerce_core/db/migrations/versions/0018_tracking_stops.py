"""tracking stops: a waybill service that stopped tracking a waybill is subscribed again once

Why: Kuaidi100 pushes status "abort" when it gives up on a waybill (no scans for 3 days, none new for
60); the first stop is subscribed again after the half hour Kuaidi100 asks for, the second is raised
to the merchant and staff as a tracking problem instead of looping.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("tracking_stops", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("resubscribe_at", commerce_core.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("resubscribe_at")
        batch.drop_column("tracking_stops")
