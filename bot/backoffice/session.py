"""What the back office keeps in its encrypted session cookie, and the checks that make it safe.

The cookie (aiohttp-session ``EncryptedCookieStorage``: Fernet, so encrypted AND authenticated) holds
only: the operator's public id, the ``session_epoch`` it was issued under, when it was issued, the
per-session CSRF token, the chosen language, and during a two-step login the core's opaque
second-factor challenge. Never a password. A session is refused (and emptied) when the operator is
disabled, gone, its epoch moved (an admin or the operator ended all sessions), or it is too old.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from aiohttp import web
from aiohttp_session import Session, get_session, new_session

from bot.backoffice.ports import OperatorAccounts
from commerce_core.operators.types import OperatorView

OPERATOR = "operator"
EPOCH = "epoch"
SIGNED_IN_AT = "signed_in_at"
CSRF = "csrf"
LANGUAGE = "lang"
CHALLENGE = "challenge"
#: the form field every POST carries
CSRF_FIELD = "csrf"


def csrf_token(session: Session) -> str:
    """The session's CSRF token, created on first use (an anonymous visitor gets one with the login form)."""
    token = session.get(CSRF)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF] = token
    return token


def csrf_matches(session: Session, submitted: object) -> bool:
    """True only when the session has a token and the form sent the same one (constant-time compare)."""
    expected = session.get(CSRF)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


async def sign_in(request: web.Request, operator: OperatorView, now: datetime) -> Session:
    """A brand-new session for ``operator`` (new CSRF token; nothing from before the login survives
    except the chosen language), so a token planted before the login is worthless after it."""
    language = (await get_session(request)).get(LANGUAGE)
    session = await new_session(request)
    session[OPERATOR] = operator.public_id
    session[EPOCH] = operator.session_epoch
    session[SIGNED_IN_AT] = now.timestamp()
    if isinstance(language, str):
        session[LANGUAGE] = language
    csrf_token(session)
    return session


def sign_out(session: Session) -> None:
    """Forget everything; the next page starts an anonymous session with a fresh CSRF token."""
    session.invalidate()


async def signed_in_operator(
    session: Session, operators: OperatorAccounts, now: datetime, lifetime: timedelta
) -> OperatorView | None:
    """The operator this session belongs to, or None (and the session emptied) when it no longer counts."""
    public_id = session.get(OPERATOR)
    if not isinstance(public_id, str):
        return None
    epoch, issued = session.get(EPOCH), session.get(SIGNED_IN_AT)
    fresh = isinstance(issued, int | float) and now.timestamp() - issued <= lifetime.total_seconds()
    operator = await operators.active_session(public_id, epoch) if isinstance(epoch, int) and fresh else None
    if operator is None:
        for key in (OPERATOR, EPOCH, SIGNED_IN_AT):
            session.pop(key, None)
        return None
    return operator
