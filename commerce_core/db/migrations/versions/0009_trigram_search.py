"""nlu: typo-tolerant product search on PostgreSQL (pg_trgm and a trigram index over product names)

Why: shoppers misspell ("runnign shoes", "wireles headphons") and full-text search matches exact
stems only. ``pg_trgm``'s word similarity finds the product whose name is nearest to the query; the
GIN index on the same expression the search uses (``lower(name::text || ' ' || synonyms::text)``: every name and synonym)
keeps that an index scan. SQLite has no trigram similarity operator, so there the fallback is
computed in Python (rapidfuzz over the names, see ``commerce_core.catalog.search``) and this
revision does nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_products_name_trgm ON products "
        "USING gin ((lower(name::text || ' ' || synonyms::text)) gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_products_name_trgm")
