"""Observability settings (``SHOPBOT_METRICS_*``, ``SHOPBOT_LOG_*``): one section of the settings tree.

Metrics are on by default but never public: ``/metrics`` answers on the main port only with the bearer
token, or (``SHOPBOT_METRICS_PORT``) on a separate port meant for the private network Prometheus scrapes.
With neither set, the series are still counted (cheap) but nothing serves them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetricsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_METRICS_", extra="ignore")

    #: count turns, errors, NLU intents ... (off: the pipeline's observer does nothing)
    enabled: bool = True
    #: serve ``/metrics`` on the main HTTP port to requests bearing ``Authorization: Bearer <token>``
    token: str | None = Field(default=None, min_length=16)
    #: serve ``/metrics`` (no token) on this separate port, bound to ``host``; 0: no separate port
    port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"


class LogSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_LOG_", extra="ignore")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: ``json`` for machines (one object a line), ``console`` for people at a terminal
    format: Literal["json", "console"] = "json"
    #: one line per HTTP request (method, route, status, duration, request id; never the query string)
    access_log: bool = True
