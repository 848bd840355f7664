"""Every back-office route and who may use it: the ONE place permissions are decided for the web.

Each route names an :class:`Action` (the core's ``allowed(role, action)`` decides for the operator's
role) or a :class:`Gate` (anyone / any signed-in operator). The guard middleware looks the matched
route up here before the handler runs; a route missing from this table is refused, never let through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

import bot.backoffice.views.listings as listings
import bot.backoffice.views.listings_review as listings_review
from bot.backoffice.pages import Access, Gate
from bot.backoffice.views import (
    account,
    admin,
    agent,
    agent_stream,
    auth,
    cases,
    dashboard,
    dead_letters,
    merchant,
    merchant_cases,
    merchant_orders,
    merchant_questions,
    public,
)
from bot.backoffice.views import alerts as alerts
from bot.backoffice.views import onboarding as onboarding
from bot.backoffice.views import product_reviews as product_reviews
from bot.backoffice.views import reviews as reviews
from bot.backoffice.views.agent_figures import figures as agent_figures
from bot.backoffice.views.agent_figures import photo as agent_photo
from bot.backoffice.views.audit_export import audit_export
from bot.backoffice.views.search import search
from commerce_core.operators.types import Action

OWN = Action.MANAGE_OWN_ACCOUNT
CHAT = Action.HANDLE_CONVERSATIONS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    name: str
    handler: Handler
    access: Access


ROUTES: tuple[Route, ...] = (
    Route("GET", "/", "home", auth.home, Gate.SIGNED_IN),
    Route("GET", "/login", "login", auth.login_page, Gate.PUBLIC),
    Route("POST", "/login", "login.submit", auth.login_submit, Gate.PUBLIC),
    Route("GET", "/login/code", "login.code", auth.code_page, Gate.PUBLIC),
    Route("POST", "/login/code", "login.code.submit", auth.code_submit, Gate.PUBLIC),
    Route("POST", "/logout", "logout", auth.logout, Gate.SIGNED_IN),
    Route("POST", "/logout/everywhere", "logout.everywhere", auth.logout_everywhere, Gate.SIGNED_IN),
    Route("POST", "/language", "language", public.choose_language, Gate.PUBLIC),
    Route("GET", "/signup", "signup", public.signup_page, Gate.PUBLIC),
    Route("POST", "/signup", "signup.submit", public.signup_submit, Gate.PUBLIC),
    # my account
    Route("GET", "/account", "account", account.account, OWN),
    Route("POST", "/account/password", "account.password", account.change_password, OWN),
    Route("POST", "/account/totp", "account.totp", account.totp_begin, OWN),
    Route("POST", "/account/totp/confirm", "account.totp.confirm", account.totp_confirm, OWN),
    Route("POST", "/account/binding", "account.binding", account.binding_code, Action.BIND_CHAT_IDENTITY),
    # admin
    Route("GET", "/users", "users", admin.users, Action.MANAGE_USERS),
    Route("GET", "/users/new", "user.new", admin.new_user_page, Action.MANAGE_USERS),
    Route("POST", "/users/new", "user.new.submit", admin.new_user_submit, Action.MANAGE_USERS),
    Route("GET", "/users/{public_id}", "user", admin.user, Action.MANAGE_USERS),
    Route(
        "POST",
        r"/users/{public_id}/{action:disable|enable|end-sessions|reset-totp|reset-password}",
        "user.action",
        admin.user_action,
        Action.MANAGE_USERS,
    ),
    Route("GET", "/audit", "audit", admin.audit, Action.VIEW_AUDIT),
    Route("GET", "/audit/export.csv", "audit.export", audit_export, Action.VIEW_AUDIT),
    # operator tools: one search box for an order, a shopper (order number or phone) or a case
    Route("GET", "/search", "search", search, Action.HANDLE_CASES),
    # failed shopper turns (dead letters): staff who handle conversations see and retry them
    Route("GET", "/dead-letters", "dead_letters", dead_letters.dead_letters, Action.HANDLE_CONVERSATIONS),
    Route(
        "POST",
        "/dead-letters/{letter_id}/retry",
        "dead_letter.retry",
        dead_letters.retry,
        Action.HANDLE_CONVERSATIONS,
    ),
    # anomaly alerts and fake-order signals (R3.4-2, R4.1-6): platform staff list and acknowledge them
    Route("GET", "/alerts", "alerts", alerts.alerts, Action.HANDLE_ALERTS),
    Route(
        "POST",
        r"/alerts/{public_id:AL[0-9A-Z]{10}}/acknowledge",
        "alert.acknowledge",
        alerts.acknowledge,
        Action.HANDLE_ALERTS,
    ),
    # sales and funnel dashboard: admins the whole shop, a merchant owner its own (views/dashboard.py)
    Route("GET", "/dashboard", "dashboard", dashboard.dashboard, Action.VIEW_DASHBOARD),
    Route("GET", "/dashboard.csv", "dashboard.csv", dashboard.dashboard_csv, Action.VIEW_DASHBOARD),
    # merchant console
    Route("GET", "/merchant/products", "merchant.products", merchant.products, Action.VIEW_OWN_MERCHANT),
    Route("GET", "/merchant/products/{code}", "merchant.product", merchant.product, Action.VIEW_OWN_MERCHANT),
    # the order list with filters and its CSV, my part's cancellation, settlement (views/merchant_orders.py)
    Route("GET", "/merchant/orders", "merchant.orders", merchant_orders.orders, Action.VIEW_OWN_MERCHANT),
    Route(
        "GET",
        "/merchant/orders/rows",
        "merchant.order_rows",
        merchant_orders.order_rows,
        Action.VIEW_OWN_MERCHANT,
    ),
    Route(
        "GET",
        "/merchant/orders.csv",
        "merchant.orders_csv",
        merchant_orders.orders_csv,
        Action.VIEW_OWN_MERCHANT,
    ),
    Route(
        "POST",
        "/merchant/orders/{number}/cancel",
        "merchant.cancel",
        merchant_orders.cancel,
        Action.SHIP_OWN_ORDERS,
    ),
    Route(
        "GET",
        "/merchant/settlement",
        "merchant.settlement",
        merchant_orders.settlement,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route(
        "GET",
        "/merchant/settlement.csv",
        "merchant.settlement_csv",
        merchant_orders.settlement_csv,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route("GET", "/merchant/orders/{number}", "merchant.order", merchant.order, Action.VIEW_OWN_MERCHANT),
    # agent console (live handoff)
    Route("GET", "/agent", "agent.queue", agent.queue, CHAT),
    Route("GET", "/agent/queue", "agent.queue.rows", agent.queue_rows, CHAT),
    Route("GET", "/agent/stream", "agent.stream", agent_stream.stream, CHAT),
    Route("GET", "/agent/c/{number}", "agent.conversation", agent.conversation, CHAT),
    Route("GET", "/agent/c/{number}/history", "agent.history", agent.history, CHAT),
    Route("GET", "/agent/c/{number}/photo/{seq}", "agent.photo", agent_photo, CHAT),
    Route("GET", "/agent/figures", "agent.figures", agent_figures, CHAT),
    Route(
        "POST",
        r"/agent/c/{number}/{action:claim|assign|release|reply|note|resolve|feedback}",
        "agent.act",
        agent.act,
        CHAT,
    ),
    Route("POST", "/merchant/orders/{number}/ship", "merchant.ship", merchant.ship, Action.SHIP_OWN_ORDERS),
    # shoppers' product questions the bot could not answer (R4.1-4; views/merchant_questions.py)
    Route(
        "GET",
        "/merchant/questions",
        "merchant.questions",
        merchant_questions.questions,
        Action.VIEW_OWN_MERCHANT,
    ),
    Route(
        "GET",
        "/merchant/questions/rows",
        "merchant.question_rows",
        merchant_questions.question_rows,
        Action.VIEW_OWN_MERCHANT,
    ),
    Route(
        "POST",
        "/merchant/questions/{question}/answer",
        "merchant.question.answer",
        merchant_questions.answer,
        Action.SHIP_OWN_ORDERS,
    ),
    # the after-sales desk: staff decide and arbitrate; the merchant of the items accepts returns
    Route("GET", "/cases", "cases", cases.queue, Action.HANDLE_CASES),
    Route("GET", "/cases/{number}", "case", cases.detail, Action.HANDLE_CASES),
    Route(
        "POST",
        r"/cases/{number}/{action:accept|reject|ask|refund|exchange|received|repair|close}",
        "case.act",
        cases.act,
        Action.HANDLE_CASES,
    ),
    Route("GET", "/merchant/cases", "merchant.cases", merchant_cases.cases, Action.VIEW_OWN_MERCHANT),
    Route("GET", "/merchant/cases/{number}", "merchant.case", merchant_cases.case, Action.VIEW_OWN_MERCHANT),
    Route(
        "POST",
        r"/merchant/cases/{number}/{action:accept|address}",
        "merchant.case.act",
        merchant_cases.act,
        Action.MANAGE_OWN_MERCHANT,
    ),
    # listings (R4.3): merchants enter and edit, reviewers decide; images are public (product cards)
    Route("GET", "/merchant/listings/new", "listings.new", listings.new_page, Action.MANAGE_OWN_MERCHANT),
    Route(
        "POST",
        "/merchant/listings/new",
        "listings.new.submit",
        listings.new_submit,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route(
        "GET",
        "/merchant/listings/import",
        "listings.csv",
        listings.import_page,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route(
        "POST",
        "/merchant/listings/import",
        "listings.csv.submit",
        listings.import_submit,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route("GET", "/merchant/listings/{code}", "listings.detail", listings.detail, Action.VIEW_OWN_MERCHANT),
    Route(
        "POST", "/merchant/listings/{code}/edit", "listings.edit", listings.edit, Action.MANAGE_OWN_MERCHANT
    ),
    Route(
        "POST",
        "/merchant/listings/{code}/stock",
        "listings.stock",
        listings.stock_price,
        Action.MANAGE_OWN_MERCHANT,
    ),
    Route(
        "GET",
        "/listings/image/{owner}/{digest}/{major}/{minor}/{size}",
        "listings.image",
        listings.image,
        Gate.PUBLIC,
    ),
    Route("GET", "/review/listings", "listings.queue", listings_review.queue, Action.REVIEW_LISTINGS),
    Route("GET", "/review/listings/{item_id}", "listings.item", listings_review.item, Action.REVIEW_LISTINGS),
    Route(
        "POST",
        r"/review/listings/{item_id}/{decision:approve|reject}",
        "listings.decide",
        listings_review.decide,
        Action.REVIEW_LISTINGS,
    ),
    # merchant onboarding (R4.2-1/2): the applicant's side; files: reviewers and the applicant (core decides)
    Route("GET", "/apply", "onboarding.apply", onboarding.apply_page, Action.APPLY_AS_MERCHANT),
    Route("POST", "/apply", "onboarding.apply.submit", onboarding.apply_submit, Action.APPLY_AS_MERCHANT),
    Route("POST", "/apply/activate", "onboarding.activate", onboarding.activate, Action.APPLY_AS_MERCHANT),
    Route(
        "GET",
        "/applications/{public_id}/files/{kind}",
        "onboarding.file",
        onboarding.document,
        Gate.SIGNED_IN,
    ),
    # the reviewers' queue and merchant freezing (R4.2-2/3)
    Route("GET", "/reviews/applications", "reviews.queue", reviews.queue, Action.REVIEW_MERCHANTS),
    Route(
        "GET",
        "/reviews/applications/{public_id}",
        "reviews.application",
        reviews.application,
        Action.REVIEW_MERCHANTS,
    ),
    Route(
        "POST",
        r"/reviews/applications/{public_id}/{decision:approve|reject}",
        "reviews.decide",
        reviews.decide,
        Action.REVIEW_MERCHANTS,
    ),
    Route("GET", "/merchants", "reviews.merchants", reviews.merchants, Action.REVIEW_MERCHANTS),
    Route(
        "POST",
        r"/merchants/{code}/{action:freeze|unfreeze}",
        "reviews.freeze",
        reviews.freeze,
        Action.REVIEW_MERCHANTS,
    ),
    # shoppers' product reviews the checks held (R5.3-1): the listing reviewers decide
    Route(
        "GET",
        "/review/product-reviews",
        "product_reviews.queue",
        product_reviews.queue,
        Action.REVIEW_LISTINGS,
    ),
    Route(
        "POST",
        r"/review/product-reviews/{review_id}/{decision:approve|reject}",
        "product_reviews.decide",
        product_reviews.decide,
        Action.REVIEW_LISTINGS,
    ),
)


def add_routes(app: web.Application) -> dict[str, Access]:
    """Register every route on ``app`` and return the name -> access table the guard consults."""
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    return {route.name: route.access for route in ROUTES}
