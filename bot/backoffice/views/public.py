"""Pages anyone may use without an account: self sign-up as a merchant applicant, and the language."""

from __future__ import annotations

from aiohttp import web

from bot.backoffice import session as cookie
from bot.backoffice.i18n import supported
from bot.backoffice.pages import (
    field,
    form,
    operators,
    problem,
    redirect,
    render,
    secret_field,
    start_session,
    text,
    url,
    visit,
)
from commerce_core.api import InvalidInput

NAME_LIMIT = 80


async def signup_page(request: web.Request) -> web.StreamResponse:
    if visit(request).operator is not None:
        raise redirect(request, "home")
    return render(request, "signup.html", email="", display_name="")


async def signup_submit(request: web.Request) -> web.StreamResponse:
    """Create an applicant account and sign it in; the core validates and audits the sign-up."""
    values = await form(request)
    current = visit(request)
    email, display_name = field(values, "email", 254), field(values, "display_name", NAME_LIMIT)
    password = secret_field(values, "password")
    if password != secret_field(values, "password_again"):
        error = text(request, "password.mismatch")
        return render(request, "signup.html", status=400, email=email, display_name=display_name, error=error)
    try:
        operator = await operators(request).sign_up_applicant(
            email, password, display_name, current.language, current.ip
        )
    except InvalidInput as refused:
        # "email taken" is said gently here: the visitor may simply have an account already
        taken = refused.code == "email_taken"
        error = text(request, "signup.email_taken") if taken else problem(request, refused)
        return render(request, "signup.html", status=400, email=email, display_name=display_name, error=error)
    await start_session(request, operator)
    raise redirect(request, "home")


async def choose_language(request: web.Request) -> web.StreamResponse:
    """Switch the pages' language for this session, then go back to the page the switch was on."""
    values = await form(request)
    current = visit(request)
    language = supported(field(values, "lang", 8))
    if language is None:
        raise web.HTTPBadRequest(text=text(request, "form.invalid"))
    current.session[cookie.LANGUAGE] = language
    if current.operator is not None:
        await operators(request).record(
            current.actor, "language.changed", "operator", current.operator.public_id, detail=language
        )
    back = field(values, "back", 300)
    home = url(request, "home")
    safe = back.startswith(home) and "//" not in back and "\\" not in back
    raise web.HTTPSeeOther(location=back if safe else home)
