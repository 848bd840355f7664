"""Listings in the back office over real HTTP (R4.3-1/2/3, R4.1-2): a merchant enters a product with a
photo (stored in the file store, type checked), the reviewer sees the automated check's finding and
rejects with a reason, the merchant sees the reason and fixes it, the reviewer approves, and every
decision is in the audit log; merchant B gets 404 for merchant A's listing by code, whatever it tries.
"""

from __future__ import annotations

import re

import pytest_asyncio
from aiohttp import FormData

from commerce_core.api import SYSTEM_ACTOR, AuditFilter, Commerce, OperatorRole
from tests.backoffice.conftest import PASSWORD, Browser
from tests.merchants.conftest import Team
from tests.merchants.listing_helpers import PNG

REVIEWER = "reviewer@shop.example"


@pytest_asyncio.fixture
async def reviewer(commerce: Commerce, team: Team) -> str:
    await commerce.operators.create(
        REVIEWER, PASSWORD, OperatorRole.REVIEWER, display_name="Rita", language="en", actor=SYSTEM_ACTOR
    )
    return REVIEWER


def _listing_form(token: str, description: str, *, image: bytes | None = PNG) -> FormData:
    data = FormData()
    for name, value in {
        "csrf": token,
        "code": "WEB1",
        "category": "dresses",
        "name_zh": "真丝连衣裙",
        "name_en": "Silk slip dress",
        "description_zh": description,
        "description_en": "Pure silk, bias cut",
        "material": "silk",
        "usage": "evening",
        "color_1": "black",
        "size_1": "M",
        "price_1": "599",
        "stock_1": "4",
    }.items():
        data.add_field(name, value)
    if image is not None:
        data.add_field("images", image, filename="dress.png", content_type="image/png")
    return data


async def test_enter_flag_reject_fix_approve(
    browser: Browser, commerce: Commerce, team: Team, reviewer: str
) -> None:
    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/listings/new")
    assert status == 200 and 'enctype="multipart/form-data"' in page

    bad = _listing_form(browser.token, "全网最好的真丝裙", image=b"GIF89a not a png")
    response = await browser.client.post("/admin/merchant/listings/new", data=bad)
    page = await response.text()
    assert response.status == 400 and "Photos: only PNG, JPEG and WebP" in page
    assert "全网最好的真丝裙" in page  # what was typed is still there

    response = await browser.client.post(
        "/admin/merchant/listings/new", data=_listing_form(browser.token, "全网最好的真丝裙")
    )
    page = await response.text()
    assert response.status == 200 and "Submitted." in page and "Waiting for review" in page
    assert "Absolute or false advertising terms" in page
    image = re.search(r'src="(/admin/listings/image/[^"]+)"', page)
    assert image is not None
    served = await browser.client.get(image.group(1))
    assert served.status == 200 and await served.read() == PNG

    reviewing = Browser(browser.client)
    await browser.post("/admin/logout")
    await reviewing.login(reviewer)
    status, queue = await reviewing.get("/admin/review/listings")
    assert status == 200 and "WEB1" in queue and "Absolute or false advertising terms" in queue
    item = re.search(r'href="/admin/review/listings/(\d+)"', queue)
    assert item is not None
    status, page = await reviewing.get(f"/admin/review/listings/{item.group(1)}")
    assert status == 200 and "<q>全网最好</q>" in page
    status, page = await reviewing.post(f"/admin/review/listings/{item.group(1)}/reject", {"reason": ""})
    assert status == 400 and "needs a reason" in page
    status, page = await reviewing.post(
        f"/admin/review/listings/{item.group(1)}/reject", {"reason": "Remove 全网最好: no absolute claims"}
    )
    assert status == 200 and "Rejected. The merchant has been told why." in page
    await reviewing.post("/admin/logout")

    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/listings/WEB1")
    assert status == 200 and "Remove 全网最好: no absolute claims" in page and "Rejected" in page
    fixed = _listing_form(browser.token, "真丝面料，斜裁", image=None)
    fixed.add_field("keep_image", image.group(1))
    response = await browser.client.post("/admin/merchant/listings/WEB1/edit", data=fixed)
    page = await response.text()
    assert response.status == 200 and "Your changes were sent to review." in page
    assert "The automated checks found nothing." in page
    await browser.post("/admin/logout")

    await reviewing.login(reviewer)
    _, queue = await reviewing.get("/admin/review/listings")
    item = re.search(r'href="/admin/review/listings/(\d+)"', queue)
    assert item is not None
    status, page = await reviewing.post(f"/admin/review/listings/{item.group(1)}/approve")
    assert status == 200 and "Approved." in page
    product = await commerce.catalog.get_product("WEB1")
    assert product.status == "live" and product.images == [image.group(1)]
    audit = await commerce.operators.audit_log(AuditFilter(object_id="WEB1"))
    assert {e.action for e in audit} >= {
        "listing.submit",
        "listing.reject",
        "listing.edit",
        "listing.approve",
    }


async def test_merchant_b_gets_404_for_merchant_as_listing(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    await browser.login("owner@acme.example")
    await browser.get("/admin/merchant/listings/new")
    response = await browser.client.post(
        "/admin/merchant/listings/new", data=_listing_form(browser.token, "真丝")
    )
    assert response.status == 200
    await browser.post("/admin/logout")

    await browser.login("owner@bolt.example")
    assert (await browser.get("/admin/merchant/listings/WEB1"))[0] == 404
    assert (await browser.get("/admin/merchant/listings/NOPE"))[0] == 404
    await browser.get("/admin/merchant/products")  # a page with the CSRF token
    status, _ = await browser.post("/admin/merchant/listings/WEB1/stock", {"sku": "WEB1-1", "stock": "0"})
    assert status == 404
    status, _ = await browser.post("/admin/merchant/listings/B1/stock", {"sku": "WEB1-1", "price": "1"})
    assert status == 404  # my own listing, someone else's SKU
    edit = _listing_form(browser.token, "mine now", image=None)
    response = await browser.client.post("/admin/merchant/listings/WEB1/edit", data=edit)
    assert response.status == 404
    status, _ = await browser.get("/admin/review/listings")
    assert status == 403  # merchants do not review
    detail = await commerce.listings.detail(team.acme, "WEB1")
    assert detail.stock == {"WEB1-1": 4} and detail.product.description["zh-Hans"] == "真丝"


async def test_csv_upload_lists_row_errors_and_stock_price_apply_at_once(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    await browser.login("owner@acme.example")
    await browser.get("/admin/merchant/listings/import")
    rows = (
        "code,category,name_zh,description_zh,price,stock,size,colour,material,usage\n"
        "C1,dresses,棉麻长裙,棉麻面料,199,5,M,white,linen,daily\n"
        "C2,dresses,丝绒长裙,丝绒面料,12.345,5,M,red,velvet,party\n"
        "C3,dresses,针织长裙,针织面料,299,2,L,grey,knit,daily\n"
    )
    upload = FormData()
    upload.add_field("csrf", browser.token)
    upload.add_field("file", rows.encode(), filename="listings.csv", content_type="text/csv")
    response = await browser.client.post("/admin/merchant/listings/import", data=upload)
    page = await response.text()
    assert response.status == 200 and "2 submitted, 1 rows with errors" in page
    assert re.search(r"<td>3</td><td>price</td><td>enter a price above zero", page)
    assert (await commerce.listings.detail(team.acme, "C1")).product.status == "pending_review"

    status, page = await browser.get("/admin/merchant/listings/C1")
    assert status == 200
    status, page = await browser.post("/admin/merchant/listings/C1/stock", {"sku": "C1", "stock": "9"})
    assert status == 200 and "Saved." in page
    status, page = await browser.post("/admin/merchant/listings/C1/stock", {"sku": "C1", "price": "999"})
    assert status == 200 and "staff will take a look" in page and "¥999.00" in page
    status, page = await browser.post("/admin/merchant/listings/C1/stock", {"sku": "C1", "price": "0"})
    assert status == 400 and "Price: enter a price above zero" in page
    detail = await commerce.listings.detail(team.acme, "C1")
    assert detail.stock == {"C1": 9} and detail.product.min_price.amount == 99900
    kinds = [i.kind for i in await commerce.listing_reviews.queue() if i.product_code == "C1"]
    assert sorted(kinds) == ["price", "submission"]


async def test_editing_a_live_listing_keeps_attributes_the_form_does_not_change(
    browser: Browser, commerce: Commerce, team: Team
) -> None:
    await browser.login("owner@acme.example")
    status, page = await browser.get("/admin/merchant/listings/D1")
    assert status == 200 and 'name="material" value="chiffon"' in page
    edit = FormData()
    for name, value in {
        "csrf": browser.token,
        "name_zh": "红色碎花连衣裙（新款）",
        "name_en": "Red Floral Dress",
        "description_zh": "雪纺面料，适合夏天",
        "description_en": "Chiffon, for summer",
        "material": "chiffon",
        "usage": "summer holidays",
    }.items():
        edit.add_field(name, value)
    response = await browser.client.post("/admin/merchant/listings/D1/edit", data=edit)
    assert response.status == 200
    live = await commerce.catalog.get_product("D1")
    assert live.name["zh-Hans"] == "红色碎花连衣裙"  # still the approved version on sale
    detail = await commerce.listings.detail(team.acme, "D1")
    assert detail.pending is not None and detail.pending.content is not None
    attributes = detail.pending.content.attributes
    assert (
        attributes["material"] == {"zh-Hans": "雪纺", "en": "chiffon"}
        and attributes["usage"] == "summer holidays"
    )
