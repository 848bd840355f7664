"""Same-origin check for state-changing POSTs from browsers (the web chat, the sandbox pay page)."""

from __future__ import annotations

from aiohttp import web


def check_same_origin(request: web.Request) -> None:
    """CSRF: browsers send Origin on cross-site POSTs; refuse any that is not ours."""
    origin = request.headers.get("Origin")
    if origin and origin.split("://", 1)[-1] != request.host:
        raise web.HTTPForbidden(text="cross-site request refused")
