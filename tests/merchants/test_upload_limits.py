"""Upload bounds in the back office (R4.2-1, R4.3-1): one rule per route in one place
(``UPLOAD_BODY_LIMITS``) and one file store with a limit per kind of file.

The application form takes up to 40 MiB of documents (5 MiB each), a listing form up to 11 MiB (photos
of 10 MiB each); above its bound a body is refused with 413 before anything is stored, and so is a
multipart body sent to any other route or by someone not signed in.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient

from bot.backoffice.app import MIB, UPLOAD_BODY_LIMITS, setup_backoffice
from bot.backoffice.views.listings import IMAGES
from bot.backoffice.views.onboarding import DESK as ONBOARDING
from bot.settings import Settings
from commerce_core.api import Commerce, InvalidInput
from tests.backoffice.conftest import Browser
from tests.merchants.conftest import Team
from tests.merchants.onboarding_support import PNG, applicant

Client = TestClient[web.Request, web.Application]


async def post_padding(browser: Browser, path: str, size: int) -> int:
    """A multipart form with the page's CSRF token and a ``size``-byte PNG as its image/licence."""
    data = FormData()
    data.add_field("csrf", browser.token)
    data.add_field("business_licence", PNG + bytes(size), filename="big.png", content_type="image/png")
    response = await browser.client.post(path, data=data)
    await response.read()
    await browser.get("/admin/")
    return response.status


async def test_each_upload_route_has_one_bound_and_413_above_it(
    client: Client, commerce: Commerce, team: Team
) -> None:
    assert UPLOAD_BODY_LIMITS["onboarding.apply.submit"] == 40 * MIB
    assert UPLOAD_BODY_LIMITS["listings.new.submit"] == 11 * MIB
    await applicant(commerce, "bounds@example.com")
    browser = Browser(client)
    anonymous = await post_padding(Browser(client), "/admin/apply", 1 * MIB)
    assert anonymous == 413  # not signed in: the small limit
    await browser.login("bounds@example.com")
    await browser.get("/admin/apply")
    assert await post_padding(browser, "/admin/apply", 12 * MIB) == 400  # read, then the 5 MiB file refused
    assert await post_padding(browser, "/admin/apply", 41 * MIB) == 413

    await browser.login("owner@acme.example")
    await browser.get("/admin/merchant/listings/new")
    assert await post_padding(browser, "/admin/merchant/listings/new", int(10.5 * MIB)) != 413
    assert await post_padding(browser, "/admin/merchant/listings/new", 12 * MIB) == 413
    assert await post_padding(browser, "/admin/account/password", 1 * MIB) == 413  # not an upload route


async def test_one_store_keeps_a_limit_per_kind(commerce: Commerce, tmp_path: Path) -> None:
    """One store for the data folder's files: a 6 MiB licence is refused (documents: 5 MiB), a 6 MiB
    product photo is accepted (images: 10 MiB)."""
    backoffice = setup_backoffice(web.Application(), commerce, Settings(data_dir=tmp_path))
    store = backoffice[IMAGES]
    assert backoffice[ONBOARDING].files is store
    six = PNG + bytes(6 * MIB)
    with pytest.raises(InvalidInput) as refused:
        await store.put(six, content_type="image/png", owner="applicant:x", kind="document")
    assert refused.value.code == "file_too_large"
    ref = await store.put(six, content_type="image/png", owner="merchant:1", kind="image")
    assert ref.size == len(six)
