"""support: live handoff (kinds, language, rating) and the handed-off conversation's messages

Why: a handoff is conversation state with its own queue, separate from complaint and feedback tickets
(``kind``); the console shows the shopper's language and collects a 1-5 rating after a resolution;
``support_messages`` keeps what the shopper, the agent and the bot said (and private notes) so the
console can show the history and the relay has something real to read.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="handoff"))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.create_index("ix_support_tickets_queue", ["kind", "status", "id"], unique=False)
    op.execute("UPDATE support_tickets SET kind = 'complaint' WHERE reason LIKE 'complaint:%'")
    op.create_table(
        "support_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("ticket_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=96), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["support_tickets.id"], name=op.f("fk_support_messages_ticket_id_support_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_support_messages_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_messages")),
    )
    with op.batch_alter_table("support_messages") as batch_op:
        batch_op.create_index(batch_op.f("ix_support_messages_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_messages_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_support_messages_at"), ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("support_messages")
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.drop_index("ix_support_tickets_queue")
        batch_op.drop_column("rating")
        batch_op.drop_column("language")
        batch_op.drop_column("kind")
