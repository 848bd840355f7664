"""operators: back-office accounts, their audit trail, one-time binding codes and chat identities

Why: staff and merchant users sign in to the back office (issue 10, item 8). Passwords are argon2id
hashes, TOTP secrets are encrypted, binding codes are kept only as keyed hashes. The audit table is
indexed for the back office's filters: by time, by actor and by object (R7.1-3).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import commerce_core.db.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, commerce_core.db.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "operator_users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("merchant_id", _ID, nullable=True),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        _at("locked_until", nullable=True),
        sa.Column("totp_secret_enc", sa.Text(), nullable=True),
        sa.Column("totp_enabled", sa.Boolean(), nullable=False),
        sa.Column("totp_last_step", sa.Integer(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("last_login_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_operator_users_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_users")),
        sa.UniqueConstraint("email", name=op.f("uq_operator_users_email")),
        sa.UniqueConstraint("public_id", name=op.f("uq_operator_users_public_id")),
    )
    with op.batch_alter_table("operator_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_users_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "operator_audit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        _at("at"),
        sa.Column("actor_id", sa.String(length=16), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_audit")),
    )
    with op.batch_alter_table("operator_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_audit_at"), ["at"], unique=False)
        batch_op.create_index("ix_operator_audit_actor", ["actor_email", "at"], unique=False)
        batch_op.create_index("ix_operator_audit_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "operator_binding_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _at("expires_at"),
        _at("used_at", nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator_users.id"],
            name=op.f("fk_operator_binding_codes_operator_id_operator_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_binding_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_operator_binding_codes_code_hash")),
    )
    with op.batch_alter_table("operator_binding_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_operator_binding_codes_operator_id"), ["operator_id"], unique=False
        )

    op.create_table(
        "operator_identities",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("operator_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_user_id", sa.String(length=128), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator_users.id"],
            name=op.f("fk_operator_identities_operator_id_operator_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_identities")),
        sa.UniqueConstraint(
            "channel", "channel_user_id", name=op.f("uq_operator_identities_channel_channel_user_id")
        ),
    )
    with op.batch_alter_table("operator_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_identities_operator_id"), ["operator_id"], unique=False)


def downgrade() -> None:
    op.drop_table("operator_identities")
    op.drop_table("operator_binding_codes")
    op.drop_table("operator_audit")
    op.drop_table("operator_users")
