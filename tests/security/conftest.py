"""Fixtures of tests/http (the real runtime behind aiohttp) and tests/wechat (a WeChat world with a fake
WeChat) for the security tests; the database follows the root's ``db_url`` (SQLite and PostgreSQL)
unless a test pins it."""

from tests.http.conftest import client
from tests.wechat.conftest import world

__all__ = ["client", "world"]
