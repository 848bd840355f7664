"""``SHOPBOT_REDIS_URL`` naming a Redis Cluster (issue 16, R3.3-5): which client each URL builds, and
what it carries over from the URL (nodes, credentials, TLS, options). No server needed: the cluster
client connects on first use (``tests/scale/test_redis_cluster.py`` runs against a real cluster)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from bot.infra.redis import is_cluster_url, make_cluster, make_redis


def nodes_of(client: RedisCluster) -> set[str]:
    return set(client.nodes_manager.startup_nodes)


async def test_a_cluster_url_lists_its_startup_nodes_and_keeps_credentials_and_options() -> None:
    client = make_cluster("redis+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001/0?socket_timeout=2.5")
    try:
        assert nodes_of(client) == {"10.0.0.1:7000", "10.0.0.2:7001"}
        kwargs = client.connection_kwargs
        assert kwargs["username"] == "app" and kwargs["password"] == "s@cret"
        assert kwargs["socket_timeout"] == 2.5
    finally:
        await client.aclose()


async def test_tls_and_single_node_urls() -> None:
    client = make_cluster("rediss+cluster://:pw@cache.internal:6380")
    try:
        assert nodes_of(client) == {"cache.internal:6380"}
        assert client.connection_kwargs["password"] == "pw"
        assert "ssl" in str(client.connection_kwargs.get("connection_class", "")).lower()
    finally:
        await client.aclose()


async def test_which_client_each_url_builds() -> None:
    """Plain ``redis://`` keeps the single-server client; the cluster schemes build the cluster one."""
    assert is_cluster_url("redis+cluster://h:1") and is_cluster_url("REDISS+CLUSTER://h:1")
    assert not is_cluster_url("redis://h:6379/0") and not is_cluster_url("memory://")
    single = make_redis("redis://127.0.0.1:6379/3")
    cluster = make_redis("redis+cluster://127.0.0.1:7000")
    try:
        assert isinstance(single, aioredis.Redis) and not isinstance(single, RedisCluster)
        assert isinstance(cluster, RedisCluster)
    finally:
        await single.aclose()
        await cluster.aclose()


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://host", "redis+cluster://h:port"])
def test_a_cluster_url_without_a_usable_node_is_refused_clearly(url: str) -> None:
    with pytest.raises(ValueError, match="node"):
        make_cluster(url)
