"""Every back-office text exists in zh-Hans, zh-Hant and en, and every key the pages use exists."""

from __future__ import annotations

import re
from pathlib import Path

from bot.backoffice.i18n import LANGUAGES, load_catalogues
from bot.backoffice.pages import PROBLEMS
from commerce_core.api import ListingStatus, OperatorRole, OrderStatus

PACKAGE = Path(__file__).resolve().parents[2] / "bot" / "backoffice"


def test_the_three_languages_have_the_same_keys_and_placeholders() -> None:
    catalogues = load_catalogues()
    english = catalogues.keys("en")
    for lang in LANGUAGES:
        assert catalogues.keys(lang) == english, f"{lang}: {sorted(catalogues.keys(lang) ^ english)}"
        for key in english:
            template = catalogues.by_language[lang][key]
            assert template.strip(), f"{lang} {key} is empty"
            assert set(re.findall(r"{(\w+)}", template)) == set(
                re.findall(r"{(\w+)}", catalogues.by_language["en"][key])
            ), f"{lang} {key}"


def test_every_key_the_templates_and_handlers_use_exists() -> None:
    keys = load_catalogues().keys("en")
    used: set[str] = set()
    for path in (PACKAGE / "templates").glob("*.html"):
        used |= set(re.findall(r"""(?<![\w.])t\(["']([a-z_.\-]+[a-z_])["']""", path.read_text()))
    for path in (PACKAGE / "views").glob("*.py"):
        used |= set(re.findall(r"""(?:text|flash)\(request, "([a-z_.\-]+)"\)""", path.read_text()))
    assert used and used <= keys, sorted(used - keys)
    # keys built from values: every role, listing and order status, admin action and error page
    built = {f"role.{r}" for r in OperatorRole} | {f"listing.{s}" for s in ListingStatus}
    built |= {f"order_status.{s}" for s in OrderStatus}
    for action in ("disable", "enable", "end-sessions", "reset-totp", "reset-password"):
        built |= {f"users.action.{action}", f"users.done.{action}"}
    for reason in ("forbidden", "csrf", "not_found", "bad_request"):
        built |= {f"error.{reason}.title", f"error.{reason}.text"}
    built |= {f"home.intro.{r}" for r in OperatorRole}
    built |= set(PROBLEMS.values())
    assert built <= keys, sorted(built - keys)


def test_traditional_texts_are_in_traditional_script() -> None:
    sample = " ".join(load_catalogues().by_language["zh-Hant"].values())
    for simplified in ("订单", "账户", "密码", "用户", "登录", "审计", "这"):
        assert simplified not in sample, simplified
