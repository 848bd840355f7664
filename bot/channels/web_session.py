"""Web chat sessions: the server names the shopper, never the client.

A session is a random token the server issues in an HttpOnly, SameSite=Lax cookie (Secure when the
request came over https). The shopper's id on the ``web`` channel, the *pseudonym*, is derived from the
token by a one-way hash, so what the database, Redis keys and logs hold cannot be replayed as a
cookie, and nothing a client writes in a request body or query string can select another shopper.
Losing the cookie loses the session; the shopper signs back in with a code sent to their phone
(the account flow), which joins the new session to their account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from aiohttp import web

COOKIE = "shopbot_session"
#: 32 random bytes, URL-safe base64: what :func:`new_token` issues and nothing else is accepted
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_MAX_AGE = 180 * 86400


@dataclass(frozen=True, slots=True)
class WebSession:
    """One browser's session: ``pseudonym`` is its user id on the web channel; ``issued`` says the
    cookie must be (re)sent with the response."""

    token: str
    issued: bool

    @property
    def pseudonym(self) -> str:
        return "w" + hashlib.sha256(self.token.encode()).hexdigest()[:40]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def existing_session(request: web.Request) -> WebSession | None:
    """The request's session, or None when the cookie is missing or not one we could have issued."""
    token = request.cookies.get(COOKIE, "")
    return WebSession(token, issued=False) if _TOKEN.fullmatch(token) else None


def session_of(request: web.Request) -> WebSession:
    """The request's session, or a new one (sent back by :func:`remember`)."""
    return existing_session(request) or WebSession(new_token(), issued=True)


def remember(
    request: web.Request, response: web.StreamResponse, session: WebSession, *, public_url: str = ""
) -> None:
    """Send the cookie when the session is new. HttpOnly: page scripts never see it; SameSite=Lax:
    other sites' forms do not carry it; Secure when served over https (directly, or behind a proxy
    at an https public URL)."""
    if session.issued:
        response.set_cookie(
            COOKIE,
            session.token,
            max_age=_MAX_AGE,
            path="/",
            httponly=True,
            samesite="Lax",
            secure=request.secure or public_url.startswith("https://"),
        )
