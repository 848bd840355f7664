"""The web chat's inline relay of payers' notifications (issue 16): pay buttons pressed at the same
moment share one claim, later ones do not wait for it, and a failed relay does not fail the payment."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.web import RecipientRelay


async def test_buttons_pressed_together_share_a_claim_and_later_ones_do_not_wait() -> None:
    rounds: list[list[str]] = []
    release = asyncio.Event()

    async def drain(keys: list[str]) -> None:
        rounds.append(keys)
        if len(rounds) == 1:
            await release.wait()  # the first round is slow (a busy database)

    relay = RecipientRelay(drain)
    first = [asyncio.create_task(relay.deliver(key)) for key in ("customer:1", "customer:2", "customer:1")]
    await asyncio.sleep(0.01)
    assert rounds == [["customer:1", "customer:2"]]  # one claim for the three presses
    await asyncio.wait_for(relay.deliver("customer:3"), 1)  # not held up by the slow round
    assert rounds[1] == ["customer:3"] and not any(task.done() for task in first)
    release.set()
    await asyncio.gather(*first)


async def test_a_failed_relay_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def drain(keys: list[str]) -> None:
        raise ConnectionError("the database is away")

    await RecipientRelay(drain).deliver("customer:1")  # the payment stands; the relay job delivers
    assert "relay job will" in caplog.text
