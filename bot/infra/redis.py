"""Redis clients: a real server for ``redis://`` URLs, a Redis Cluster for ``redis+cluster://`` URLs,
an in-process store for ``memory://``.

Redis Cluster (issue 16): ``SHOPBOT_REDIS_URL=redis+cluster://host:port[,host:port...]`` (or
``rediss+cluster://`` for TLS; ``user:password@`` and query options as for ``redis://``) builds
redis-py's asyncio ``RedisCluster`` with every listed node as a startup node (one is enough, more
survive one being down at start). Every multi-key operation of the app keeps its keys in one hash slot
(``{conv:...}`` per conversation, ``{tg:<bot>}`` per Telegram bot, ...; the list is in
``docs/scaling.md``), so scripts and transactions run unchanged on a cluster.
"""

from __future__ import annotations

from typing import Any, Protocol, cast
from urllib.parse import parse_qsl, unquote

import redis.asyncio as aioredis
import redis.asyncio.client as _client_module
import redis.asyncio.connection as _connection_module
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.driver_info import DriverInfo
from redis.observability.providers import get_observability_instance

from bot.infra.redis_parser import NonWaitingHiredisParser

CLUSTER_SCHEMES = {"redis+cluster": False, "rediss+cluster": True}


def is_cluster_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def make_redis(url: str) -> aioredis.Redis:
    """``memory://`` gives fakeredis (Redis-compatible, in this process); a cluster URL the cluster
    client (see :func:`make_cluster`); anything else a real client."""
    if url.startswith("memory://"):
        import fakeredis

        server = fakeredis.FakeServer()
        client: Any = fakeredis.FakeAsyncRedis(server=server, decode_responses=False)
        return client  # type: ignore[no-any-return]
    if is_cluster_url(url):
        # Why the cast: the app is typed against ``redis.asyncio.Redis``; ``RedisCluster`` has the same
        # commands (and routes each by its keys' slot), pipelines, scripts and locks, but is not a subclass
        return cast(aioredis.Redis, make_cluster(url))
    # one DriverInfo for the whole pool: without it every new connection resolves it again, and that
    # reads redis-py's package metadata from disk (~4 ms of CPU per connection; a pool growing to 100
    # connections under load spent more CPU on that than on a hundred turns)
    # the parser: a stale-data check before each command that does not wait (see ``redis_parser``)
    skip_disabled_metrics()
    return aioredis.from_url(
        url, decode_responses=False, driver_info=DriverInfo(), parser_class=NonWaitingHiredisParser
    )


#: redis-py's per-command metric hooks, by the module that calls them (see :func:`skip_disabled_metrics`)
_PER_COMMAND_METRICS = (
    (_client_module, "record_operation_duration"),  # after every command
    (_connection_module, "record_connection_count"),  # 4 per command: pool checkout and checkin
)


async def _no_metric(*args: Any, **kwargs: Any) -> None:
    """Stands in for a redis-py metric hook while its telemetry is off (it would return at once)."""


def skip_disabled_metrics() -> bool:
    """Stop redis-py 7 looking for its telemetry on every command when telemetry is off; returns
    whether the hooks are (now) skipped.

    Why: each asyncio command awaits ``record_operation_duration`` and the pool four
    ``record_connection_count``; each of them asks ``get_observability_instance()`` for a provider
    manager and only then finds telemetry off (the answer is not cached while off). That is 22
    Python calls per GET, ~9 % of the client's calls (cProfile of 2,000 GET/SET: 44,000 of 481,000
    calls); redis-py has no switch for it (7.4.1). So, while nothing in this process has
    initialised redis-py's telemetry (``get_observability_instance().init``), the names those
    modules call are bound to a no-op. Shopbot never initialises it (its own metrics are in
    ``bot.observability``); whoever does must do it before the first client is made, and the hooks
    are then left alone. Error, connection-creation and close hooks (rare) stay as they are.
    """
    if get_observability_instance().get_provider_manager() is not None:
        return False
    for module, name in _PER_COMMAND_METRICS:
        if hasattr(module, name):  # a later redis-py may have moved it: then nothing to skip
            setattr(module, name, _no_metric)
    return True


def make_cluster(url: str) -> RedisCluster:
    """``redis+cluster://[user:password@]host:port[,host:port...][?option=value...]``."""
    scheme, _, rest = url.partition("://")
    tls = CLUSTER_SCHEMES[scheme.lower()]
    location, _, query = rest.partition("?")
    netloc = location.split("/", 1)[0]  # a ``/0`` database is meaningless on a cluster (always 0)
    credentials, _, hosts = netloc.rpartition("@")
    nodes = [_node(address) for address in hosts.split(",") if address]
    if not nodes:
        raise ValueError(f"no cluster node in the Redis URL (expected host:port[,host:port]): {url!r}")
    options: dict[str, Any] = {}
    if credentials:
        username, has_password, password = credentials.partition(":")
        if has_password:
            options["username"], options["password"] = unquote(username) or None, unquote(password)
        else:  # ``redis://secret@host`` style: the password alone
            options["password"] = unquote(username)
    for name, value in parse_qsl(query):
        options[name] = _option(value)
    return RedisCluster(startup_nodes=nodes, decode_responses=False, ssl=tls, **options)


def _node(address: str) -> ClusterNode:
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a cluster node is host:port, not {address!r}")
    return ClusterNode(host.strip("[]"), int(port))


def _option(value: str) -> Any:
    """Query options as redis-py's ``from_url`` reads them: numbers and yes/no become values."""
    lowered = value.lower()
    if lowered in {"true", "yes"}:
        return True
    if lowered in {"false", "no"}:
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


class AsyncKeyValue(Protocol):
    """The few commands the dialogs' state store and the core's phone verifier use (their
    ``RedisLike`` and ``KeyValueStore`` protocols are subsets of this one)."""

    async def get(self, name: str) -> Any: ...

    async def set(self, name: str, value: Any, ex: Any = None, nx: bool = False) -> Any: ...

    async def delete(self, *names: str) -> Any: ...

    async def incr(self, name: str, amount: int = 1) -> Any: ...


def as_async_store(client: aioredis.Redis | aioredis.client.Pipeline) -> AsyncKeyValue:
    """The asyncio client (or its pipeline) seen through :class:`AsyncKeyValue`.

    Why a cast: redis-py has one set of stubs for its sync and async clients, so every command is
    typed "awaitable or value"; the asyncio client always returns awaitables.

    A pipeline is wrapped (:class:`QueuedCommands`): awaiting a command queued on redis-py's
    *cluster* pipeline re-initialises that pipeline and drops what was queued before (the state write
    of a turn vanished on a cluster), so the wrapper queues without ever awaiting the pipeline.
    """
    if isinstance(client, aioredis.client.Pipeline | ClusterPipeline):
        return QueuedCommands(client)
    return cast(AsyncKeyValue, client)


class QueuedCommands:
    """:class:`AsyncKeyValue` over a pipeline (plain or cluster): each call queues one command; the
    results come from the pipeline's ``execute()``."""

    def __init__(self, pipeline: aioredis.client.Pipeline | ClusterPipeline) -> None:
        self._pipeline: Any = pipeline

    async def get(self, name: str) -> None:
        self._pipeline.get(name)

    async def set(self, name: str, value: Any, ex: Any = None, nx: bool = False) -> None:
        self._pipeline.set(name, value, ex=ex, nx=nx)

    async def delete(self, *names: str) -> None:
        self._pipeline.delete(*names)

    async def incr(self, name: str, amount: int = 1) -> None:
        self._pipeline.incr(name, amount)
