"""Signing in and out of the back office over real HTTP: passwords, lockout, CSRF, the second factor,
session cookies, logout and "log out everywhere"; each step leaves its audit row."""

from __future__ import annotations

import pyotp

from commerce_core.api import SYSTEM_ACTOR, AuditFilter, Commerce, FakeClock
from tests.backoffice.conftest import PASSWORD, Browser, People


async def actions(commerce: Commerce, **where: str) -> list[str]:
    rows = await commerce.operators.audit_log(AuditFilter(**where))
    return [row.action for row in reversed(rows)]


async def test_the_login_page_is_strictly_sandboxed_and_speaks_the_browsers_language(
    browser: Browser,
) -> None:
    response = await browser.client.get("/admin/login", headers={"Accept-Language": "zh-TW,zh;q=0.8"})
    body = await response.text()
    assert response.status == 200
    assert '<html lang="zh-Hant">' in body and "登入" in body
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert "<script>" not in body and "style=" not in body  # no inline code the CSP would block
    assert response.headers["X-Frame-Options"] == "DENY"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # the public URL of the test is plain http
    english = await browser.client.get("/admin/login", headers={"Accept-Language": "en-GB"})
    assert '<html lang="en">' in await english.text()


async def test_a_good_password_signs_in_and_the_home_page_fits_the_role(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    status, body = await browser.login("admin@example.com")
    assert status == 200
    assert "Hello, admin" in body
    assert 'href="/admin/users"' in body and 'href="/admin/audit"' in body
    assert 'href="/admin/merchant/products"' not in body  # an admin has no merchant console
    assert await actions(commerce, object_id=people.admin.public_id) == ["user.created", "login.succeeded"]
    rows = await commerce.operators.audit_log(AuditFilter(action="login.succeeded"))
    assert rows[0].ip == "127.0.0.1" and rows[0].actor_email == "admin@example.com"


async def test_wrong_password_and_unknown_email_get_the_same_refusal(
    browser: Browser, commerce: Commerce
) -> None:
    status, wrong = await browser.login("admin@example.com", "not the password")
    status_unknown, unknown = await browser.login("nobody@example.com", "not the password")
    assert status == status_unknown == 401
    assert "Email or password is wrong." in wrong and "Email or password is wrong." in unknown
    assert 'value="admin@example.com"' in wrong  # the email stays filled in, the password does not
    assert "not the password" not in wrong
    assert (await browser.get("/admin/"))[0] == 200  # still the login page: not signed in
    assert "login.failed" in await actions(commerce, action="login.failed")


async def test_five_failures_lock_the_account_even_against_the_right_password(
    browser: Browser, commerce: Commerce, clock: FakeClock
) -> None:
    for _ in range(5):
        await browser.login("agent@example.com", "wrong password here")
    status, body = await browser.login("agent@example.com")
    assert status == 429
    assert "locked until" in body
    assert "login.locked" in await actions(commerce, action="login.locked")
    clock.advance(minutes=16)
    status, body = await browser.login("agent@example.com")
    assert status == 200 and "Support agent" in body


async def test_a_post_without_the_forms_csrf_token_is_refused(browser: Browser, people: People) -> None:
    await browser.get("/admin/login")
    credentials = {"email": "admin@example.com", "password": PASSWORD}
    status, _ = await browser.post("/admin/login", credentials, csrf=False)
    assert status == 403
    status, _ = await browser.post(
        "/admin/login", {"email": "admin@example.com", "password": PASSWORD, "csrf": "forged"}, csrf=False
    )
    assert status == 403
    await browser.login("admin@example.com")
    status, _ = await browser.post(f"/admin/users/{people.agent.public_id}/disable", csrf=False)
    assert status == 403
    _, page = await browser.get(f"/admin/users/{people.agent.public_id}")
    assert ">Disable<" in page  # the agent is still active: the button still offers to disable


async def test_the_csrf_token_changes_at_login_so_a_planted_token_is_useless(browser: Browser) -> None:
    await browser.get("/admin/login")
    before = browser.token
    await browser.login("admin@example.com")
    assert browser.token and browser.token != before
    status, _ = await browser.post("/admin/logout", {"csrf": before}, csrf=False)
    assert status == 403


async def test_logout_ends_the_session_and_is_audited(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("agent@example.com")
    status, body = await browser.post("/admin/logout")
    assert status == 200 and 'name="password"' in body  # back on the login form
    response = await browser.client.get("/admin/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/login"
    assert (await actions(commerce, object_id=people.agent.public_id))[-1] == "logout"


async def test_log_out_everywhere_invalidates_a_session_in_another_browser(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("owner@acme.example")
    other_browser = browser.cookie()
    assert other_browser
    browser.client.session.cookie_jar.clear()
    await browser.login("owner@acme.example")
    # The other browser's cookie works now ...
    answer = await browser.client.get(
        "/admin/merchant/products",
        headers={"Cookie": f"shopbot_backoffice={other_browser}"},
        allow_redirects=False,
    )
    assert answer.status == 200
    status, _ = await browser.post("/admin/logout/everywhere")
    assert status == 200
    browser.client.session.cookie_jar.clear()
    answer = await browser.client.get(
        "/admin/merchant/products",
        headers={"Cookie": f"shopbot_backoffice={other_browser}"},
        allow_redirects=False,
    )
    assert answer.status == 303 and answer.headers["Location"] == "/admin/login"
    assert "user.sessions_ended" in await actions(commerce, object_id=people.owner_a.public_id)


async def test_a_disabled_operator_is_signed_out_on_the_next_page(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("agent@example.com")
    assert (await browser.client.get("/admin/account", allow_redirects=False)).status == 200
    await commerce.operators.disable(people.agent.public_id, SYSTEM_ACTOR)
    assert (await browser.client.get("/admin/account", allow_redirects=False)).status == 303


async def test_the_second_factor_is_its_own_form_and_a_wrong_code_is_refused(
    browser: Browser, commerce: Commerce, clock: FakeClock, people: People
) -> None:
    await browser.login("admin@example.com")
    status, page = await browser.post("/admin/account/totp")
    assert status == 200
    secret = page.split('<code class="secret">', 1)[1].split("</code>", 1)[0]
    assert "otpauth://totp/" in page
    code = pyotp.TOTP(secret).at(clock.now())
    status, _ = await browser.post("/admin/account/totp/confirm", {"code": code})
    assert status == 200
    assert (await commerce.operators.get(people.admin.public_id)).totp_enabled
    await browser.post("/admin/logout")

    clock.advance(seconds=60)
    status, body = await browser.login("admin@example.com")
    assert status == 200 and 'name="code"' in body and 'name="password"' not in body
    assert (await browser.client.get("/admin/", allow_redirects=False)).status == 303  # not signed in yet
    status, body = await browser.post("/admin/login/code", {"code": "000000"})
    assert status == 401 and 'name="code"' in body
    status, body = await browser.post("/admin/login/code", {"code": pyotp.TOTP(secret).at(clock.now())})
    assert status == 200 and 'href="/admin/users"' in body
    trail = await actions(commerce, object_id=people.admin.public_id)
    assert trail[-3:] == ["login.second_factor_required", "login.failed", "login.succeeded"]
    assert "user.totp_enabled" in trail


async def test_the_code_step_without_a_password_step_goes_back_to_the_login(browser: Browser) -> None:
    await browser.get("/admin/login")
    response = await browser.client.get("/admin/login/code", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/login"
    status, _ = await browser.post("/admin/login/code", {"code": "123456"})
    assert status == 200  # followed back to the login form, nobody signed in
