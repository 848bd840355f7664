"""alerts: anomaly alerts and the contact fingerprints of the shared-contact rule (R3.4-2, R4.1-6)

Why: anomaly rules (failed-payment bursts, large orders, accounts sharing a phone or address, a new
channel linked in, a merchant buying its own listings, pay-then-refund loops) store each alert once
per rule, subject and window (``dedup_key`` unique) for staff to read and acknowledge; the phones and
addresses orders ship to are kept as blind indexes only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = commerce_core.db.base.BigId
    when = commerce_core.db.base.UTCDateTime
    op.create_table(
        "alerts",
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=96), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("details", commerce_core.db.base.PortableJSON, nullable=False),
        sa.Column("raised_at", when(), nullable=False),
        sa.Column("acknowledged_at", when(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("public_id", name=op.f("uq_alerts_public_id")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alerts_dedup_key")),
    )
    op.create_index("ix_alerts_raised_at", "alerts", ["raised_at"])
    op.create_index("ix_alerts_rule_subject", "alerts", ["rule", "subject", "raised_at"])
    op.create_table(
        "alert_contacts",
        sa.Column("id", big, primary_key=True, autoincrement=True),
        sa.Column("customer_id", big, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_alert_contacts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "kind", "digest", "customer_id", name=op.f("uq_alert_contacts_kind_digest_customer_id")
        ),
    )
    op.create_index("ix_alert_contacts_customer_id", "alert_contacts", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_contacts_customer_id", table_name="alert_contacts")
    op.drop_table("alert_contacts")
    op.drop_index("ix_alerts_rule_subject", table_name="alerts")
    op.drop_index("ix_alerts_raised_at", table_name="alerts")
    op.drop_table("alerts")
