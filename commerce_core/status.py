"""Explicit status machines, and the history table every status change is written to.

Each aggregate declares its statuses as a ``StrEnum`` and its allowed transitions as a table (a plain
mapping, which ``docs/`` draws as a Mermaid diagram); anything not in the table raises
:class:`IllegalTransition`. Every accepted change is recorded with who, when, from and to.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from commerce_core.db.base import Base, BigId, UTCDateTime
from commerce_core.errors import IllegalTransition

S = TypeVar("S", bound=StrEnum)


class StatusMachine(Generic[S]):
    """A transition table for one kind of entity."""

    def __init__(self, entity: str, transitions: Mapping[S, frozenset[S]]) -> None:
        self.entity = entity
        self.transitions = transitions

    def allowed(self, current: S) -> frozenset[S]:
        return self.transitions.get(current, frozenset())

    def can(self, current: S, target: S) -> bool:
        return target in self.allowed(current)

    def check(self, current: S, target: S) -> None:
        if not self.can(current, target):
            raise IllegalTransition(
                f"{self.entity} cannot go from {current.value} to {target.value}",
                entity=self.entity,
                from_status=current.value,
                to_status=target.value,
            )

    def mermaid(self) -> str:
        """The table as a Mermaid state diagram (used to generate docs/)."""
        lines = ["stateDiagram-v2", f"    [*] --> {next(iter(self.transitions)).value}"]
        for source, targets in self.transitions.items():
            lines.extend(f"    {source.value} --> {target.value}" for target in sorted(targets))
            if not targets:
                lines.append(f"    {source.value} --> [*]")
        return "\n".join(lines)


class StatusChange(Base):
    """One accepted status change of any entity (order, product, case, ticket, merchant)."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigId)
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(96))
    reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_status_changes_entity", "entity_type", "entity_id"),)
