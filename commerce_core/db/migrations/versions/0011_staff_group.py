"""staff group topics, feedback to resolution, photos in the handoff

Why: the Telegram staff group opens one forum topic per shopper conversation and must find it again
from any process (``support_staff_topics``); complaint and feedback tickets are tracked to a
resolution with a category, and the console reports first-response time (``category``,
``resolution``, ``first_response_at``); a photo the shopper sent during a handoff is kept in the
file store and its key on the history line (``file_key``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("first_response_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("support_messages") as batch_op:
        batch_op.add_column(sa.Column("file_key", sa.String(length=300), nullable=True))
    op.create_table(
        "support_staff_topics",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("conversation_key", sa.String(length=160), nullable=False),
        sa.Column("chat_id", sa.String(length=32), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_staff_topics")),
        sa.UniqueConstraint("conversation_key", name=op.f("uq_support_staff_topics_conversation_key")),
    )
    with op.batch_alter_table("support_staff_topics") as batch_op:
        batch_op.create_index("ix_support_staff_topics_thread", ["chat_id", "thread_id"], unique=False)


def downgrade() -> None:
    op.drop_table("support_staff_topics")
    with op.batch_alter_table("support_messages") as batch_op:
        batch_op.drop_column("file_key")
    with op.batch_alter_table("support_tickets") as batch_op:
        batch_op.drop_column("first_response_at")
        batch_op.drop_column("resolution")
        batch_op.drop_column("category")
