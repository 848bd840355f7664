"""The passive reply's budget (:func:`bot.channels.wechat.budget.within`): a turn that misses it
runs on (its answer goes as customer-service messages), also when the request waiting is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.wechat.budget import within


async def test_a_turn_within_the_budget_is_awaited_and_its_error_kept() -> None:
    async def fails() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("boom")

    task = asyncio.create_task(fails())
    assert await within(task, 1.0) is True
    with pytest.raises(ValueError, match="boom"):
        task.result()


async def test_a_turn_past_the_budget_runs_on_to_its_answer() -> None:
    async def slow() -> str:
        await asyncio.sleep(0.2)
        return "answer"

    task = asyncio.create_task(slow())
    started = asyncio.get_running_loop().time()
    assert await within(task, 0.05) is False
    assert asyncio.get_running_loop().time() - started < 0.15 and not task.done()
    assert await task == "answer"


async def test_a_cancelled_wait_leaves_the_turn_running() -> None:
    release = asyncio.Event()

    async def turn() -> str:
        await release.wait()
        return "answer"

    task = asyncio.create_task(turn())
    waiting = asyncio.create_task(within(task, 5.0))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    assert await task == "answer"
