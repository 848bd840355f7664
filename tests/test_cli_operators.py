"""The operator commands as an administrator meets them: `shopbot staff add`, `shopbot merchant-user
add`, and the back-office logins `shopbot demo` prints."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.bootstrap import bootstrap
from bot.cli import app
from bot.settings import load_settings
from commerce_core.api import OperatorRole, OperatorView


def run(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    """The ``shopbot`` command in this process (a fresh interpreter costs ~10 s on a busy machine)."""
    env = {"SHOPBOT_DATA_DIR": str(data_dir), "SHOPBOT_DATABASE_URL": None, "SHOPBOT_REDIS_URL": "memory://"}
    return CliRunner().invoke(app, list(args), input=stdin, env=env)


def sign_in(data_dir: Path, email: str, password: str) -> OperatorView:
    """Sign in against the database the commands wrote, as the back office would."""

    async def go() -> OperatorView:
        container = bootstrap(load_settings(data_dir=data_dir, database_url=None, redis_url="memory://"))
        try:
            return await container.commerce.operators.authenticate(email, password, totp_code=None, ip=None)
        finally:
            await container.aclose()

    return asyncio.run(go())


LOGIN_LINE = re.compile(r"^\s+\S+(?: of \S+)?: (\S+@\S+) / (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("operators-cli")
    result = run(data_dir, "demo", "--once")
    assert result.exit_code == 0, result.stderr
    return data_dir, result.stdout


@pytest.fixture(scope="module")
def demo_dir(demo_run: tuple[Path, str]) -> Path:
    return demo_run[0]


def test_demo_prints_working_back_office_logins_and_keeps_them(demo_run: tuple[Path, str]) -> None:
    demo_dir, output = demo_run
    assert "Back office: http://127.0.0.1:8080/admin/login" in output
    logins = dict(LOGIN_LINE.findall(output))
    assert set(logins) == {"admin@shopbot.example", "owner@lumi.example"}
    admin = sign_in(demo_dir, "admin@shopbot.example", logins["admin@shopbot.example"])
    owner = sign_in(demo_dir, "owner@lumi.example", logins["owner@lumi.example"])
    assert admin.role is OperatorRole.ADMIN
    assert owner.role is OperatorRole.MERCHANT_OWNER and owner.merchant_code == "lumi-apparel"
    saved = demo_dir / "demo-logins.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    again = run(demo_dir, "demo", "--once")
    assert again.exit_code == 0 and dict(LOGIN_LINE.findall(again.stdout)) == logins
    saved.unlink()  # a lost password file: the accounts get new passwords, which work
    renewed = dict(LOGIN_LINE.findall(run(demo_dir, "demo", "--once").stdout))
    assert renewed["admin@shopbot.example"] != logins["admin@shopbot.example"]
    sign_in(demo_dir, "admin@shopbot.example", renewed["admin@shopbot.example"])


def test_staff_add_with_a_generated_or_piped_password(demo_dir: Path) -> None:
    made = run(demo_dir, "staff", "add", "Agent@Example.com", "--role", "agent", "--name", "Ann")
    assert made.exit_code == 0, made.stderr
    assert "Created agent agent@example.com (OP" in made.stdout
    password = made.stdout.split("Password (shown once, change it after the first login): ", 1)[1].strip()
    assert sign_in(demo_dir, "agent@example.com", password).display_name == "Ann"

    piped = run(
        demo_dir,
        "staff",
        "add",
        "rev@example.com",
        "--role",
        "reviewer",
        "--password-stdin",
        stdin="a long piped secret\n",
    )
    assert piped.exit_code == 0, piped.stderr
    assert "Password" not in piped.stdout  # the caller chose it; nothing to show
    assert sign_in(demo_dir, "rev@example.com", "a long piped secret").role is OperatorRole.REVIEWER


def test_merchant_user_add_ties_the_account_to_an_existing_merchant(demo_dir: Path) -> None:
    made = run(
        demo_dir,
        "merchant-user",
        "add",
        "packer@lumi.example",
        "--merchant",
        "lumi-apparel",
        "--role",
        "staff",
        "--password-stdin",
        stdin="packing all day long\n",
    )
    assert made.exit_code == 0, made.stderr
    assert "Created merchant_staff packer@lumi.example of merchant lumi-apparel" in made.stdout
    assert sign_in(demo_dir, "packer@lumi.example", "packing all day long").merchant_code == "lumi-apparel"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ("staff", "add", "weak@example.com", "--role", "admin", "--password-stdin"),
            "123\n",
            "[weak_password]",
        ),
        (("staff", "add", "admin@shopbot.example", "--role", "admin"), None, "[email_taken]"),
        (
            ("merchant-user", "add", "x@example.com", "--merchant", "no-such-shop"),
            None,
            "[merchant_not_found]",
        ),
        (("staff", "add", "not-an-email", "--role", "agent"), None, "[invalid_email]"),
    ],
)
def test_bad_input_is_a_clear_error_not_a_traceback(
    demo_dir: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = run(demo_dir, *args, stdin=stdin)
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_role_is_refused_by_the_command_line(demo_dir: Path) -> None:
    result = run(demo_dir, "staff", "add", "x@example.com", "--role", "superuser")
    assert result.exit_code == 2 and "superuser" in result.stderr
