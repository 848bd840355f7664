"""checkout indexes: composite look-ups instead of single-column ones, two redundant indexes dropped

Why: on the checkout path the planner could combine ``ix_payments_order_id`` with the
(provider, provider_ref) index, and ``ix_stock_reservations_order_id`` with the status index, in
bitmap scans that read every payment of a provider or every active reservation (O(table) per order,
seen in ``EXPLAIN`` once a few thousand orders existed). Composite indexes make the one-probe plan
the obvious one. ``ix_orders_customer_id`` and ``ix_order_lines_order_id`` duplicated the leading
column of a unique index and only cost every insert.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.create_index(
            "ix_payments_order_provider_status", ["order_id", "provider", "status"], unique=False
        )
        batch_op.drop_index("ix_payments_order_id")
    with op.batch_alter_table("stock_reservations") as batch_op:
        batch_op.create_index("ix_stock_reservations_order_status", ["order_id", "status"], unique=False)
        batch_op.drop_index("ix_stock_reservations_order_id")
    with op.batch_alter_table("orders") as batch_op:
        batch_op.drop_index("ix_orders_customer_id")
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.drop_index("ix_order_lines_order_id")


def downgrade() -> None:
    with op.batch_alter_table("order_lines") as batch_op:
        batch_op.create_index("ix_order_lines_order_id", ["order_id"], unique=False)
    with op.batch_alter_table("orders") as batch_op:
        batch_op.create_index("ix_orders_customer_id", ["customer_id"], unique=False)
    with op.batch_alter_table("stock_reservations") as batch_op:
        batch_op.create_index("ix_stock_reservations_order_id", ["order_id"], unique=False)
        batch_op.drop_index("ix_stock_reservations_order_status")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.create_index("ix_payments_order_id", ["order_id"], unique=False)
        batch_op.drop_index("ix_payments_order_provider_status")
