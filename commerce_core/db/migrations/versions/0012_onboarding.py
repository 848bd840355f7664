"""onboard: merchant applications (onboarding with review, contract and activation)

Why: an applicant's declared details, the files they uploaded (as file-store keys), the reviewer's
reasons and suggestions, and after the contract the returns address, after-sales policy and the
encrypted payout details. One row per merchant; the merchant's status carries the review state.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import commerce_core.db.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "merchant_applications",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("merchant_id", BIG, nullable=False),
        sa.Column("applicant_operator_id", BIG, nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("channel_user_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", BIG, nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("legal_representative", sa.String(length=100), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone_enc", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("industry", sa.String(length=32), nullable=False),
        sa.Column("branded", sa.Boolean(), nullable=False),
        sa.Column(
            "documents",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("rejection_reasons", sa.Text(), nullable=True),
        sa.Column("suggestions", sa.Text(), nullable=True),
        sa.Column("returns_address", sa.Text(), nullable=True),
        sa.Column("after_sales_policy", sa.Text(), nullable=True),
        sa.Column("payout_enc", sa.Text(), nullable=True),
        sa.Column("submitted_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("activated_at", commerce_core.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_merchant_applications_merchant_id_merchants")
        ),
        sa.ForeignKeyConstraint(
            ["applicant_operator_id"],
            ["operator_users.id"],
            name=op.f("fk_merchant_applications_applicant_operator_id_operator_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_applications")),
        sa.UniqueConstraint("merchant_id", name=op.f("uq_merchant_applications_merchant_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_merchant_applications_public_id")),
    )
    op.create_index(
        op.f("ix_merchant_applications_applicant_operator_id"),
        "merchant_applications",
        ["applicant_operator_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_merchant_applications_channel_user_id"),
        "merchant_applications",
        ["channel_user_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_merchant_applications_channel_user_id"), table_name="merchant_applications")
    op.drop_index(op.f("ix_merchant_applications_applicant_operator_id"), table_name="merchant_applications")
    op.drop_table("merchant_applications")
