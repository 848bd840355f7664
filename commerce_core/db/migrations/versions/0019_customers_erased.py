"""customers erased lately: a partial index on ``erased_at``

Why: behaviour events wait in a process's memory for up to a flush interval before they are written,
so an erasure can be followed by a late write of the erased shopper's events (from this or another
process). The job loop deletes the events of customers erased in the last minutes once more; this index
keeps that probe, run every few seconds, to the erased rows only.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_ERASED = "erased_at IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_customers_erased",
        "customers",
        ["erased_at"],
        unique=False,
        postgresql_where=sa.text(_ERASED),
        sqlite_where=sa.text(_ERASED),
    )


def downgrade() -> None:
    op.drop_index("ix_customers_erased", table_name="customers")
