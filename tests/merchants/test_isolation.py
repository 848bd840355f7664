"""Merchant A cannot read or act on merchant B's things by id (R4.1-2, R4.2-1, R4.4-1): orders,
shipping, products, application files and merchant records. Every probe answers 403 or 404 (never
5xx), and afterwards nothing of B's has changed. The same URLs answer 200 to their rightful owner, so
a probe cannot pass by pointing at a page that does not exist.

The table grows: listings and after-sales cases (other engineers' endpoints) are added as rows of
:data:`PROBES` when they are merged; the test itself needs no change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest_asyncio

from commerce_core.api import SYSTEM_ACTOR, Commerce
from commerce_core.merchants.types import Applicant, MerchantStatus
from commerce_core.orders.types import LineRequest
from tests.backoffice.conftest import Browser
from tests.commerce.factory import ADDRESS
from tests.merchants.conftest import Team
from tests.merchants.onboarding_support import (
    COMPANY,
    PNG,
    applicant,
    post_multipart,
    reviewer,
    standard_files,
)


@dataclass(frozen=True)
class Probe:
    """One request merchant A must not get through. ``owner``: who may open it (GET rows are checked
    to answer them 200); ``requirement``: what it shows."""

    method: str
    path: str  # placeholders: {order_b}, {product_b}, {application_b}, {merchant_b}
    requirement: str
    owner: str = "owner@bolt.example"
    data: dict[str, str] = field(default_factory=dict)


PROBES: tuple[Probe, ...] = (
    Probe("GET", "/admin/merchant/orders/{order_b}", "R4.4-1 read B's order"),
    Probe(
        "POST",
        "/admin/merchant/orders/{order_b}/ship",
        "R4.4-1 ship B's order",
        data={"carrier": "simulated"},
    ),
    Probe(
        "POST",
        "/admin/merchant/orders/{order_b}/ship",
        "R4.4-1 ship with a waybill",
        data={"carrier": "SF Express", "tracking": "SF123456789"},
    ),
    Probe("GET", "/admin/merchant/products/{product_b}", "R4.1-2 read B's product"),
    Probe("GET", "/admin/merchant/listings/{product_b}", "R4.3-1 read B's listing"),
    Probe(
        "POST",
        "/admin/merchant/listings/{product_b}/edit",
        "R4.3-1 edit B's listing",
        data={"name": "Taken over", "description": "mine now"},
    ),
    Probe(
        "POST",
        "/admin/merchant/listings/{product_b}/stock",
        "R4.3-1 change B's stock and price",
        data={"sku": "x", "stock": "0", "price": "1"},
    ),
    Probe(
        "GET",
        "/admin/applications/{application_b}/files/business_licence",
        "R4.2-1 B's licence file",
        owner="applicant@bolt.example",
    ),
    Probe(
        "GET",
        "/admin/applications/{application_b}/files/tax_registration",
        "R4.2-1 B's tax file",
        owner="applicant@bolt.example",
    ),
    Probe(
        "GET",
        "/admin/reviews/applications/{application_b}",
        "R4.2-2 B's application record",
        owner="reviewer@example.com",
    ),
    Probe("POST", "/admin/reviews/applications/{application_b}/approve", "R4.2-2 approve B's application"),
    Probe(
        "POST",
        "/admin/reviews/applications/{application_b}/reject",
        "R4.2-2 reject it",
        data={"reasons": "x"},
    ),
    Probe("GET", "/admin/merchants", "R4.2-3 merchant records", owner="reviewer@example.com"),
    Probe("POST", "/admin/merchants/{merchant_b}/freeze", "R4.2-3 freeze B", data={"reason": "spite"}),
    Probe("POST", "/admin/merchants/{merchant_b}/unfreeze", "R4.2-3 unfreeze B"),
    # hostile or unknown ids: still a clear 404, never a 500
    Probe("GET", "/admin/merchant/orders/SB0000000000", "unknown order", owner=""),
    Probe("GET", "/admin/merchant/orders/..%2F..%2Fetc", "hostile order id", owner=""),
    Probe("GET", "/admin/applications/MA0000000000/files/business_licence", "unknown application", owner=""),
    Probe(
        "GET", "/admin/applications/{application_b}/files/..%2F..%2Fsecrets", "hostile file kind", owner=""
    ),
    Probe("GET", "/admin/merchant/products/" + "x" * 300, "over-long product code", owner=""),
)


@dataclass(frozen=True)
class Bolt:
    """Merchant B's objects, by the ids a URL would carry."""

    order_b: str
    product_b: str
    application_b: str
    merchant_b: str

    def fill(self, path: str) -> str:
        return path.format(**self.__dict__)


@pytest_asyncio.fixture
async def bolt(commerce: Commerce, team: Team, browser: Browser) -> Bolt:
    order = await commerce.orders.place(team.shopper, ADDRESS, "b-only", items=[LineRequest("B1-STD", 1)])
    await commerce.payments.sandbox_pay((await commerce.payments.start(order.number)).payment_id)
    await reviewer(commerce)
    await applicant(commerce, "applicant@bolt.example")
    await browser.login("applicant@bolt.example")
    await browser.get("/admin/apply")
    status, _ = await post_multipart(browser, "/admin/apply", COMPANY, standard_files())
    assert status == 200
    me = next(u for u in await commerce.operators.list_users() if u.email == "applicant@bolt.example")
    application = await commerce.onboarding.mine(Applicant("en", operator_id=me.public_id))
    assert application is not None
    await browser.post("/admin/logout")
    return Bolt(order.number, "B1", application.public_id, "bolt")


async def test_merchant_a_cannot_reach_merchant_bs_things_by_id(
    browser: Browser, commerce: Commerce, team: Team, bolt: Bolt
) -> None:
    await browser.login("owner@acme.example")
    await browser.get("/admin/")
    # the token the probes carry is good: a harmless POST with it goes through (so no probe is
    # refused merely for a bad CSRF token)
    harmless = await browser.client.post(
        "/admin/language",
        data={"csrf": browser.token, "lang": "en", "back": "/admin/"},
        allow_redirects=False,
    )
    assert harmless.status == 303
    for probe in PROBES:
        path = bolt.fill(probe.path)
        if probe.method == "GET":
            response = await browser.client.get(path, allow_redirects=False)
        else:
            response = await browser.client.post(
                path, data={"csrf": browser.token, **probe.data}, allow_redirects=False
            )
        body = await response.read()
        assert response.status in (403, 404), (probe.requirement, path, response.status)
        assert PNG not in body and b"Li Hua" not in body, probe.requirement

    # nothing of B's changed
    assert await commerce.shipments.parcels(bolt.order_b, merchant_id=team.bolt) == []
    assert (await commerce.orders.get(bolt.order_b)).status == "paid"
    assert (await commerce.merchants.get("bolt")).status == MerchantStatus.ACTIVE.value
    assert [a.public_id for a in await commerce.onboarding.queue(SYSTEM_ACTOR)] == [bolt.application_b]

    # and every GET probe of a real object answers its rightful owner
    for probe in PROBES:
        if probe.method != "GET" or not probe.owner:
            continue
        await browser.post("/admin/logout")
        await browser.login(probe.owner)
        response = await browser.client.get(bolt.fill(probe.path), allow_redirects=False)
        assert response.status == 200, (probe.requirement, probe.owner)
