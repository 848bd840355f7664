"""Who hears of a paid order is read fresh for every order (issue 16 made the read cheap, not stale):
a merchant with no bound chat yet is told nothing, and a binding made a moment later, by another
process on the same database, counts for the very next paid order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.telegram.session import RecordingSession
from bot.runtime import Runtime
from commerce_core.app import Commerce
from commerce_core.clock import FakeClock
from commerce_core.db.engine import create_engine
from tests.conftest import commerce_config, empty_database
from tests.merchants.conftest import Team, bind, paid_two_merchant_order

BOLT_CHAT = "8102"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both databases: on PostgreSQL the contacts are read on a hot unit (prepared statements)."""
    return empty_database(request, tmp_path)


async def test_a_binding_made_in_another_process_counts_for_the_next_paid_order(
    runtime: Runtime, session: RecordingSession, team: Team, db_url: str, clock: FakeClock
) -> None:
    commerce = runtime.commerce
    first = await paid_two_merchant_order(commerce, team, "before-binding")
    since = len(session.calls)
    await runtime.relay_notifications()
    assert session.texts_to(BOLT_CHAT, since) == []  # nobody at bolt is bound: nobody is told
    assert first  # (the shopper was told; see test_chat)

    other_process = Commerce.build(create_engine(db_url), commerce_config(), clock=clock)
    try:
        await bind(other_process, team.owner_b, BOLT_CHAT)
    finally:
        await other_process.close()

    second = await paid_two_merchant_order(commerce, team, "after-binding")
    since = len(session.calls)
    await runtime.relay_notifications()
    told = session.texts_to(BOLT_CHAT, since)
    assert len(told) == 1 and second in told[0] and first not in told[0]  # once, the new order only
    since = len(session.calls)
    assert await runtime.relay_notifications() == 0
    assert session.texts_to(BOLT_CHAT, since) == []  # nothing twice
