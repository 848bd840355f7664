"""Group commit: the Redis commands of concurrent callers in one pipelined round trip.

Why: in redis-py a round trip costs far more CPU than the commands in it (a pooled connection taken
and given back, a system call each way, the event loop's wake-ups, observability hooks). Under load
the Telegram channel's stores, send reservations and acknowledgements, and the WeChat channel's
claims, replies and strike-offs, are made by many chats at the same moment (issue 16), so they go
together: whoever asks while no round trip is on its way starts one at the next turn of the event loop
(``settle_turns`` more turns later, so what those turns wake may join it); whoever asks while one is on
its way joins the next. A caller alone waits for nothing but its own round trip. Work that may wait
rides a round trip someone else starts (:meth:`RoundTrips.add`'s ``ride``, :meth:`RoundTrips.kick`).

Not a transaction (no ``MULTI``): each caller's commands run in the order it queued them, next to each
other. On a single Redis server (``redis.asyncio.Redis``) the commands are written as RESP here
(:class:`Commands`: those the channels queue, with redis-py's reply types) and sent on a connection of
the client's own pool, read by its own parser: redis-py's pipeline spent more CPU packing and
post-processing them than the round trip cost (86 µs for a six-command round trip against 36 µs,
measured in a loop on this machine). Scripts go in too, so a Redis Cluster client (whose pipelines
refuse scripts) gets none where scripts are queued: callers check :func:`batches` first; any other
client (fakeredis) gets a redis-py pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis._parsers.hiredis import NOT_ENOUGH_DATA, _AsyncHiredisParser
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError, NoScriptError, ResponseError

#: queues commands on a pipeline (or :class:`Commands`) at flight time; it must not await. Also a
#: write that rides along with a later round trip (``SharedRateLimiter.reserve``'s riders)
Rider = Callable[[Any], None]
_Waiting = list[tuple[Rider, asyncio.Future[list[Any]]]]


def batches(redis: Any) -> bool:
    """Whether :class:`RoundTrips` works on ``redis`` for scripts (not on a cluster client: see the
    module)."""
    return not isinstance(redis, RedisCluster)


def shared(redis: Any, given: RoundTrips | None = None) -> RoundTrips | None:
    """The round trips a Telegram component shares (``given``, the channel's, else its own); None on a
    cluster client, where it calls Redis itself (see :func:`batches`)."""
    return (given or RoundTrips(redis)) if batches(redis) else None


async def script_answer(answer: Any, plain: Callable[[], Awaitable[Any]]) -> Any:
    """A script's reply from a shared round trip (sent by its digest): a Redis that does not know the
    script (restarted, flushed) gets it loaded and run by ``plain``, the script object's own call;
    any other error is raised."""
    if isinstance(answer, NoScriptError):
        return await plain()
    if isinstance(answer, Exception):
        raise answer
    return answer


def raise_first(results: list[Any]) -> None:
    """Raise the first command error among ``results`` (of :meth:`RoundTrips.run`)."""
    for result in results:
        if isinstance(result, Exception):
            raise result


class RoundTrips:
    """Runs the queued commands of many callers in one round trip at a time (see the module).

    ``settle_turns``: turns of the event loop a round trip waits before it is made up, on top of the
    one its task takes to start (the WeChat channel's requests wake in pairs of turns: one more lets
    the second join). ``raise_errors``: a caller's future gets the first error among its commands as
    its exception (the WeChat channel's callers treat any refused command as a failed step) instead of
    every error as a result (the Telegram channel's callers decide per command, e.g. NOSCRIPT)."""

    def __init__(self, redis: aioredis.Redis, *, settle_turns: int = 0, raise_errors: bool = False) -> None:
        self._redis = redis
        #: RESP written here on a plain server's pooled connections (see the module)
        self._direct = type(redis) is aioredis.Redis and issubclass(
            redis.connection_pool.connection_class, Connection
        )
        self._settle_turns = settle_turns
        self._raise_errors = raise_errors
        self._gathering: _Waiting = []
        self._riding: _Waiting = []  # (see ``add``'s ``ride``)
        self._kicked = False
        self._flusher: asyncio.Task[None] | None = None

    def add(self, queue: Rider, *, ride: bool = False) -> asyncio.Future[list[Any]]:
        """Queue ``queue``'s commands for the next round trip; the future gets their results in order
        (a command's error as its result, or as the future's exception with ``raise_errors``: a failed
        command fails only its own caller). A failed round trip fails every caller in it.

        ``ride``: work that may wait (striking answered messages off a list) goes with the next round
        trip someone else starts, or the one :meth:`kick` starts, and starts none itself: under load
        a caller's own last round trip was mostly such work alone."""
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_observe)  # a caller gone meanwhile leaves no warning behind
        if ride:
            self._riding.append((queue, future))
        else:
            self._gathering.append((queue, future))
            if self._flusher is None:
                self._start()
        return future

    async def run(self, queue: Rider) -> list[Any]:
        """:meth:`add`, then wait for the results."""
        return await self.add(queue)

    def kick(self) -> None:
        """Start a round trip for the riders if none is on its way (one will carry them otherwise)."""
        if self._riding:
            self._kicked = True
            if self._flusher is None:
                self._start()

    def _start(self) -> None:
        self._flusher = asyncio.create_task(self._flush())
        self._flusher.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        """A sending task cancelled before it started (the loop shutting down): its callers are
        cancelled too, not left waiting for an answer that will not come (once started, ``_flush``
        does this itself). Riders stay for a later round trip, as they would have anyway."""
        if task.cancelled() and self._flusher is task:
            self._flusher = None
            for _queue, future in self._gathering:
                future.cancel()
            self._gathering = []

    async def _flush(self) -> None:
        gathered: _Waiting = []
        try:
            while self._gathering or self._kicked:
                for _turn in range(self._settle_turns):
                    await asyncio.sleep(0)  # one more turn of the event loop: what it wakes may join
                self._kicked = False
                gathered = self._riding + self._gathering if self._riding else self._gathering
                self._riding, self._gathering = [], []
                gathered = [(queue, future) for queue, future in gathered if not future.done()]
                if gathered:
                    await self._fly(gathered)
        finally:
            self._flusher = None
            # cancelled (the loop shutting down): nobody waits for an answer that will not come
            for _queue, future in gathered + self._gathering:
                future.cancel()
            self._gathering = []

    async def _fly(self, gathered: _Waiting) -> None:
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
                async with self._redis.pipeline(transaction=False) as pipe:
                    queue_all(pipe)
                    results = await pipe.execute(raise_on_error=False) if len(pipe) else []
        except Exception as error:  # noqa: BLE001 - the round trip failed: every caller gets it
            for _queue, future in gathered:
                if not future.done():
                    future.set_exception(error)
            return
        # with ``raise_errors``, each caller's results are searched for an error only if there is one
        failed = self._raise_errors and any([isinstance(r, Exception) for r in results])
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
    The reader makes errors as the connection does (NOSCRIPT as redis-py's ``NoScriptError``).
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


def _observe(future: asyncio.Future[list[Any]]) -> None:
    if not future.cancelled():
        future.exception()


def _ok(reply: Any) -> bool | None:
    """``SET``'s reply as redis-py shapes it: True when set, None when ``NX`` refused it."""
    return None if reply is None else reply == b"OK"


class Commands:
    """The commands the channels queue, written as RESP; replies shaped as redis-py's.

    Only what they use: ``set`` (``ex``, ``nx``, ``get``), ``get``, ``exists``, ``delete``,
    ``expire``, ``hset`` (``mapping``), ``hsetnx``, ``hdel``, ``evalsha``, ``xack``, ``xdel``. The
    hot ones (the WeChat turn's) are written with one pre-built format each, measured faster than the
    general :meth:`_add`. Tests run them through both this and redis-py's pipeline and compare."""

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
        self, name: str, value: bytes | str | int, ex: int | None = None, nx: bool = False, get: bool = False
    ) -> None:
        # the hot command (WeChat's claim, reply and buttons): written with one format, its options'
        # RESP taken from a table (see :func:`_set_options`)
        options, count = _set_options(ex, nx, get)
        self.parts.append(b"*%d\r\n$3\r\nSET\r\n%b%b%b" % (count, _bulk(name), _bulk(value), options))
        self.shapes.append(None if get else _ok)

    def get(self, name: str) -> None:
        self.parts.append(b"*2\r\n$3\r\nGET\r\n%b" % _bulk(name))
        self.shapes.append(None)

    def exists(self, *names: str) -> None:
        self._add(None, "EXISTS", *names)

    def delete(self, *names: str) -> None:
        self._add(None, "DEL", *names)

    def expire(self, name: str, seconds: int) -> None:
        self.parts.append(b"*3\r\n$6\r\nEXPIRE\r\n%b%b" % (_bulk(name), _bulk(seconds)))
        self.shapes.append(bool)

    def hset(self, name: str, mapping: dict[str, Any]) -> None:
        self._add(None, "HSET", name, *(item for pair in mapping.items() for item in pair))

    def hsetnx(self, name: str, key: str, value: bytes | str) -> None:
        self.parts.append(b"*4\r\n$6\r\nHSETNX\r\n%b%b%b" % (_bulk(name), _bulk(key), _bulk(value)))
        self.shapes.append(bool)

    def hdel(self, name: str, *keys: str) -> None:
        self._add(None, "HDEL", name, *keys)

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> None:
        self._add(None, "EVALSHA", sha, numkeys, *keys_and_args)

    def xack(self, name: str, groupname: str, *ids: bytes | str) -> None:
        self._add(None, "XACK", name, groupname, *ids)

    def xdel(self, name: str, *ids: bytes | str) -> None:
        self._add(None, "XDEL", name, *ids)


def _bulk(arg: Any) -> bytes:
    """One argument as a RESP bulk string (str as UTF-8, int in decimal, as redis-py encodes them);
    anything else is refused (a float's text is the caller's choice)."""
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
    channels use a handful: their TTLs are settings)."""
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
