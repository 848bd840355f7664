"""outbox: an ordering key per recipient, and NOTIFY on insert so relays wake on commit

Why: relays polled the outbox every 2 s and handled one message after another. With an ordering key
(whose messages must arrive in order) a relay can deliver different recipients' messages at once and
still keep one shopper's "paid" before "shipped", across several relay processes. On PostgreSQL a
statement-level trigger sends ``NOTIFY shopbot_outbox``; PostgreSQL delivers it at commit (never for
a rolled-back insert), so a listening relay wakes within milliseconds of the change it reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION shopbot_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('shopbot_outbox', '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
_TRIGGER = """
CREATE TRIGGER shopbot_outbox_notify AFTER INSERT ON outbox
FOR EACH STATEMENT EXECUTE FUNCTION shopbot_outbox_notify()
"""


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.add_column(sa.Column("ordering_key", sa.String(length=96), nullable=True))
        batch_op.create_index("ix_outbox_ordering", ["ordering_key", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS shopbot_outbox_notify ON outbox")
        op.execute("DROP FUNCTION IF EXISTS shopbot_outbox_notify()")
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_index("ix_outbox_ordering")
        batch_op.drop_column("ordering_key")
