"""Handoff benchmark: 200 waiting conversations, 20 agents working them through the console's HTTP API.

Set-up: 200 web-chat shoppers ask for a person (through the real pipeline), so 200 handoffs wait.
Then 20 agents, each signed in to the console over HTTP (session cookie, CSRF) with the live stream
(Server-Sent Events) open, take conversations one after another: claim, reply, wait for the shopper's
answer to show in the console, reply again, ..., resolve. Each reply carries a unique marker.

* agent-to-shopper: from the agent's reply POST being sent to the marker reaching the shopper's web
  chat inbox (outbox relay -> notifier -> the web inbox in Redis; read as the web chat's poll does,
  every 20 ms, so the figure includes up to 20 ms of polling);
* shopper-to-agent: from the shopper's message entering the pipeline to the agent's console showing it
  (the live stream says "changed", the console fetches the history fragment, as ``agent.js`` does);
* ``lost``: replies, shopper messages or hand-backs that never arrived within the timeout.

Targets (issue 12): agent-to-shopper p99 <= 1 s; lost = 0. Database and Redis come from the settings:

    SHOPBOT_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
    SHOPBOT_REDIS_URL=redis://127.0.0.1:6379/2 python bench/handoff.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from aiohttp import web

from bench._common import emit_json, scratch_database, summary
from bot.bootstrap import build_runtime
from bot.http.app import create_app
from bot.runtime import Runtime
from bot.settings import load_settings
from commerce_core.api import SYSTEM_ACTOR, OperatorPolicy, OperatorRole, TicketKind
from dialogs.messages import InboundMessage

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "bench horse battery staple"
TIMEOUT = 30.0
POLL = 0.02


class Shoppers:
    """The web chat side: turns through the pipeline, pushed replies read from the web inbox."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.inbox = runtime.inbox("web")
        self.waiting: dict[str, tuple[str, float, asyncio.Future[float]]] = {}  # user -> (marker, t0, done)

    async def say(self, user: str, text: str, n: int) -> None:
        message = InboundMessage("web", user, user, text, dedup_key=f"{user}:{n}:{uuid.uuid4().hex[:6]}")
        await self.runtime.pipeline.handle(message)

    def expect(self, user: str, marker: str, started: float) -> asyncio.Future[float]:
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[user] = (marker, started, done)
        return done

    async def poll(self, stop: asyncio.Event) -> None:
        """The web chat's inbox poll for every shopper who is expecting something."""
        while not stop.is_set():
            for user, (marker, started, done) in list(self.waiting.items()):
                for item in await self.inbox.drain(user):
                    if marker in str(item) and not done.done():
                        done.set_result(time.perf_counter() - started)
                        self.waiting.pop(user, None)
            await asyncio.sleep(POLL)


class Agent:
    """One agent's console tab: a signed-in HTTP session with the live stream open."""

    def __init__(self, base: str, email: str) -> None:
        self.base = base
        self.email = email
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # a host by IP
        self.csrf = ""
        self.changed = asyncio.Event()
        self._stream: asyncio.Task[None] | None = None

    async def login(self) -> None:
        async with self.http.get(f"{self.base}/admin/login") as response:
            self.csrf = CSRF.search(await response.text()).group(1)  # type: ignore[union-attr]
        data = {"email": self.email, "password": PASSWORD, "csrf": self.csrf}
        async with self.http.post(f"{self.base}/admin/login", data=data) as response:
            page = await response.text()
            signed_in = response.status == 200 and not response.url.path.endswith("/login")
        found = CSRF.search(page)
        if not signed_in or found is None:
            raise RuntimeError(f"{self.email} could not sign in ({response.status} {response.url})")
        self.csrf = found.group(1)
        self._stream = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                async with self.http.get(f"{self.base}/admin/agent/stream") as response:
                    async for line in response.content:
                        if line.startswith(b"event: changed"):
                            self.changed.set()
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(0.2)

    async def act(self, number: str, action: str, **fields: str) -> int:
        data = {"csrf": self.csrf, **fields}
        url = f"{self.base}/admin/agent/c/{number}/{action}"
        async with self.http.post(url, data=data, allow_redirects=False) as response:
            return response.status

    async def sees(self, number: str, marker: str, started: float) -> float | None:
        """Wait for ``marker`` in the conversation as the console shows it (stream, then fragment)."""
        deadline = started + TIMEOUT
        while time.perf_counter() < deadline:
            async with self.http.get(f"{self.base}/admin/agent/c/{number}/history") as response:
                if marker in await response.text():
                    return time.perf_counter() - started
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=1.0)
        return None

    async def close(self) -> None:
        if self._stream is not None:
            self._stream.cancel()
        await self.http.close()


async def work(
    agent: Agent,
    shoppers: Shoppers,
    queue: asyncio.Queue[tuple[str, str]],
    exchanges: int,
    figures: dict[str, Any],
) -> None:
    support = shoppers.runtime.commerce.support
    while not queue.empty():
        number, user = queue.get_nowait()
        await agent.act(number, "claim")
        if (await support.ticket(number)).status != "assigned":  # timed out or taken: not measured
            figures["not_claimed"] += 1
            continue
        for turn in range(exchanges):
            marker = f"R{uuid.uuid4().hex[:10]}"
            started = time.perf_counter()
            done = shoppers.expect(user, marker, started)
            await agent.act(number, "reply", text=f"Agent reply {marker}")
            try:
                figures["to_shopper"].append(await asyncio.wait_for(done, TIMEOUT))
            except TimeoutError:
                figures["lost"] += 1
                shoppers.waiting.pop(user, None)
            answer = f"A{uuid.uuid4().hex[:10]}"
            said = time.perf_counter()
            await shoppers.say(user, f"shopper answer {answer}", turn + 10)
            seen = await agent.sees(number, answer, said)
            if seen is None:
                figures["lost"] += 1
            else:
                figures["to_agent"].append(seen)
        resolved = shoppers.expect(user, "", time.perf_counter())  # anything pushed: the hand-back
        await agent.act(number, "resolve")
        try:
            await asyncio.wait_for(resolved, TIMEOUT)
            figures["resolved"] += 1
        except TimeoutError:
            figures["lost"] += 1
            shoppers.waiting.pop(user, None)


async def run(runtime: Runtime, conversations: int, agents: int, exchanges: int) -> dict[str, Any]:
    commerce = runtime.commerce
    commerce.operators.policy = OperatorPolicy(hash_time_cost=1, hash_memory_kib=256, hash_parallelism=1)
    emails = [f"agent{n}@bench.example" for n in range(agents)]
    for email in emails:
        await commerce.operators.create(email, PASSWORD, OperatorRole.AGENT, actor=SYSTEM_ACTOR)
    shoppers = Shoppers(runtime)
    users = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(conversations)]
    await asyncio.gather(*(shoppers.say(user, "转人工客服", 0) for user in users))
    waiting = await commerce.support.queue(TicketKind.HANDOFF)
    by_key = {t.conversation_key: t.number for t in waiting}
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for user in users:
        if f"web:{user}" in by_key:
            queue.put_nowait((by_key[f"web:{user}"], user))
    opened = queue.qsize()
    for user in users:  # what the bot said while they waited is not what is measured
        await shoppers.inbox.drain(user)

    app = create_app(runtime)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    relay = asyncio.create_task(runtime.outbox_relay().run(stop))
    poller = asyncio.create_task(shoppers.poll(stop))
    consoles = [Agent(base, email) for email in emails]
    figures: dict[str, Any] = {
        "to_shopper": [],
        "to_agent": [],
        "lost": conversations - opened,
        "resolved": 0,
        "not_claimed": 0,
    }
    started = time.perf_counter()
    try:
        await asyncio.gather(*(console.login() for console in consoles))
        await asyncio.gather(*(work(c, shoppers, queue, exchanges, figures) for c in consoles))
    finally:
        wall = time.perf_counter() - started
        stop.set()
        await asyncio.gather(relay, poller, return_exceptions=True)
        for console in consoles:
            await console.close()
        await runner.cleanup()
    return {
        "conversations": conversations,
        "opened": opened,
        "agents": agents,
        "exchanges_per_conversation": exchanges,
        "resolved": figures["resolved"],
        "not_claimed": figures["not_claimed"],
        "seconds": round(wall, 1),
        "agent_to_shopper": {"count": len(figures["to_shopper"]), **summary(figures["to_shopper"])},
        "shopper_to_agent": {"count": len(figures["to_agent"]), **summary(figures["to_agent"])},
        "lost": figures["lost"],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--exchanges", type=int, default=2, help="agent reply + shopper answer rounds each")
    args = parser.parse_args()
    settings = load_settings()
    async with scratch_database(settings) as url:
        runtime = await build_runtime(load_settings(database_url=url))
        # the queue is worked down over minutes: waiting shoppers must not time out meanwhile
        support = runtime.commerce.support
        support.settings = dataclasses.replace(support.settings, wait_limit_seconds=3600)
        try:
            result = await run(runtime, args.conversations, args.agents, args.exchanges)
        finally:
            await runtime.aclose()
    a2s, s2a = result["agent_to_shopper"], result["shopper_to_agent"]
    print(
        f"{result['conversations']} waiting conversations, {result['agents']} agents on the console's "
        f"HTTP API ({settings.db_url.split('+')[0]}, {settings.redis_url.split('://')[0]}), "
        f"{result['seconds']} s:"
    )
    print(f"  agent -> shopper: {a2s['count']} replies, p50 {a2s['p50_ms']} ms, p99 {a2s['p99_ms']} ms")
    print(f"  shopper -> agent: {s2a['count']} messages, p50 {s2a['p50_ms']} ms, p99 {s2a['p99_ms']} ms")
    print(f"  resolved {result['resolved']}, not claimed {result['not_claimed']}, lost {result['lost']}")
    print("  targets: agent -> shopper p99 <= 1000 ms; lost 0")
    emit_json(
        {
            "database": settings.db_url.split("+")[0],
            "redis": settings.redis_url.split("://")[0],
            **result,
        }
    )


if __name__ == "__main__":
    asyncio.run(main())
