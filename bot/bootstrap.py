"""The composition root: one function wires the whole system from settings.

Tests pass fakes (a clock, another Redis) through the same function, so production and tests share
the wiring. Nothing is created at import time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis

from bot.infra.redis import make_redis
from bot.settings import Settings, load_settings
from commerce_core.api import Clock, Commerce, CommerceConfig, OrderPolicy, SystemClock, create_engine


@dataclass
class Container:
    settings: Settings
    commerce: Commerce
    redis: aioredis.Redis

    async def aclose(self) -> None:
        await self.commerce.close()
        await self.redis.aclose()


def commerce_config(settings: Settings) -> CommerceConfig:
    assert settings.blind_index_key and settings.sandbox_payment_secret, "load_settings() fills secrets"
    return CommerceConfig(
        encryption_keys=settings.key_list,
        blind_index_key=settings.blind_index_key,
        sandbox_payment_secret=settings.sandbox_payment_secret,
        pay_base_url=settings.public_base_url,
        carrier_speed=settings.carrier_speed,
        order_policy=OrderPolicy(payment_window=timedelta(minutes=settings.payment_window_minutes)),
    )


def bootstrap(
    settings: Settings | None = None, *, clock: Clock | None = None, redis: aioredis.Redis | None = None
) -> Container:
    settings = settings or load_settings()
    engine = create_engine(
        settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow
    )
    commerce = Commerce.build(engine, commerce_config(settings), clock=clock or SystemClock())
    return Container(settings, commerce, redis or make_redis(settings.redis_url))
