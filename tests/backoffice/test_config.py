"""The back office's settings: the session secret is required in production and generated once per data
directory in development; cookies are Secure exactly when the public URL is https; sessions expire."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.backoffice import create_backoffice
from bot.backoffice.config import BackofficeConfig, backoffice_config
from bot.settings import ConfigurationError, Settings
from commerce_core.api import Commerce, FakeClock
from tests.backoffice.conftest import SECRET, Browser


def test_production_refuses_to_start_without_a_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHOPBOT_BACKOFFICE_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="SHOPBOT_BACKOFFICE_SECRET"):
        backoffice_config(Settings(env="production", data_dir=tmp_path))
    monkeypatch.setenv("SHOPBOT_BACKOFFICE_SECRET", "too short")
    with pytest.raises(ConfigurationError, match="at least 32"):
        backoffice_config(Settings(env="production", data_dir=tmp_path))
    monkeypatch.setenv("SHOPBOT_BACKOFFICE_SECRET", "s" * 40)
    config = backoffice_config(
        Settings(env="production", data_dir=tmp_path, public_base_url="https://shop.example")
    )
    assert config.secret == "s" * 40 and config.secure_cookies


def test_development_generates_a_private_secret_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SHOPBOT_BACKOFFICE_SECRET", raising=False)
    first = backoffice_config(Settings(data_dir=tmp_path))
    again = backoffice_config(Settings(data_dir=tmp_path))
    assert first.secret == again.secret and len(first.secret) >= 32
    assert stat.S_IMODE((tmp_path / "backoffice-secret").stat().st_mode) == 0o600
    assert not first.secure_cookies  # the default public URL is http://127.0.0.1:8080
    assert backoffice_config(Settings(data_dir=tmp_path / "other")).secret != first.secret


async def test_under_https_the_cookie_is_secure_and_hsts_is_sent(commerce: Commerce) -> None:
    app = web.Application()
    config = BackofficeConfig(SECRET, secure_cookies=True)
    app.add_subapp("/admin", create_backoffice(commerce.operators, commerce.clock, config))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/admin/login")
        assert "Secure" in response.headers["Set-Cookie"]
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")


async def test_a_session_expires_after_its_lifetime(browser: Browser, clock: FakeClock) -> None:
    await browser.login("admin@example.com")
    assert (await browser.client.get("/admin/", allow_redirects=False)).status == 200
    clock.advance(hours=13)
    response = await browser.client.get("/admin/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/login"


async def test_a_forged_or_garbled_cookie_is_just_an_anonymous_visit(browser: Browser) -> None:
    response = await browser.client.get(
        "/admin/users", headers={"Cookie": "shopbot_backoffice=not-a-fernet-token"}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/admin/login"
