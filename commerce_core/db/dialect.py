"""Small helpers for statements whose spelling differs between PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_conflicts(session: AsyncSession | str, model: Any, *conflict_columns: str) -> Any:
    """``INSERT ... ON CONFLICT (...) DO NOTHING`` for the session's database (or a dialect name).

    Used where a unique key is the idempotency guard: the insert either happens or returns no row,
    without raising and aborting the transaction. Hot paths pass the dialect name so they can build
    the statement once per database instead of once per call.
    """
    name = session if isinstance(session, str) else session.get_bind().dialect.name
    builder = postgresql.insert if name == "postgresql" else sqlite.insert
    return builder(model).on_conflict_do_nothing(index_elements=list(conflict_columns))
