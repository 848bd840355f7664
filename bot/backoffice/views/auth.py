"""Signing in (password, then the second factor when the account has one), out, and out everywhere.

The core decides: ``authenticate`` refuses unknown emails, wrong passwords and disabled accounts with
ONE error (so the page cannot be used to find accounts), locks an account after repeated failures and
audits every attempt. The web side only keeps the core's opaque second-factor challenge between the
two forms, never the password.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice import session as cookie
from bot.backoffice.pages import (
    field,
    form,
    operators,
    redirect,
    render,
    secret_field,
    start_session,
    text,
    visit,
)
from commerce_core.operators.types import AccountLocked, LoginRefused, SecondFactorRequired

EMAIL_LIMIT = 254


async def login_page(request: web.Request) -> web.StreamResponse:
    if visit(request).operator is not None:
        raise redirect(request, "home")
    return render(request, "login.html", email="")


async def login_submit(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    email, password = field(values, "email", EMAIL_LIMIT), secret_field(values, "password")
    current = visit(request)
    try:
        operator = await operators(request).authenticate(email, password, totp_code=None, ip=current.ip)
    except SecondFactorRequired as pending:
        current.session[cookie.CHALLENGE] = pending.challenge
        raise redirect(request, "login.code") from None
    except AccountLocked as locked:
        message = text(request, "login.locked", until=locked.until.strftime("%H:%M UTC"))
        return render(request, "login.html", status=429, email=email, error=message)
    except LoginRefused:
        return render(request, "login.html", status=401, email=email, error=text(request, "login.refused"))
    await start_session(request, operator)
    raise redirect(request, "home")


async def code_page(request: web.Request) -> web.StreamResponse:
    if not isinstance(visit(request).session.get(cookie.CHALLENGE), str):
        raise redirect(request, "login")
    return render(request, "login_code.html")


async def code_submit(request: web.Request) -> web.StreamResponse:
    current = visit(request)
    challenge = current.session.get(cookie.CHALLENGE)
    if not isinstance(challenge, str):
        raise redirect(request, "login")
    code = field(await form(request), "code", 12).replace(" ", "")
    try:
        operator = await operators(request).authenticate_second_factor(challenge, code, ip=current.ip)
    except AccountLocked as locked:
        current.session.pop(cookie.CHALLENGE, None)
        message = text(request, "login.locked", until=locked.until.strftime("%H:%M UTC"))
        return render(request, "login.html", status=429, email="", error=message)
    except LoginRefused:
        # A wrong code keeps the step open (the core counts it towards the lockout); an expired or
        # forged challenge is refused the same way and the next try goes back to the password.
        return render(request, "login_code.html", status=401, error=text(request, "login.code_refused"))
    await start_session(request, operator)
    raise redirect(request, "home")


async def logout(request: web.Request) -> web.StreamResponse:
    current = visit(request)
    me = current.me()
    await operators(request).record(current.actor, "logout", "operator", me.public_id)
    cookie.sign_out(current.session)
    raise redirect(request, "login")


async def logout_everywhere(request: web.Request) -> web.StreamResponse:
    """Bump the account's session epoch: this and every other browser's session stop counting."""
    current = visit(request)
    await operators(request).end_sessions(current.me().public_id, current.actor)
    cookie.sign_out(current.session)
    raise redirect(request, "login")


async def home(request: web.Request) -> web.StreamResponse:
    return render(request, "home.html")
