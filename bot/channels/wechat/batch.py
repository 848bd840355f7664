"""Group commit: the Redis commands of concurrent WeChat requests in one round trip.

Why: a WeChat turn's own Redis work (claiming the message, writing it down as unanswered, opening the
customer-service window, reading the shown buttons; then keeping the reply and the buttons; then
striking the message off) was three and a half round trips of its own in issue 16's profile, and in
redis-py every round trip costs far more CPU than the commands in it (taking and giving back a pooled
connection, observability hooks, a system call each way). Requests arrive together under load, so
their commands go together: whoever asks while no round trip is on its way starts one two turns of the
event loop later (what the first turn wakes may join it); whoever asks while one is on its way joins
the next. One request alone waits for nothing but its own round trip; under load a round trip carries
the commands of many.

The pipeline is not a transaction (no ``MULTI``): every caller's commands run in the order it queued
them, next to each other, and a cluster client splits the pipeline per node as it always does.

On a single Redis server (``redis.asyncio.Redis``), the commands are written as RESP here
(:class:`Commands`: the seven commands the channel queues, with redis-py's reply types) and sent on a
connection from the client's own pool, its replies read by the client's own parser: redis-py's
pipeline spent more CPU packing and post-processing them than the round trip cost (86 µs for a
six-command round trip against 36 µs, measured in a loop on this machine). A cluster client, or any
other, gets a redis-py pipeline as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis._parsers.hiredis import NOT_ENOUGH_DATA, _AsyncHiredisParser
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError, ResponseError

#: queues one caller's commands on the shared pipeline (at flight time; it must not await)
Queue = Callable[[Any], None]


class GroupCommit:
    """Runs queued commands of many callers in one non-transactional Redis pipeline per round trip."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        #: RESP written here on a plain server's pooled connections (see the module)
        self._direct = type(redis) is aioredis.Redis and issubclass(
            redis.connection_pool.connection_class, Connection
        )
        self._gathering: list[tuple[Queue, asyncio.Future[list[Any]]]] = []
        self._riding: list[tuple[Queue, asyncio.Future[list[Any]]]] = []  # (see ``add``'s ``ride``)
        self._kicked = False
        self._flusher: asyncio.Task[None] | None = None

    def add(self, queue: Queue, *, ride: bool = False) -> asyncio.Future[list[Any]]:
        """Queue ``queue``'s commands for the next round trip; the future gets their results in order
        (or the first error among them: a failed command fails only its own caller).

        ``ride``: work that may wait (striking answered messages off the unanswered list) goes with
        the next round trip someone else starts, or the one :meth:`kick` starts, and starts none
        itself: under load a request's own last round trip was mostly such work alone."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        # a caller gone meanwhile must not leave "exception never retrieved" behind
        future.add_done_callback(_observe)
        if ride:
            self._riding.append((queue, future))
        else:
            self._gathering.append((queue, future))
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush())
        return future

    def kick(self) -> None:
        """Start a round trip for the riders if none is on its way (one will carry them otherwise)."""
        if self._riding:
            self._kicked = True
            if self._flusher is None:
                self._flusher = asyncio.create_task(self._flush())

    async def run(self, queue: Queue) -> list[Any]:
        """:meth:`add`, then wait for the results."""
        return await self.add(queue)

    async def _flush(self) -> None:
        try:
            while self._gathering or self._kicked:
                await asyncio.sleep(0)  # one more turn of the event loop: what it wakes may join
                self._kicked = False
                gathered = self._riding + self._gathering
                self._riding, self._gathering = [], []
                gathered = [(queue, future) for queue, future in gathered if not future.done()]
                if gathered:
                    await self._fly(gathered)
        finally:
            self._flusher = None

    async def _fly(self, gathered: list[tuple[Queue, asyncio.Future[list[Any]]]]) -> None:
        spans: list[tuple[int, int] | BaseException] = []

        def queue_all(batch: Any) -> None:
            for queue, _future in gathered:
                start = len(batch)
                try:
                    queue(batch)
                except Exception as error:  # noqa: BLE001 - that caller's, not the others'
                    spans.append(error)  # (what it queued before failing still runs, unread)
                else:
                    spans.append((start, len(batch)))

        try:
            if self._direct:
                commands = Commands()
                queue_all(commands)
                results = await self._send(commands) if len(commands) else []
            else:
                async with self._redis.pipeline(transaction=False) as batch:
                    queue_all(batch)
                    results = await batch.execute(raise_on_error=False) if len(batch) else []
        except Exception as error:  # noqa: BLE001 - the round trip failed: every caller gets it
            for _queue, future in gathered:
                if not future.done():
                    future.set_exception(error)
            return
        failed = [r for r in results if isinstance(r, Exception)]  # (looked for per caller only if any)
        for (_queue, future), span in zip(gathered, spans, strict=True):
            if future.done():
                continue
            if isinstance(span, BaseException):
                future.set_exception(span)
                continue
            mine = results[span[0] : span[1]]
            refused = next((r for r in mine if isinstance(r, Exception)), None) if failed else None
            if refused is not None:
                future.set_exception(refused)
            else:
                future.set_result(mine)

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
    """Send ``commands``, read their replies. The first is read by the connection (it waits, with the
    client's timeout and error handling); the rest, usually in the same read from the socket, are
    taken straight off the connection's hiredis reader while it has them whole, and read by the
    connection again when it has not (``connection.read_response`` per reply was a third of the
    round trip's CPU in issue 16's profile: a timeout context and three calls for a reply in memory).
    """
    await connection.send_packed_command(b"".join(commands.parts))
    replies: list[Any] = []
    reader = _reader_of(connection)
    try:
        for shape in commands.shapes:
            reply = reader.gets() if reader is not None and replies else NOT_ENOUGH_DATA
            if reply is NOT_ENOUGH_DATA:
                try:
                    reply = await connection.read_response()
                except ResponseError as error:
                    reply = error
            elif isinstance(reply, ConnectionError):  # as the connection raises it (LOADING and such)
                raise reply
            if isinstance(reply, ResponseError):
                replies.append(reply)
            else:
                replies.append(shape(reply) if shape is not None else reply)
    except BaseException:
        # replies left unread (or a reader in a bad state): the connection is not given back as it is
        await connection.disconnect(nowait=True)
        raise
    return replies


def _reader_of(connection: Connection) -> Any:
    """The connection's hiredis reader when its replies can be taken off it directly (RESP2: no push
    messages among them), else None (every reply read by the connection)."""
    parser = connection._parser
    if connection.protocol in (3, "3") or not isinstance(parser, _AsyncHiredisParser):
        return None
    return getattr(parser, "_reader", None)


def _ok(reply: Any) -> bool:
    return bool(reply == b"OK")


class Commands:
    """The commands the WeChat channel queues, written as RESP; replies shaped as redis-py's.

    Only what the channel uses: ``set`` (``ex``, ``nx``, ``get``), ``get``, ``hset`` (``mapping``),
    ``hsetnx``, ``hdel``, ``expire``, ``delete``. Tests run the channel's commands through both this
    and redis-py's pipeline and compare."""

    __slots__ = ("parts", "shapes")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.shapes: list[Callable[[Any], Any] | None] = []

    def __len__(self) -> int:
        return len(self.shapes)

    def _add(self, shape: Callable[[Any], Any] | None, *args: Any) -> None:
        self.parts.append(b"*%d\r\n%b" % (len(args), b"".join(map(_bulk, args))))
        self.shapes.append(shape)

    def set(
        self, name: str, value: bytes | str, ex: int | None = None, nx: bool = False, get: bool = False
    ) -> None:
        # the hot command (the claim, the reply, the buttons): written with one format, its options'
        # RESP taken from a table (see :func:`_set_options`)
        options, count = _set_options(ex, nx, get)
        self.parts.append(b"*%d\r\n$3\r\nSET\r\n%b%b%b" % (count, _bulk(name), _bulk(value), options))
        self.shapes.append(None if get else _ok)

    def get(self, name: str) -> None:
        self.parts.append(b"*2\r\n$3\r\nGET\r\n%b" % _bulk(name))
        self.shapes.append(None)

    def hset(self, name: str, mapping: dict[str, Any]) -> None:
        self._add(None, "HSET", name, *(item for pair in mapping.items() for item in pair))

    def hsetnx(self, name: str, key: str, value: bytes | str) -> None:
        self.parts.append(b"*4\r\n$6\r\nHSETNX\r\n%b%b%b" % (_bulk(name), _bulk(key), _bulk(value)))
        self.shapes.append(bool)

    def hdel(self, name: str, *keys: str) -> None:
        self._add(None, "HDEL", name, *keys)

    def expire(self, name: str, seconds: int) -> None:
        self.parts.append(b"*3\r\n$6\r\nEXPIRE\r\n%b%b" % (_bulk(name), _bulk(seconds)))
        self.shapes.append(bool)

    def delete(self, *names: str) -> None:
        self._add(None, "DEL", *names)


def _bulk(arg: Any) -> bytes:
    """One argument as a RESP bulk string (str as UTF-8, int in decimal, as redis-py encodes them)."""
    kind = type(arg)
    if kind is str:
        arg = arg.encode()
    elif kind is int:
        arg = b"%d" % arg
    elif kind is not bytes:
        raise TypeError(f"not a Redis argument: {kind.__name__}")
    return b"$%d\r\n%b\r\n" % (len(arg), arg)


_SET_OPTIONS: dict[tuple[int | None, bool, bool], tuple[bytes, int]] = {}


def _set_options(ex: int | None, nx: bool, get: bool) -> tuple[bytes, int]:
    """``SET``'s options as RESP and the command's argument count, made once per combination (the
    channel uses a handful: its TTLs are settings)."""
    found = _SET_OPTIONS.get((ex, nx, get))
    if found is None:
        parts = [b"$2\r\nEX\r\n" + _bulk(ex)] if ex is not None else []
        parts += [b"$2\r\nNX\r\n"] if nx else []
        parts += [b"$3\r\nGET\r\n"] if get else []
        count = 3 + (2 if ex is not None else 0) + nx + get
        found = (b"".join(parts), count)
        if len(_SET_OPTIONS) < 64:  # (bounded, whatever a caller passes)
            _SET_OPTIONS[(ex, nx, get)] = found
    return found


def _observe(future: asyncio.Future[list[Any]]) -> None:
    if not future.cancelled():
        future.exception()
