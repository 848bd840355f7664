"""Behaviour-event settings (``SHOPBOT_ANALYTICS_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_ANALYTICS_", extra="ignore")

    #: record behaviour events (searches, views, cart adds ...) for the dashboard
    enabled: bool = True
    #: days of events kept; older days are deleted by the background jobs (R7.1-3 retention)
    retention_days: int = Field(default=180, ge=1, le=3650)
    #: events wait in memory at most this long before one batched write (a COPY on PostgreSQL) stores them
    flush_seconds: float = Field(default=2.0, gt=0, le=300)
    batch_size: int = Field(default=500, ge=1, le=10_000)
