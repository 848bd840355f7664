"""The HTTP fixtures of tests/http (the real runtime behind aiohttp) for the security tests."""

from tests.http.conftest import client

__all__ = ["client"]
