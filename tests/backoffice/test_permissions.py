"""Who may open what: one route table decides, merchants see only their own merchant's objects."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.backoffice import create_backoffice
from bot.backoffice.config import BackofficeConfig
from bot.backoffice.pages import ACCESS
from bot.backoffice.routes import ROUTES
from commerce_core.api import Action, Commerce, OperatorRole, allowed
from tests.backoffice.conftest import SECRET, Browser, People


async def test_every_page_but_the_public_ones_sends_a_stranger_to_the_login(browser: Browser) -> None:
    for path in ("/admin/", "/admin/users", "/admin/audit", "/admin/account", "/admin/merchant/orders"):
        response = await browser.client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/admin/login", path


async def test_an_agent_on_admin_pages_gets_403_and_changes_nothing(
    browser: Browser, commerce: Commerce, people: People
) -> None:
    await browser.login("agent@example.com")
    admin_page = f"/admin/users/{people.admin.public_id}"
    admin_pages = ("/admin/users", "/admin/users/new", admin_page, "/admin/audit")
    for path in admin_pages:
        status, body = await browser.get(path)
        assert status == 403, path
        assert "Not allowed" in body
    status, _ = await browser.post(f"/admin/users/{people.admin.public_id}/disable")
    assert status == 403
    assert not (await commerce.operators.get(people.admin.public_id)).disabled
    _, home = await browser.get("/admin/")
    assert 'href="/admin/users"' not in home and 'href="/admin/audit"' not in home  # no dead links shown


async def test_a_merchant_sees_its_own_products_and_orders_only(browser: Browser, people: People) -> None:
    await browser.login("owner@acme.example")
    status, listing = await browser.get("/admin/merchant/products")
    assert status == 200
    assert "Little Black Dress" in listing and "Wrench" not in listing
    status, product = await browser.get("/admin/merchant/products/D2")
    assert status == 200 and "¥399.00" in product
    status, orders = await browser.get("/admin/merchant/orders")
    assert status == 200 and people.order_a in orders and people.order_b not in orders
    status, order = await browser.get(f"/admin/merchant/orders/{people.order_a}")
    assert status == 200 and "D2-BLK-S" in order and "¥399.00" in order


async def test_merchant_a_asking_for_merchant_bs_objects_by_id_gets_404(
    browser: Browser, people: People
) -> None:
    await browser.login("owner@acme.example")
    for path in ("/admin/merchant/products/B1", f"/admin/merchant/orders/{people.order_b}"):
        status, body = await browser.get(path)
        assert status == 404, path
        assert "Wrench" not in body and "B1-STD" not in body
    # ... exactly like an id that does not exist at all
    assert (await browser.get("/admin/merchant/products/NOPE"))[0] == 404
    await browser.client.post("/admin/logout", data={"csrf": browser.token})
    await browser.login("owner@bolt.example")
    status, body = await browser.get("/admin/merchant/products/B1")
    assert status == 200 and "Wrench" in body


async def test_merchants_and_admins_keep_to_their_own_consoles(browser: Browser) -> None:
    await browser.login("owner@acme.example")
    assert (await browser.get("/admin/users"))[0] == 403
    assert (await browser.get("/admin/audit"))[0] == 403
    await browser.client.post("/admin/logout", data={"csrf": browser.token})
    await browser.login("admin@example.com")
    assert (await browser.get("/admin/merchant/products"))[0] == 403


async def test_the_route_table_gives_every_route_an_access(commerce: Commerce) -> None:
    config = BackofficeConfig(SECRET, secure_cookies=False)
    app = create_backoffice(commerce.operators, commerce.clock, config)
    named = {route.name for route in app.router.routes() if route.name}
    assert named == set(app[ACCESS])  # nothing reachable without an entry (the guard refuses those anyway)
    assert len({route.name for route in ROUTES}) == len(ROUTES)


async def test_the_cores_permission_table_is_what_decides(commerce: Commerce, people: People) -> None:
    asked: list[tuple[OperatorRole, Action]] = []

    def nobody(role: OperatorRole, action: Action) -> bool:
        asked.append((role, action))
        return False

    app = web.Application()
    config = BackofficeConfig(SECRET, secure_cookies=False)
    app.add_subapp("/admin", create_backoffice(commerce.operators, commerce.clock, config, permits=nobody))
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Accept-Language": "en"}) as client:
        admin = Browser(client)
        await admin.login("admin@example.com")
        assert (await admin.get("/admin/users"))[0] == 403
    assert (OperatorRole.ADMIN, Action.MANAGE_USERS) in asked
    assert allowed(OperatorRole.ADMIN, Action.MANAGE_USERS)  # ... which the real table grants


async def test_the_vendored_script_and_stylesheet_are_served_without_a_session(browser: Browser) -> None:
    for name, kind in (("htmx.min.js", "javascript"), ("backoffice.css", "text/css")):
        response = await browser.client.get(f"/admin/static/{name}")
        assert response.status == 200 and kind in response.headers["Content-Type"]
        assert "Set-Cookie" not in response.headers
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert (await browser.client.get("/admin/static/../app.py")).status == 404


async def test_the_merchant_lists_page_and_ignore_a_nonsense_page_number(browser: Browser) -> None:
    await browser.login("owner@acme.example")
    status, first = await browser.get("/admin/merchant/products?page=abc")
    assert status == 200 and "Little Black Dress" in first and "?page=1" not in first  # 4 products: one page
    status, beyond = await browser.get("/admin/merchant/products?page=3")
    assert status == 200 and "No products yet." in beyond and "?page=2" in beyond  # a way back
    status, orders = await browser.get("/admin/merchant/orders?page=-1")
    assert status == 200 and "/admin/merchant/orders/" in orders  # read as page 0: the order is listed
