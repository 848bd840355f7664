"""kuaidi100: waybills tracked through a tracking service (the express company, the last word heard)

Why: a merchant ships with an express company's waybill that Kuaidi100 tracks; its query needs the
company's code, and the fallback job asks about waybills that have had no push for a while.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("carrier_company", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("tracked_at", commerce_core.db.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("tracked_at")
        batch.drop_column("carrier_company")
