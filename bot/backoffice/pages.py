"""What every back-office handler shares: the app's keys, the visit, page rendering and form reading.

Handlers stay small: the guard middleware (``bot.backoffice.app``) has already checked the session,
the CSRF token and the permission before a handler runs, and left a :class:`Visit` on the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import Session
from multidict import MultiDictProxy

from bot.backoffice import session as cookie
from bot.backoffice.config import BackofficeConfig
from bot.backoffice.i18n import LANGUAGE_NAMES, LANGUAGES, Catalogues
from bot.backoffice.ports import Fulfilment, OperatorAccounts
from commerce_core.api import Clock, DomainError
from commerce_core.operators.types import Action, Actor, OperatorRole, OperatorView


class Gate(StrEnum):
    """Access for routes that no single :class:`Action` describes."""

    PUBLIC = "public"  # anyone, signed in or not (login, sign-up, language, static files)
    SIGNED_IN = "signed_in"  # any signed-in operator, whatever the role (home, logout)


Access = Action | Gate


@dataclass(frozen=True, slots=True)
class Visit:
    """One request as the back office sees it: who (maybe nobody), in which language, with which token."""

    operator: OperatorView | None
    language: str
    csrf: str
    session: Session
    ip: str | None

    @property
    def actor(self) -> Actor:
        return Actor(operator_id=self.operator.public_id if self.operator else None, ip=self.ip)

    def me(self) -> OperatorView:
        """The signed-in operator; only called by handlers whose route the guard let in signed-in only."""
        if self.operator is None:
            raise web.HTTPForbidden()
        return self.operator


OPERATORS: web.AppKey[OperatorAccounts] = web.AppKey("backoffice.operators", OperatorAccounts)
FULFILMENT: web.AppKey[Fulfilment] = web.AppKey("backoffice.fulfilment", Fulfilment)
CONFIG: web.AppKey[BackofficeConfig] = web.AppKey("backoffice.config", BackofficeConfig)
CATALOGUES: web.AppKey[Catalogues] = web.AppKey("backoffice.catalogues", Catalogues)
CLOCK: web.AppKey[Clock] = web.AppKey("backoffice.clock", Clock)
#: route name -> who may use it; filled from bot.backoffice.routes.ROUTES, read by the guard only
ACCESS: web.AppKey[dict[str, Access]] = web.AppKey("backoffice.access", dict)
#: the predicate the guard asks, ``allowed(role, action)`` from the core's permission table
Allowed = Callable[[OperatorRole, Action], bool]
ALLOWED: web.AppKey[Allowed] = web.AppKey("backoffice.allowed")
VISIT: web.RequestKey[Visit] = web.RequestKey("backoffice.visit", Visit)

MAX_FIELD = 200
#: session key of the one-shot notice shown on the next page ("Password changed.")
FLASH = "flash"


def visit(request: web.Request) -> Visit:
    return request[VISIT]


def operators(request: web.Request) -> OperatorAccounts:
    return request.app[OPERATORS]


def now(request: web.Request) -> datetime:
    return request.app[CLOCK].now()


def text(request: web.Request, key: str, **params: Any) -> str:
    return request.app[CATALOGUES].text(visit(request).language, key, **params)


def url(request: web.Request, name: str, **parts: str) -> str:
    """The path of a named back-office route (with the mount prefix), e.g. ``url(r, "user", id=...)``."""
    return str(request.app.router[name].url_for(**parts))


def redirect(request: web.Request, name: str, **parts: str) -> web.HTTPSeeOther:
    """After a successful POST: 303 to a page, so a reload never repeats the action."""
    return web.HTTPSeeOther(location=url(request, name, **parts))


def can(request: web.Request, name: str) -> bool:
    """Whether this visitor may open route ``name``: used to show only the links that will work."""
    access = request.app[ACCESS].get(name)
    operator = visit(request).operator
    if access is None:
        return False
    if access is Gate.PUBLIC:
        return True
    if operator is None:
        return False
    return access is Gate.SIGNED_IN or request.app[ALLOWED](operator.role, access)


async def start_session(request: web.Request, operator: OperatorView) -> None:
    """Sign ``operator`` in with a brand-new session (see :func:`bot.backoffice.session.sign_in`); the
    rest of this request (a notice to show next, say) writes to the new session, not the old one."""
    fresh = await cookie.sign_in(request, operator, now(request))
    current = visit(request)
    request[VISIT] = replace(current, operator=operator, session=fresh, csrf=cookie.csrf_token(fresh))


#: the core's error codes a form can meet -> the text that explains them (anything else: "check the form")
PROBLEMS = {
    "company_invalid": "carriers.company_invalid",
    "weak_password": "password.weak",
    "wrong_password": "password.old_wrong",
    "email_taken": "users.email_taken",
    "invalid_email": "form.invalid_email",
    "merchant_not_found": "users.merchant_unknown",
    "merchant_role_mismatch": "users.merchant_unknown",
    "cannot_disable_self": "users.cannot_disable_self",
    "already_shipped": "ship.already_shipped",
    "order_not_shippable": "ship.not_shippable",
    "carrier_invalid": "ship.carrier_invalid",
    "tracking_invalid": "ship.tracking_invalid",
    "tracking_in_use": "ship.tracking_in_use",
}


def problem(request: web.Request, error: DomainError) -> str:
    """The visitor's-language explanation of a refusal from the core, by its stable code."""
    return text(request, PROBLEMS.get(error.code, "form.invalid"))


def flash(request: web.Request, key: str) -> None:
    """Show the text ``key`` once, on the page the POST redirects to."""
    visit(request).session[FLASH] = key


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page in the visitor's language, with the helpers every template uses."""
    current = visit(request)
    catalogues = request.app[CATALOGUES]

    def t(key: str, **params: Any) -> str:
        return catalogues.text(current.language, key, **params)

    def url_for(name: str, **parts: str) -> str:
        return url(request, name, **parts)

    def may(name: str) -> bool:
        return can(request, name)

    notice_key = current.session.pop(FLASH, None)
    page = {
        "notice": t(notice_key) if isinstance(notice_key, str) else None,
        "t": t,
        "url": url_for,
        "can": may,
        "me": current.operator,
        "csrf": current.csrf,
        "lang": current.language,
        # where the language switch returns to: this page, unless it answered a POST (not re-playable)
        "here": request.path_qs if request.method == "GET" else url(request, "home"),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, page, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def form(request: web.Request) -> MultiDictProxy[Any]:
    return await request.post()


def field(values: MultiDictProxy[Any], name: str, limit: int = MAX_FIELD) -> str:
    """One text field, trimmed and cut to ``limit`` characters; a file or a missing field reads as ''."""
    value = values.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def secret_field(values: MultiDictProxy[Any], name: str, limit: int = 256) -> str:
    """A password field: never trimmed (spaces may belong to it), only cut to a sane length."""
    value = values.get(name)
    return value[:limit] if isinstance(value, str) else ""
