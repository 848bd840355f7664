"""Group commit: the Redis commands of concurrent callers in one pipelined round trip.

Why: in redis-py a round trip costs far more CPU than the commands in it (a pooled connection taken
and given back, a system call each way, the event loop's wake-ups); the Telegram path made about five
per turn, three of them its own (the webhook's store, the send reservations, the acknowledgement;
issue 16). Under load they are made by many chats at the same moment, so they go together: whoever
asks while no round trip is on its way starts one at the next turn of the event loop; whoever asks
while one is on its way joins the next. A caller alone waits for nothing but its own round trip. (The
scheme of the WeChat channel's ``batch.GroupCommit``.)

Not a transaction: each caller's commands run in the order it queued them, next to each other. On a
single Redis server the commands are written as RESP here (:class:`Commands`: the few the Telegram
channel queues, with redis-py's reply types) and sent on a connection of the client's own pool, read
by its own parser: redis-py's pipeline spent more CPU packing and post-processing them than the round
trip itself. Scripts go in too, so a Redis Cluster client (whose pipelines refuse scripts) gets none:
callers check :func:`batches` first; any other client (fakeredis) gets a redis-py pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError

#: queues commands on a pipeline (or :class:`Commands`) at flight time; it must not await. Also a
#: write that rides along with a later round trip (``SharedRateLimiter.reserve``'s riders)
Rider = Callable[[Any], None]


def batches(redis: Any) -> bool:
    """Whether :class:`RoundTrips` works on ``redis`` (not on a cluster client: see the module)."""
    return not isinstance(redis, RedisCluster)


def raise_first(results: list[Any]) -> None:
    """Raise the first command error among ``results`` (of :meth:`RoundTrips.run`)."""
    for result in results:
        if isinstance(result, Exception):
            raise result


class RoundTrips:
    """Runs the queued commands of many callers in one round trip at a time (see the module)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._direct = type(redis) is aioredis.Redis and issubclass(
            redis.connection_pool.connection_class, Connection
        )
        self._gathering: list[tuple[Rider, asyncio.Future[list[Any]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, queue: Rider) -> list[Any]:
        """The results of the commands ``queue`` puts on the pipeline, in order; a command's error is
        its result (the caller decides what it means). A failed round trip raises for every caller."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_observe)  # a caller cancelled meanwhile leaves no warning behind
        self._gathering.append((queue, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
            self._flusher.add_done_callback(self._flushed)
        return await future

    def _flushed(self, task: asyncio.Task[None]) -> None:
        """A sending task cancelled before it started (the loop shutting down): its callers are
        cancelled too, not left waiting for an answer that will not come (once started, ``_flush``
        does this itself)."""
        if task.cancelled() and self._flusher is task:
            self._flusher = None
            for _queue, future in self._gathering:
                future.cancel()
            self._gathering = []

    async def _flush(self) -> None:
        gathered: list[tuple[Rider, asyncio.Future[list[Any]]]] = []
        try:
            while self._gathering:
                gathered, self._gathering = self._gathering, []
                gathered = [(queue, future) for queue, future in gathered if not future.done()]
                if gathered:
                    await self._fly(gathered)
        finally:
            self._flusher = None
            # cancelled (the loop shutting down): nobody waits for an answer that will not come
            for _queue, future in gathered + self._gathering:
                future.cancel()
            self._gathering = []

    async def _fly(self, gathered: list[tuple[Rider, asyncio.Future[list[Any]]]]) -> None:
        spans: list[tuple[int, int] | BaseException] = []

        def queue_all(batch: Any) -> None:
            for queue, _future in gathered:
                start = len(batch)
                try:
                    queue(batch)
                except Exception as error:  # noqa: BLE001 - that caller's, not the others'
                    spans.append(error)
                else:
                    spans.append((start, len(batch)))

        try:
            if self._direct:
                commands = Commands()
                queue_all(commands)
                results = await self._send(commands) if len(commands) else []
            else:
                async with self._redis.pipeline(transaction=False) as pipe:
                    queue_all(pipe)
                    results = await pipe.execute(raise_on_error=False) if len(pipe) else []
        except Exception as error:  # noqa: BLE001 - the round trip failed: every caller gets it
            for _queue, future in gathered:
                if not future.done():
                    future.set_exception(error)
            return
        for (_queue, future), span in zip(gathered, spans, strict=True):
            if future.done():
                continue
            if isinstance(span, BaseException):
                future.set_exception(span)
            else:
                future.set_result(results[span[0] : span[1]])

    async def _send(self, commands: Commands) -> list[Any]:
        """``commands`` on one pooled connection; their replies (a command's error as its reply).
        A lost connection is retried as redis-py retries a pipeline (the client's ``Retry``)."""
        pool = self._redis.connection_pool
        connection: Connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            return await connection.retry.call_with_retry(
                lambda: _exchange(connection, commands), lambda _error: connection.disconnect()
            )
        finally:
            await pool.release(connection)


async def _exchange(connection: Connection, commands: Commands) -> list[Any]:
    await connection.send_packed_command(b"".join(commands.parts))
    replies: list[Any] = []
    for shape in commands.shapes:
        try:
            reply = await connection.read_response()
        except ResponseError as error:  # NOSCRIPT arrives as redis-py's NoScriptError
            replies.append(error)
        else:
            replies.append(shape(reply) if shape is not None else reply)
    return replies


def _observe(future: asyncio.Future[list[Any]]) -> None:
    if not future.cancelled():
        future.exception()


def _ok(reply: Any) -> bool:
    return bool(reply == b"OK")


#: how each kind of argument is written (anything else is refused: a float's text is the caller's choice)
_ARGUMENT: dict[type, Callable[[Any], bytes]] = {bytes: bytes, str: str.encode, int: b"%d".__mod__}


class Commands:
    """The commands the Telegram channel queues, written as RESP; replies shaped as redis-py's.

    Only ``set`` (``ex``), ``delete``, ``exists``, ``evalsha``, ``xack`` and ``xdel``; the tests
    run them through both this and redis-py's pipeline and compare."""

    __slots__ = ("parts", "shapes")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.shapes: list[Callable[[Any], Any] | None] = []

    def __len__(self) -> int:
        return len(self.shapes)

    def _add(self, shape: Callable[[Any], Any] | None, *args: Any) -> None:
        try:
            encoded = [_ARGUMENT[type(arg)](arg) for arg in args]
        except KeyError as error:
            raise TypeError(f"not a Redis argument: {error.args[0].__name__}") from None
        self.parts.append(
            b"*%d\r\n%s" % (len(encoded), b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in encoded]))
        )
        self.shapes.append(shape)

    def set(self, name: str, value: bytes | str | int, ex: int | None = None) -> None:
        if ex is None:
            self._add(_ok, "SET", name, value)
        else:
            self._add(_ok, "SET", name, value, "EX", ex)

    def delete(self, *names: str) -> None:
        self._add(None, "DEL", *names)

    def exists(self, *names: str) -> None:
        self._add(None, "EXISTS", *names)

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> None:
        self._add(None, "EVALSHA", sha, numkeys, *keys_and_args)

    def xack(self, name: str, groupname: str, *ids: bytes | str) -> None:
        self._add(None, "XACK", name, groupname, *ids)

    def xdel(self, name: str, *ids: bytes | str) -> None:
        self._add(None, "XDEL", name, *ids)
