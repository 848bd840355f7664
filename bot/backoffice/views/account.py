"""My account: password, the TOTP second factor, and binding a Telegram/WeChat identity.

Each change is a core call that checks and audits it; secrets the operator must copy (the TOTP secret
and URI, the one-time binding code) are shown once on the page the POST returns and never stored by
the web side.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import (
    flash,
    form,
    operators,
    problem,
    redirect,
    render,
    secret_field,
    start_session,
    text,
    visit,
)
from commerce_core.api import DomainError, InvalidInput, NotAllowed

BIND_COMMAND = "/bind"


async def _account_page(request: web.Request, *, status: int = 200, error: str | None = None) -> web.Response:
    me = visit(request).me()
    fresh = await operators(request).get(me.public_id)
    identities = await operators(request).identities_of(me.public_id)
    return render(request, "account.html", status=status, account=fresh, identities=identities, error=error)


async def account(request: web.Request) -> web.StreamResponse:
    return await _account_page(request)


async def change_password(request: web.Request) -> web.StreamResponse:
    values = await form(request)
    current = visit(request)
    new = secret_field(values, "new_password")
    if new != secret_field(values, "new_password_again"):
        return await _account_page(request, status=400, error=text(request, "password.mismatch"))
    try:
        await operators(request).change_password(
            current.me().public_id, secret_field(values, "old_password"), new, current.actor
        )
    except (InvalidInput, NotAllowed) as refused:
        return await _account_page(request, status=400, error=problem(request, refused))
    await _stay_signed_in(request)
    flash(request, "password.changed")
    raise redirect(request, "account")


async def _stay_signed_in(request: web.Request) -> None:
    """A password or second-factor change ends every OTHER session (the core moves the session epoch);
    this browser gets a new session under the new epoch instead of being thrown out too."""
    await start_session(request, await operators(request).get(visit(request).me().public_id))


async def totp_begin(request: web.Request) -> web.StreamResponse:
    """A new TOTP secret for the authenticator app; it counts only after a correct code confirms it."""
    current = visit(request)
    secret, uri = await operators(request).begin_totp(current.me().public_id, actor=current.actor)
    return render(request, "totp.html", secret=secret, uri=uri)


async def totp_confirm(request: web.Request) -> web.StreamResponse:
    current = visit(request)
    code = secret_field(await form(request), "code", 12).replace(" ", "")
    try:
        await operators(request).confirm_totp(current.me().public_id, code, current.actor)
    except DomainError:
        flash(request, "totp.code_wrong")
    else:
        await _stay_signed_in(request)
        flash(request, "totp.enabled")
    raise redirect(request, "account")


async def binding_code(request: web.Request) -> web.StreamResponse:
    """A one-time code the operator sends to the bot from the chat account to bind."""
    current = visit(request)
    code = await operators(request).issue_binding_code(current.me().public_id, current.actor)
    return render(request, "binding.html", code=code, command=f"{BIND_COMMAND} {code}")
