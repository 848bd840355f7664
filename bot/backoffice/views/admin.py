"""Admin pages: the users (list, create, one user and what an admin may do to it) and the audit log.

Every change goes through the core service, which writes the audit row (who, what, which object, when,
from which address); the route table lets only ``MANAGE_USERS`` / ``VIEW_AUDIT`` roles in.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from aiohttp import web

from bot.backoffice.i18n import LANGUAGES, supported
from bot.backoffice.pages import (
    field,
    flash,
    form,
    operators,
    problem,
    redirect,
    render,
    secret_field,
    text,
    visit,
)
from commerce_core.api import InvalidInput, NotAllowed, NotFound
from commerce_core.operators.types import AuditFilter, OperatorRole

AUDIT_PAGE = 50
ROLES = tuple(OperatorRole)
USER_FIELDS = ("email", "role", "merchant_code", "display_name", "language")
AUDIT_FIELDS = ("actor", "action", "object_type", "object_id")


def _role(value: str) -> OperatorRole | None:
    try:
        return OperatorRole(value)
    except ValueError:
        return None


async def users(request: web.Request) -> web.StreamResponse:
    role = _role(request.query.get("role", ""))
    listed = await operators(request).list_users(role=role)
    return render(request, "users.html", users=listed, roles=ROLES, role=role)


async def new_user_page(request: web.Request) -> web.StreamResponse:
    return render(request, "user_new.html", roles=ROLES, draft={}, language_codes=LANGUAGES)


async def new_user_submit(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    draft = {name: field(values, name) for name in USER_FIELDS}
    role = _role(draft["role"])
    language = supported(draft["language"]) or visit(request).language
    error: str | None = None
    if role is None:
        error = text(request, "form.invalid")
    else:
        try:
            created = await operators(request).create(
                draft["email"],
                secret_field(values, "password"),
                role,
                merchant_code=draft["merchant_code"] or None,
                display_name=draft["display_name"],
                language=language,
                actor=visit(request).actor,
            )
        except (InvalidInput, NotFound, NotAllowed) as refused:
            error = problem(request, refused)
        else:
            flash(request, "users.created")
            raise redirect(request, "user", public_id=created.public_id)
    return render(
        request, "user_new.html", status=400, roles=ROLES, draft=draft, language_codes=LANGUAGES, error=error
    )


async def user(request: web.Request) -> web.StreamResponse:
    public_id = request.match_info["public_id"]
    shown = await operators(request).get(public_id)  # NotFound -> the guard's 404 page
    identities = await operators(request).identities_of(public_id)
    return render(request, "user.html", user=shown, identities=identities)


async def user_action(request: web.Request) -> web.StreamResponse:
    """One of the admin's buttons on a user's page; the route's ``{action}`` picks which."""
    public_id, action = request.match_info["public_id"], request.match_info["action"]
    service, actor = operators(request), visit(request).actor
    await service.get(public_id)  # an unknown id is a 404 whatever the action
    try:
        if action == "disable":
            await service.disable(public_id, actor)
        elif action == "enable":
            await service.enable(public_id, actor)
        elif action == "end-sessions":
            await service.end_sessions(public_id, actor)
        elif action == "reset-totp":
            await service.reset_totp(public_id, actor)
        else:
            await service.reset_password(public_id, secret_field(await form(request), "password"), actor)
    except (InvalidInput, NotAllowed) as refused:  # a weak password, disabling oneself ...
        shown, identities = await service.get(public_id), await service.identities_of(public_id)
        error = problem(request, refused)
        return render(request, "user.html", status=400, user=shown, identities=identities, error=error)
    flash(request, f"users.done.{action}")
    raise redirect(request, "user", public_id=public_id)


def _day(value: str, *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` as the start (or the end) of that UTC day; raises ValueError on anything else."""
    if not value:
        return None
    day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    return day + timedelta(days=1) - timedelta(microseconds=1) if end else datetime.combine(day, time(), UTC)


async def audit(request: web.Request) -> web.StreamResponse:
    query = request.query
    shown = {name: query.get(name, "").strip()[:120] for name in AUDIT_FIELDS}
    dates = {name: query.get(name, "").strip()[:10] for name in ("since", "until")}
    try:
        page = max(0, min(int(query.get("page", "0") or 0), 10_000))
        since, until = _day(dates["since"], end=False), _day(dates["until"], end=True)
    except ValueError:
        return render(
            request,
            "audit.html",
            status=400,
            entries=[],
            shown=shown,
            dates=dates,
            page=0,
            more=False,
            error=text(request, "audit.bad_filter"),
        )
    wanted = AuditFilter(
        actor_email=shown["actor"].lower() or None,
        action=shown["action"] or None,
        object_type=shown["object_type"] or None,
        object_id=shown["object_id"] or None,
        since=since,
        until=until,
    )
    entries = await operators(request).audit_log(wanted, limit=AUDIT_PAGE + 1, offset=page * AUDIT_PAGE)
    return render(
        request,
        "audit.html",
        entries=entries[:AUDIT_PAGE],
        shown=shown,
        dates=dates,
        page=page,
        more=len(entries) > AUDIT_PAGE,
    )
