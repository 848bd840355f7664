"""``shopbot db``, ``shopbot seed``, ``shopbot orders`` and ``shopbot demo``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from bot.cli.operators import ensure_demo_logins, print_demo_logins
from bot.cli.running import run_in_container
from bot.runtime import Container
from bot.settings import load_settings
from commerce_core.api import AddressInput, Commerce, SearchQuery, seed_demo
from commerce_core.api import migrate_database as upgrade

db_app = typer.Typer(no_args_is_help=True)
seed_app = typer.Typer(no_args_is_help=True)
orders_app = typer.Typer(no_args_is_help=True)
T = TypeVar("T")


def _run(work: Callable[[Container], Awaitable[T]]) -> T:
    return run_in_container(work)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to SHOPBOT_DATABASE_URL (or the embedded SQLite file)."""
    settings = load_settings()
    asyncio.run(upgrade(settings.db_url))
    typer.echo(f"database at head: {settings.db_url.split('@')[-1]}")


@seed_app.command("demo")
def seed_demo_command() -> None:
    """Load the demo catalogue (merchants, categories, ~200 products) into an empty database."""

    settings = load_settings()
    typer.echo("Bringing the database up to date first (shopbot db upgrade)...")
    asyncio.run(upgrade(settings.db_url))  # a fresh data dir has no tables yet: never a raw traceback

    async def work(c: Container) -> None:
        report = await seed_demo(c.commerce)
        typer.echo(
            f"seeded {report.merchants} merchants, {report.categories} categories, "
            f"{report.products} products, {report.skus} SKUs"
        )

    _run(work)


@orders_app.command("list")
def orders_list(
    as_json: bool = typer.Option(False, "--json", help="one JSON array"),
    status: str | None = typer.Option(None, help="only orders in this status"),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """Orders with number, status, total and lines (masked address only)."""

    async def work(c: Container) -> None:
        orders = await c.commerce.orders.list_recent(status=status, limit=limit)
        if as_json:
            typer.echo(json.dumps([o.to_operator_dict() for o in orders], ensure_ascii=False, indent=1))
            return
        for o in orders:
            typer.echo(f"{o.number}  {o.status:<16} {o.total.format():>12}  {len(o.lines)} line(s)")

    _run(work)


async def ensure_demo_catalogue(commerce: Commerce, *, quiet: bool = False) -> None:
    """Seed the demo catalogue into an empty database (the embedded default starts empty)."""
    if await commerce.catalog.categories():
        return
    report = await seed_demo(commerce)
    if not quiet:
        typer.echo(f"Seeded the demo catalogue: {report.products} products, {report.skus} SKUs.")


def demo(
    once: bool = typer.Option(False, "--once", help="show a sample purchase and exit (no server)"),
) -> None:
    """Set up the embedded default, seed the demo catalogue and run the web chat (and Telegram if set)."""
    from bot.bootstrap import build_runtime
    from bot.cli.serve import demo_settings, run_server

    settings = demo_settings()
    asyncio.run(upgrade(settings.db_url))
    if once:
        _run(sample_purchase)
        return

    async def go() -> None:
        runtime = await build_runtime(settings)
        try:
            await ensure_demo_catalogue(runtime.container.commerce)
            logins = await ensure_demo_logins(runtime.container.commerce, settings.data_dir)
            await runtime.refresh_catalogue()
            url = f"http://{settings.http_host}:{settings.http_port}/"
            telegram = (
                "polling as your bot"
                if "telegram" in runtime.channels
                else "set TELEGRAM_BOT_TOKEN to chat on Telegram too"
            )
            after = settings.auto_ship_after_seconds
            shipping = (
                f"The demo merchants ship paid orders after {after:g} s"
                if after
                else "Ship paid orders in the merchant console (/admin/merchant/orders)"
            )
            typer.echo(f"""
shopbot demo is running on the embedded default ({settings.data_dir}/shopbot.db, in-process Redis).
  Web chat:  {url}
  Terminal:  {chat_command()}   (in another shell)
  Telegram:  {telegram}
Try: "有没有红色连衣裙", "第一个", "加入购物车", "结算", then pay with the sandbox button;
     "where is my order", "我要退货", "English please", "繁體中文", "人工客服".
{shipping}; parcels move an hour per second. Ctrl-C stops.""")
            print_demo_logins(logins, url)
            await run_server(runtime, settings.http_host, settings.http_port)
        finally:
            await runtime.aclose()

    asyncio.run(go())


def chat_command() -> str:
    """The way to start the terminal chat from this shell: ``shopbot chat`` only if ``shopbot`` is on
    PATH, otherwise the path of the script beside this interpreter (e.g. ``.venv/bin/shopbot chat``)."""
    if shutil.which("shopbot"):
        return "shopbot chat"
    script = Path(sys.executable).with_name("shopbot")
    if script.exists():
        relative = os.path.relpath(script)
        return f"{relative if not relative.startswith('../..') else script} chat"
    return f"{sys.executable} -c 'from bot.cli import main; main()' chat"


async def sample_purchase(c: Container) -> None:
    commerce = c.commerce
    await ensure_demo_catalogue(commerce)
    typer.echo("\nTop sellers:")
    for item in (await commerce.catalog.popular(limit=5)).items:
        typer.echo(f"  {item.code}  {item.title('zh-Hans')} / {item.title('en')}  {item.min_price.format()}")
    typer.echo("\nSearch '红色连衣裙':")
    for item in (await commerce.catalog.search(SearchQuery(text="红色连衣裙", page_size=3))).items:
        typer.echo(f"  {item.code}  {item.title('zh-Hans')}  {item.min_price.format()}")
    shopper = await commerce.customers.identify("console", "demo-shopper", language="zh-Hans")
    product = (await commerce.catalog.popular(limit=1)).items[0]
    sku = next(s for s in (await commerce.catalog.get_product(product.code)).skus if s.available > 0)
    await commerce.cart.add(shopper.id, sku.code, 1)
    order = await commerce.orders.place(
        shopper.id,
        AddressInput("张三", "13812345678", "上海", "浦东新区世纪大道100号", region="上海市"),
        idempotency_key=str(uuid.uuid4()),
    )
    payment = await commerce.payments.start(order.number, customer_id=shopper.id)
    await commerce.payments.sandbox_pay(payment.payment_id)
    paid = await commerce.orders.get(order.number)
    typer.echo(
        f"\nSample order {paid.number}: {paid.lines[0].title('zh-Hans')} x1, "
        f"total {paid.total.format()}, status {paid.status}, ship to {paid.masked_address}"
    )
    typer.echo("")
    back_office = f"http://{c.settings.http_host}:{c.settings.http_port}/"
    print_demo_logins(await ensure_demo_logins(commerce, c.settings.data_dir), back_office)
    typer.echo("\nNext: `shopbot orders list --json` shows every order.")
