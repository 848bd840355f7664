"""``shopbot staff add`` and ``shopbot merchant-user add``: back-office accounts from the shell, and the
demo's ready-made logins.

Why from the shell: the first admin has to come from somewhere other than the back office itself. The
command acts as the server (``SYSTEM_ACTOR``), so it may create any role; the core writes the audit
row. A password comes from ``--password-stdin`` (for scripts), an interactive prompt, or, when
neither is possible, is generated and printed exactly once.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import typer

from bot.cli.running import run_in_container
from commerce_core.api import SYSTEM_ACTOR, Commerce, OperatorRole, OperatorView

staff_app = typer.Typer(no_args_is_help=True)
merchant_user_app = typer.Typer(no_args_is_help=True)
T = TypeVar("T")


class StaffRole(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    REVIEWER = "reviewer"


class MerchantUserRole(StrEnum):
    OWNER = "owner"
    STAFF = "staff"


_MERCHANT_ROLES = {
    MerchantUserRole.OWNER: OperatorRole.MERCHANT_OWNER,
    MerchantUserRole.STAFF: OperatorRole.MERCHANT_STAFF,
}


def register(app: typer.Typer) -> None:
    """Add the operator commands to the ``shopbot`` app (one line in ``bot.cli``)."""
    app.add_typer(staff_app, name="staff", help="Back-office staff accounts (admin, agent, reviewer).")
    app.add_typer(merchant_user_app, name="merchant-user", help="Back-office accounts of a merchant.")


def _run(work: Callable[[Commerce], Awaitable[T]]) -> T:
    return run_in_container(lambda container: work(container.commerce))


def generate_password() -> str:
    """Sixteen URL-safe characters (96 bits): strong, and easy to paste."""
    return secrets.token_urlsafe(12)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, whether it was generated and must be shown)."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            typer.echo("error: --password-stdin given but no password on standard input", err=True)
            raise typer.Exit(2)
        return line, False
    if sys.stdin.isatty():
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return generate_password(), True


def _created(view: OperatorView, password: str, generated: bool) -> None:
    where = f" of merchant {view.merchant_code}" if view.merchant_code else ""
    typer.echo(f"Created {view.role.value} {view.email}{where} ({view.public_id}).")
    if generated:
        typer.echo(f"Password (shown once, change it after the first login): {password}")


PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="read the password from standard input")
NAME = typer.Option("", "--name", help="display name")
LANG = typer.Option("en", "--lang", help="zh-Hans, zh-Hant or en")


@staff_app.command("add")
def staff_add(
    email: str = typer.Argument(..., help="the login e-mail"),
    role: StaffRole = typer.Option(..., "--role", help="admin, agent or reviewer"),
    password_stdin: bool = PASSWORD_STDIN,
    name: str = NAME,
    lang: str = LANG,
) -> None:
    """Create a staff account of the platform."""
    password, generated = _password(password_stdin)

    async def work(commerce: Commerce) -> OperatorView:
        return await commerce.operators.create(
            email, password, OperatorRole(role.value), display_name=name, language=lang, actor=SYSTEM_ACTOR
        )

    _created(_run(work), password, generated)


@merchant_user_app.command("add")
def merchant_user_add(
    email: str = typer.Argument(..., help="the login e-mail"),
    merchant: str = typer.Option(..., "--merchant", help="the merchant's code"),
    role: MerchantUserRole = typer.Option(MerchantUserRole.OWNER, "--role", help="owner or staff"),
    password_stdin: bool = PASSWORD_STDIN,
    name: str = NAME,
    lang: str = LANG,
) -> None:
    """Create an account of one merchant (it sees only that merchant's data)."""
    password, generated = _password(password_stdin)

    async def work(commerce: Commerce) -> OperatorView:
        return await commerce.operators.create(
            email,
            password,
            _MERCHANT_ROLES[role],
            merchant_code=merchant,
            display_name=name,
            language=lang,
            actor=SYSTEM_ACTOR,
        )

    _created(_run(work), password, generated)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    role: OperatorRole
    merchant_code: str | None


#: the demo's accounts: an admin, and the owner of the first demo merchant
DEMO_ACCOUNTS = (
    ("admin@shopbot.example", OperatorRole.ADMIN, None),
    ("owner@lumi.example", OperatorRole.MERCHANT_OWNER, "lumi-apparel"),
)


async def ensure_demo_logins(commerce: Commerce, data_dir: Path) -> list[DemoLogin]:
    """Create the demo accounts if missing and return their logins.

    Passwords are random per data directory and kept in ``demo-logins.json`` (0600) next to the
    database, so every run prints the same logins; an account whose password was lost is given a
    new one."""
    path = data_dir / "demo-logins.json"
    saved = _read_logins(path)
    existing = {user.email: user for user in await commerce.operators.list_users()}
    logins = []
    for email, role, merchant in DEMO_ACCOUNTS:
        password = saved.get(email) or generate_password()
        user = existing.get(email)
        if user is None:
            await commerce.operators.create(
                email, password, role, merchant_code=merchant, display_name="Demo", actor=SYSTEM_ACTOR
            )
        elif email not in saved:
            await commerce.operators.reset_password(user.public_id, password, SYSTEM_ACTOR)
        saved[email] = password
        logins.append(DemoLogin(email, password, role, merchant))
    _save_logins(path, saved)
    return logins


def _read_logins(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}


def _save_logins(path: Path, saved: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(json.dumps(saved, indent=1))
    os.chmod(path, 0o600)


def print_demo_logins(logins: list[DemoLogin], base_url: str) -> None:
    typer.echo(f"Back office: {base_url.rstrip('/')}/admin/login")
    for login in logins:
        merchant = f" of {login.merchant_code}" if login.merchant_code else ""
        typer.echo(f"  {login.role.value}{merchant}: {login.email} / {login.password}")
