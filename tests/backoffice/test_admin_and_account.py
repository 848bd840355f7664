"""What admins, every operator for their own account, and applicants do in the back office, and the
audit row each action leaves (who, what, which object, when, from where)."""

from __future__ import annotations

import re

import pytest

from commerce_core.api import AuditFilter, Commerce, OperatorRole
from tests.backoffice.conftest import PASSWORD, Browser, People
from tests.backoffice.test_login import actions

NEW_PASSWORD = "another fine passphrase"


async def test_an_admin_creates_a_merchant_user_who_can_then_sign_in(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("admin@example.com")
    await browser.get("/admin/users/new")
    form = {
        "email": "Staff@Acme.example",
        "display_name": "Ming",
        "role": "merchant_staff",
        "merchant_code": "acme",
        "language": "zh-Hant",
        "password": NEW_PASSWORD,
    }
    status, page = await browser.post("/admin/users/new", form)
    assert status == 200 and "The user was created." in page and "staff@acme.example" in page
    created = next(u for u in await commerce.operators.list_users() if u.email == "staff@acme.example")
    assert created.role is OperatorRole.MERCHANT_STAFF and created.merchant_code == "acme"
    assert created.language == "zh-Hant"
    rows = await commerce.operators.audit_log(AuditFilter(action="user.created", object_id=created.public_id))
    assert rows[0].actor_email == "admin@example.com" and rows[0].ip == "127.0.0.1"
    # Bad input is a 400 with the form kept, never a 500.
    unknown_merchant = {**form, "merchant_code": "nope", "email": "x@y.example"}
    status, page = await browser.post("/admin/users/new", unknown_merchant)
    assert status == 400 and 'value="x@y.example"' in page
    status, page = await browser.post("/admin/users/new", {**form, "password": "short"})
    assert status == 400 and "too weak" in page
    status, page = await browser.post("/admin/users/new", {**form, "role": "emperor"})
    assert status == 400
    await browser.client.post("/admin/logout", data={"csrf": browser.token})
    status, home = await browser.login("staff@acme.example", NEW_PASSWORD)
    assert status == 200 and 'href="/admin/merchant/orders"' in home
    assert '<html lang="zh-Hant">' in home  # the operator's own language


@pytest.mark.parametrize(
    ("action", "audited"),
    [
        ("disable", "user.disabled"),
        ("end-sessions", "user.sessions_ended"),
        ("reset-totp", "user.totp_reset"),
        ("reset-password", "user.password_reset"),
    ],
)
async def test_each_admin_action_on_a_user_is_done_and_audited(
    browser: Browser, commerce: Commerce, people: People, action: str, audited: str
) -> None:
    await browser.login("admin@example.com")
    target = people.agent.public_id
    await browser.get(f"/admin/users/{target}")
    status, page = await browser.post(f"/admin/users/{target}/{action}", {"password": NEW_PASSWORD})
    assert status == 200 and f"/admin/users/{target}/" in page  # back on the user's page
    rows = await commerce.operators.audit_log(AuditFilter(action=audited, object_id=target))
    assert len(rows) == 1 and rows[0].actor_id == people.admin.public_id and rows[0].ip == "127.0.0.1"
    after = await commerce.operators.get(target)
    if action == "disable":
        assert after.disabled
        status, _ = await browser.post(f"/admin/users/{target}/enable")
        assert not (await commerce.operators.get(target)).disabled
        assert "user.enabled" in await actions(commerce, object_id=target)
    else:
        assert after.session_epoch > people.agent.session_epoch or action == "reset-totp"


async def test_an_admin_cannot_disable_themselves_and_is_told_why(browser: Browser, people: People) -> None:
    await browser.login("admin@example.com")
    await browser.get(f"/admin/users/{people.admin.public_id}")
    status, page = await browser.post(f"/admin/users/{people.admin.public_id}/disable")
    assert status == 400 and "You cannot disable your own account." in page
    assert (await browser.get("/admin/"))[0] == 200  # still signed in


async def test_an_unknown_user_or_action_is_a_404(browser: Browser) -> None:
    await browser.login("admin@example.com")
    assert (await browser.get("/admin/users/no-such-user"))[0] == 404
    assert (await browser.post("/admin/users/no-such-user/disable"))[0] == 404
    assert (await browser.post("/admin/users/no-such-user/explode"))[0] == 404
    assert (await browser.get("/admin/no/such/page"))[0] == 404


async def test_a_weak_reset_password_is_refused_on_the_users_page(browser: Browser, people: People) -> None:
    await browser.login("admin@example.com")
    await browser.get(f"/admin/users/{people.agent.public_id}")
    target = people.agent.public_id
    status, page = await browser.post(f"/admin/users/{target}/reset-password", {"password": "x"})
    assert status == 400 and "too weak" in page


async def test_the_audit_log_filters_by_actor_action_and_day(browser: Browser, people: People) -> None:
    await browser.login("agent@example.com")
    await browser.client.post("/admin/logout", data={"csrf": browser.token})
    await browser.login("admin@example.com")
    status, page = await browser.get("/admin/audit?actor=agent@example.com&action=logout")
    assert status == 200
    rows = re.findall(r"<tr>\s*<td>.*?</tr>", page, flags=re.S)
    assert len(rows) == 1 and "agent@example.com" in rows[0] and "<code>logout</code>" in rows[0]
    status, page = await browser.get("/admin/audit?action=login.succeeded&since=2000-01-01&until=2999-12-31")
    assert status == 200 and page.count("<code>login.succeeded</code>") == 2
    status, page = await browser.get("/admin/audit?since=yesterday")
    assert status == 400 and "2026-12-31" in page
    status, page = await browser.get("/admin/audit?action=nothing.like.this")
    assert status == 200 and "No entries match." in page
    assert 'hx-get="/admin/audit"' in page and 'hx-select="#audit-results"' in page  # htmx swaps the table


async def test_an_operator_changes_their_password_and_the_old_one_stops_working(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("owner@bolt.example")
    await browser.get("/admin/account")
    change = {
        "old_password": "wrong one entirely",
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
    }
    status, page = await browser.post("/admin/account/password", change)
    assert status == 400 and "The current password is not right." in page
    mismatch = {**change, "new_password_again": "different!!"}
    status, page = await browser.post("/admin/account/password", mismatch)
    assert status == 400 and "not the same" in page
    status, page = await browser.post("/admin/account/password", {**change, "old_password": PASSWORD})
    assert status == 200 and "Your password was changed." in page
    assert "user.password_changed" in await actions(commerce, object_id=people.owner_b.public_id)
    browser.client.session.cookie_jar.clear()
    assert (await browser.login("owner@bolt.example"))[0] == 401
    assert (await browser.login("owner@bolt.example", NEW_PASSWORD))[0] == 200


async def test_binding_a_chat_account_shows_a_one_time_code_the_bot_accepts(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("agent@example.com")
    await browser.get("/admin/account")
    status, page = await browser.post("/admin/account/binding")
    assert status == 200
    code = re.search(r'<code class="binding-code">/bind (\S+)</code>', page)
    assert code is not None
    assert "identity.code_issued" in await actions(commerce, object_id=people.agent.public_id)
    bound = await commerce.operators.redeem_binding_code("telegram", "4242", code.group(1))
    assert bound.public_id == people.agent.public_id
    _, account = await browser.get("/admin/account")
    assert "telegram: 4242" in account


async def test_anyone_can_sign_up_as_a_merchant_applicant(browser: Browser, commerce: Commerce) -> None:
    await browser.get("/admin/signup")
    form = {
        "email": "new.seller@example.com",
        "display_name": "New Seller",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    status, page = await browser.post("/admin/signup", {**form, "password_again": "something else"})
    assert status == 400 and "not the same" in page
    status, page = await browser.post("/admin/signup", form)
    assert status == 200 and "Thank you for applying." in page
    assert 'href="/admin/users"' not in page
    applicant = next(u for u in await commerce.operators.list_users() if u.email == "new.seller@example.com")
    assert applicant.role is OperatorRole.APPLICANT and applicant.language == "en"
    assert "user.created" in await actions(commerce, object_id=applicant.public_id)
    browser.client.session.cookie_jar.clear()
    await browser.get("/admin/signup")
    status, page = await browser.post("/admin/signup", form)
    assert status == 400 and "cannot be used" in page


async def test_the_language_switch_changes_the_pages_and_refuses_unknown_languages(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("admin@example.com")
    status, page = await browser.post("/admin/language", {"lang": "zh-Hans", "back": "/admin/users"})
    assert status == 200 and '<html lang="zh-Hans">' in page and "<h1>用户</h1>" in page
    status, page = await browser.post("/admin/language", {"lang": "zh-Hant", "back": "https://evil.example/"})
    assert status == 200 and '<html lang="zh-Hant">' in page and "您好" in page  # home, not the other site
    assert (await browser.post("/admin/language", {"lang": "tlh"}))[0] == 400
    rows = await commerce.operators.audit_log(AuditFilter(action="language.changed"))
    assert [r.detail for r in rows] == ["zh-Hant", "zh-Hans"]
