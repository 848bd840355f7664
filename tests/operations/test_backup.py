"""Backup drill (R3.3-3, R7.1-1), on SQLite (online backup API) and PostgreSQL (pg_dump custom format):
orders placed, a backup taken while more are being placed, the database destroyed, the backup
restored -> every order committed before the backup is there and unchanged. The backup is encrypted
(no plaintext order data in it) and a damaged copy or a wrong key is refused before anything is
touched."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.cli.backup import DUMP, BackupError, restore_backup, take_backup
from commerce_core.api import AddressInput, Commerce, CommerceConfig, OrderView, create_engine
from commerce_core.api import migrate_database as upgrade
from commerce_core.orders.types import LineRequest
from tests.commerce.factory import build_shop
from tests.conftest import POSTGRES_ADMIN_URL, TEST_KEYS, missing_service

ADDRESS = AddressInput("备份测试", "13700001111", "上海", "徐汇区漕溪北路1号", region="上海市")
CONFIG = CommerceConfig(
    encryption_keys=TEST_KEYS,
    blind_index_key="backup-index-key",
    sandbox_payment_secret="drill-sandbox-secret-1",
)


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A database of the test's own (the drill destroys it), migrated."""
    if request.param == "sqlite":
        path = tmp_path / "shop.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = f"shopbot_backup_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        await admin.dispose()
        missing_service("PostgreSQL", exc)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        await upgrade(url)
        yield url
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def destroy(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240 - a test
        return
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE "{parsed.database}" WITH (FORCE)'))
    await admin.dispose()


async def place(commerce: Commerce, customer_id: int, sku: str, n: int) -> OrderView:
    key = f"drill-{uuid.uuid4().hex}"
    return await commerce.orders.place(customer_id, ADDRESS, key, items=[LineRequest(sku, n)])


async def test_backup_drill_restores_every_order_committed_before_the_backup(
    database: str, tmp_path: Path
) -> None:
    commerce = Commerce.build(create_engine(database), CONFIG)
    await build_shop(commerce, stock=10_000)
    customer = await commerce.customers.identify("web", "drill-shopper", language="zh-Hans")
    wanted = (("D1-RED-M", 1), ("H1-BLK", 2), ("D2-BLK-S", 3))
    before = [await place(commerce, customer.id, sku, n) for sku, n in wanted]
    payment = await commerce.payments.start(before[0].number)
    await commerce.payments.sandbox_pay(payment.payment_id)  # one of them paid: its status must survive
    committed = {order.number: await commerce.orders.get(order.number) for order in before}
    assert committed[before[0].number].status == "paid"

    during: list[OrderView] = []
    backing_up = True

    async def keep_selling() -> None:  # shoppers do not stop for the backup
        while backing_up:
            during.append(await place(commerce, customer.id, "D3-BLU-M", 1))
            await asyncio.sleep(0)

    seller = asyncio.create_task(keep_selling())
    try:
        manifest = await take_backup(database, TEST_KEYS, tmp_path / "backup")
    finally:
        backing_up = False
        await seller
    assert during, "orders were placed while the backup ran"
    await commerce.close()
    sealed = (tmp_path / "backup" / DUMP).read_bytes()
    assert ADDRESS.phone.encode() not in sealed and b"CREATE TABLE" not in sealed and b"orders" not in sealed
    assert manifest.size > 0

    await destroy(database)
    await restore_backup(database, TEST_KEYS, tmp_path / "backup")

    restored = Commerce.build(create_engine(database), CONFIG)
    try:
        for number, order in committed.items():
            assert await restored.orders.get(number) == order  # there, and unchanged
        recent = await restored.orders.list_recent(limit=1000)
        assert len(recent) >= len(committed)
        for order in recent:  # orders caught mid-backup are whole or absent, never torn
            assert order.lines and order.total.amount > 0
        assert len(recent) <= len(committed) + len(during)
    finally:
        await restored.close()


async def test_a_damaged_backup_or_a_wrong_key_is_refused_before_the_database_is_touched(
    tmp_path: Path, sqlite_template: Path
) -> None:
    path = tmp_path / "shop.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    await take_backup(url, TEST_KEYS, tmp_path / "b")
    with pytest.raises(BackupError, match="not empty"):
        await take_backup(url, TEST_KEYS, tmp_path / "b")
    before = path.read_bytes()
    with pytest.raises(BackupError, match="none of SHOPBOT_ENCRYPTION_KEYS"):
        await restore_backup(url, [Fernet.generate_key().decode()], tmp_path / "b")
    dump = tmp_path / "b" / DUMP
    dump.write_bytes(dump.read_bytes()[:-10])
    with pytest.raises(BackupError, match="does not match its manifest"):
        await restore_backup(url, TEST_KEYS, tmp_path / "b")
    assert path.read_bytes() == before


def test_the_cli_backs_up_and_restores_the_embedded_database(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "shopbot.db"
    path.parent.mkdir()
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    monkeypatch.setenv("SHOPBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SHOPBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPBOT_ENCRYPTION_KEYS", TEST_KEYS[0])
    runner = CliRunner()
    taken = runner.invoke(cli, ["backup", str(tmp_path / "nightly")])
    assert taken.exit_code == 0, taken.output
    assert "sqlite" in taken.output and (tmp_path / "nightly" / "manifest.json").exists()
    path.unlink()
    refused = runner.invoke(cli, ["restore", str(tmp_path / "nightly")], input="n\n")
    assert refused.exit_code != 0 and not path.exists()  # asked, declined: nothing done
    restored = runner.invoke(cli, ["restore", "--yes", str(tmp_path / "nightly")])
    assert restored.exit_code == 0, restored.output
    assert path.exists()
