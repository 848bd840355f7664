"""outbox: park messages that keep failing, and index the queue each ordering key waits in

Why: a message whose delivery failed was retried forever, and with ordering keys a message retried
forever would hold back every later notification to the same shopper. ``parked_at`` takes such a
message (and one whose payload cannot be decoded) out of the queue, keeping it with its error for a
person to look at and requeue. The relay asks, for every candidate, whether an earlier message of its
key is still queued; the partial index holds only queued rows, so that probe stays small however
long the outbox history grows, and it replaces the full (ordering_key, id) index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_QUEUED = "sent_at IS NULL AND parked_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(
            sa.Column("parked_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_outbox_ordering")
    op.create_index(
        "ix_outbox_queued",
        "outbox",
        ["ordering_key", "id"],
        unique=False,
        postgresql_where=sa.text(_QUEUED),
        sqlite_where=sa.text(_QUEUED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_queued", table_name="outbox")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.create_index("ix_outbox_ordering", ["ordering_key", "id"], unique=False)
        batch_op.drop_column("parked_at")
