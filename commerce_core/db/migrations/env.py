"""Alembic environment: runs on the connection handed in by commerce_core.db.migrate."""

from __future__ import annotations

from alembic import context

from commerce_core.db.models import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through commerce_core.db.migrate (shopbot db upgrade)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
