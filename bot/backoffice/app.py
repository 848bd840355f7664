"""The back office: server-rendered pages for staff and merchants, mounted under ``/admin``.

How a request goes (outermost first): the headers middleware puts the strict CSP on every answer
(scripts, styles and images only from this origin; no inline code; the one script is the vendored
htmx); aiohttp-session decrypts the session cookie; the guard resolves who is signed in, checks the
CSRF token on every POST, looks the route up in ``bot.backoffice.routes`` (the one permission table),
and turns the core's NotFound/NotAllowed/bad input into 404/403/400 pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from aiohttp_session import get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.backoffice import session as cookie
from bot.backoffice.config import BackofficeConfig, backoffice_config
from bot.backoffice.i18n import from_accept_language, load_catalogues, supported
from bot.backoffice.pages import (
    ACCESS,
    ALLOWED,
    CATALOGUES,
    CLOCK,
    CONFIG,
    FULFILMENT,
    OPERATORS,
    VISIT,
    Allowed,
    Gate,
    Visit,
    render,
)
from bot.backoffice.ports import OperatorAccounts
from bot.backoffice.routes import add_routes
from bot.backoffice.views.agent_desk import (
    DESK,
    AgentDesk,
    CommerceShopperRecords,
    WeChatReach,
    handoff_files,
)
from bot.backoffice.views.cases import CASE_DESK, CaseDeskPages
from bot.backoffice.views.dashboard import FIGURES as DASHBOARD_FIGURES
from bot.backoffice.views.listings import IMAGES, LISTINGS
from bot.backoffice.views.merchant_cases import MERCHANT_CASES, MerchantCasePages
from bot.backoffice.views.merchant_orders import MERCHANT_ORDERS, MerchantOrderPages
from bot.backoffice.views.merchant_questions import MERCHANT_QUESTIONS
from bot.backoffice.views.onboarding import DESK as ONBOARDING
from bot.backoffice.views.onboarding import OnboardingDesk
from bot.backoffice.views.search import SEARCH, ShopSearch
from bot.settings import Settings
from bot.uploads import DOCUMENT_MAX, MIB, upload_store
from commerce_core.api import Clock, Commerce, DomainError, NotAllowed, NotFound, allowed, pick_language
from commerce_core.api import LocalFileStore as LocalFileStore

PREFIX = "/admin"
#: the largest uploaded licence or permit ("document"); product images may have 10 MiB (bot.uploads)
UPLOAD_MAX = DOCUMENT_MAX
#: the one rule for bodies that carry files, per route: a signed-in operator's multipart POST to one of
#: these routes may be this large (an application's eight documents; a listing's photos or a CSV file
#: and the form). Every other request keeps the HTTP app's small limit; the file store then checks each
#: file's own size (per kind, ``FILE_LIMITS``) and type.
UPLOAD_BODY_LIMITS = {
    "onboarding.apply.submit": 8 * UPLOAD_MAX,
    "listings.new.submit": 11 * MIB,
    "listings.edit": 11 * MIB,
    "listings.csv.submit": 11 * MIB,
}
COOKIE_NAME = "shopbot_backoffice"
STATIC = Path(__file__).parent / "static"
STATIC_ROUTE = "static"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: only when the public URL is https: browsers then refuse plain http to this host for a year
HTTPS_ONLY = {"Strict-Transport-Security": "max-age=31536000"}


def setup_backoffice(
    app: web.Application,
    commerce: Commerce,
    settings: Settings,
    *,
    config: BackofficeConfig | None = None,
    prefix: str = PREFIX,
) -> web.Application:
    """Mount the back office on ``app`` under ``prefix``; the one call the HTTP app makes."""
    backoffice = create_backoffice(
        commerce.operators, commerce.clock, config or backoffice_config(settings), cookie_path=prefix
    )
    backoffice[DESK] = AgentDesk(  # the agent console
        commerce.support,
        CommerceShopperRecords(commerce),
        wechat=WeChatReach(settings.wechat.window_hours, bool(settings.wechat.notice_template_id)),
        files=handoff_files(settings.data_dir),
    )
    backoffice[FULFILMENT] = commerce.shipments  # the merchant console ships its own order parts
    backoffice[SEARCH] = ShopSearch(commerce)  # the operators' search box
    backoffice[CASE_DESK] = CaseDeskPages(commerce.cases)  # the after-sales desk (staff)
    backoffice[MERCHANT_CASES] = MerchantCasePages(commerce.case_parties)  # cases on a merchant's items
    # merchants' order tools: filters and CSV, cancelling a part they cannot fill, settlement
    backoffice[MERCHANT_ORDERS] = MerchantOrderPages(commerce.merchant_orders, commerce.settlements)
    backoffice[MERCHANT_QUESTIONS] = commerce.questions  # shoppers' questions for the seller (R4.1-4)
    backoffice[LISTINGS] = commerce  # listings: merchants' entry and the reviewers' queue
    # one store for the uploads under the data folder: product images, applicants' documents
    files = upload_store(settings.data_dir)
    backoffice[IMAGES] = files
    backoffice[ONBOARDING] = OnboardingDesk(commerce, files)  # applications, their review, freezing
    backoffice[DASHBOARD_FIGURES] = commerce.analytics  # sales and funnel figures (views/dashboard.py)
    app.add_subapp(prefix, backoffice)
    return backoffice


def create_backoffice(
    operators: OperatorAccounts,
    clock: Clock,
    config: BackofficeConfig,
    *,
    cookie_path: str = PREFIX,
    permits: Allowed = allowed,
) -> web.Application:
    """The back office as its own aiohttp application, from exactly what it needs (the operator
    service, a clock, its config), so tests build it without a runtime and ``permits`` can be swapped
    to prove the permission table is the core's."""
    storage = EncryptedCookieStorage(
        hashlib.sha256(config.secret.encode()).digest(),
        cookie_name=COOKIE_NAME,
        path=cookie_path,
        max_age=int(config.session_lifetime.total_seconds()),
        secure=config.secure_cookies,
        httponly=True,
        samesite="Strict",
    )
    headers = security_headers(HEADERS | (HTTPS_ONLY if config.secure_cookies else {}))
    backoffice = web.Application(middlewares=[headers, session_middleware(storage), guard])
    backoffice[OPERATORS] = operators
    backoffice[CLOCK] = clock
    backoffice[CONFIG] = config
    backoffice[CATALOGUES] = load_catalogues()
    backoffice[ALLOWED] = permits
    aiohttp_jinja2.setup(
        backoffice,
        loader=jinja2.PackageLoader("bot.backoffice", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
        trim_blocks=True,
        lstrip_blocks=True,
        filters=FILTERS,
    )
    access = add_routes(backoffice)
    backoffice.router.add_static("/static", STATIC, name=STATIC_ROUTE)
    backoffice[ACCESS] = {**access, STATIC_ROUTE: Gate.PUBLIC}
    return backoffice


def security_headers(headers: dict[str, str]) -> Middleware:
    """The middleware that puts ``headers`` on every answer, redirects and error pages included."""

    @web.middleware
    async def add_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as answer:
            answer.headers.update(headers)
            raise
        response.headers.update(headers)
        return response

    return add_headers


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who, CSRF, permission, then the handler; the core's refusals become error pages."""
    if request.match_info.route.name == STATIC_ROUTE:  # public files: no session, no database read
        return await handler(request)
    app = request.app
    session = await get_session(request)
    now = app[CLOCK].now()
    operator = await cookie.signed_in_operator(session, app[OPERATORS], now, app[CONFIG].session_lifetime)
    body_limit = UPLOAD_BODY_LIMITS.get(request.match_info.route.name or "")
    if body_limit and operator is not None and request.content_type == "multipart/form-data":
        request = request.clone(client_max_size=body_limit)  # the session object travels on
    language = (
        supported(session.get(cookie.LANGUAGE))
        or (supported(operator.language) if operator else None)
        or from_accept_language(request.headers.get("Accept-Language"))
    )
    request[VISIT] = Visit(operator, language, cookie.csrf_token(session), session, request.remote)

    unmatched = request.match_info.http_exception
    if unmatched is not None:  # no such page (404) or not with this method (405)
        return _error(request, unmatched.status, "not_found" if unmatched.status == 404 else "bad_request")
    access = app[ACCESS].get(request.match_info.route.name or "")
    if access is None:
        return _error(request, 403, "forbidden")
    if request.method == "POST":
        values = await request.post()
        if not cookie.csrf_matches(session, values.get(cookie.CSRF_FIELD)):
            return _error(request, 403, "csrf")
    if access is not Gate.PUBLIC:
        if operator is None:
            raise web.HTTPSeeOther(location=str(app.router["login"].url_for()))
        if access is not Gate.SIGNED_IN and not app[ALLOWED](operator.role, access):
            return _error(request, 403, "forbidden")
    try:
        response: web.StreamResponse = await handler(request)
    except NotFound:
        return _error(request, 404, "not_found")
    except NotAllowed:
        return _error(request, 403, "forbidden")
    except DomainError:
        return _error(request, 400, "bad_request")
    except web.HTTPNotFound:
        return _error(request, 404, "not_found")
    return response


def _when(moment: datetime | None) -> str:
    """Times on the pages: UTC, to the minute, and a dash for "never"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


FILTERS: dict[str, Callable[..., str]] = {"when": _when, "local": pick_language}


def _error(request: web.Request, status: int, reason: str) -> web.Response:
    return render(request, "error.html", status=status, reason=reason)
