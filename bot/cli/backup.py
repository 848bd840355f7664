"""``shopbot backup`` and ``shopbot restore`` (R3.3-3, R7.1-1): a consistent copy of the database,
encrypted, with a checksum manifest, and the way back.

* PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot, taken while the shop keeps
  selling), restored with ``pg_restore --clean --if-exists --single-transaction``. The client must be
  at least the server's major version (checked before dumping: an older pg_dump refuses or, worse,
  misses objects).
* SQLite (the embedded default): SQLite's online backup API, which copies a consistent snapshot page
  by page while other connections keep writing.

The dump is encrypted with the app's key (``SHOPBOT_ENCRYPTION_KEYS``, Fernet: AES-128-CBC with an
HMAC) because it holds every shopper's data; any key of the list decrypts, so a backup survives key
rotation while the old key is still listed. ``manifest.json`` beside it records the format, the time,
the size and the SHA-256 of both the encrypted file and the plaintext: restore refuses a backup whose
checksums do not match (a truncated copy, a flipped bit, the wrong key) before touching the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import typer
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.settings import load_settings

MANIFEST = "manifest.json"
DUMP = "database.dump.enc"
POSTGRES, SQLITE = "pg_dump-custom", "sqlite"


class BackupError(RuntimeError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    created_at: str
    encrypted_sha256: str
    plaintext_sha256: str
    size: int

    def write(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(_as_dict(self), indent=2))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            raw = json.loads((folder / MANIFEST).read_text())
            return cls(**{name: raw[name] for name in cls.__dataclass_fields__})
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BackupError(f"{folder / MANIFEST} is missing or not a shopbot manifest") from error


def _as_dict(manifest: Manifest) -> dict[str, object]:
    return {name: getattr(manifest, name) for name in Manifest.__dataclass_fields__}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _cipher(keys: list[str]) -> MultiFernet:
    if not keys:
        raise BackupError("no encryption key: set SHOPBOT_ENCRYPTION_KEYS")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The database URL as libpq takes it (no SQLAlchemy driver) and the password as PGPASSWORD,
    so it never shows in the process list."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


async def _server_major(url: URL) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            number = int((await conn.execute(text("SHOW server_version_num"))).scalar_one())
    finally:
        await engine.dispose()
    return number // 10000


def _client_major(tool: str) -> int:
    found = shutil.which(tool)
    if found is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client-15)")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603 - our own tool path
    match = re.search(r"(\d+)(?:\.\d+)?", version)
    if match is None:
        raise BackupError(f"cannot read the version of {tool}: {version!r}")
    return int(match.group(1))


async def _dump_postgres(url: URL) -> bytes:
    server, client = await _server_major(url), _client_major("pg_dump")
    if client < server:
        raise BackupError(
            f"pg_dump {client} is older than the PostgreSQL {server} server: install client {server}"
        )
    target, env = _libpq(url)
    done = await asyncio.to_thread(
        subprocess.run,
        ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--dbname", target],
        capture_output=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _dump_sqlite(url: URL) -> bytes:
    """SQLite's online backup API into a temporary file: a consistent snapshot while writers go on."""
    source = sqlite3.connect(_sqlite_path(url))
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "snapshot.db"
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return copy.read_bytes()


async def take_backup(database_url: str, keys: list[str], folder: Path) -> Manifest:
    """Dump ``database_url`` into ``folder`` (created; must be empty), encrypted, with its manifest."""
    url = make_url(database_url)
    cipher = _cipher(keys)
    await asyncio.to_thread(_empty_folder, folder)
    if url.get_backend_name() == "postgresql":
        kind, plain = POSTGRES, await _dump_postgres(url)
    elif url.get_backend_name() == "sqlite":
        kind, plain = SQLITE, await asyncio.to_thread(_dump_sqlite, url)
    else:
        raise BackupError(f"cannot back up a {url.get_backend_name()} database")
    sealed = cipher.encrypt(plain)
    path = folder / DUMP
    path.write_bytes(sealed)
    path.chmod(0o600)
    manifest = Manifest(kind, datetime.now(UTC).isoformat(), _sha256(sealed), _sha256(plain), len(plain))
    manifest.write(folder)
    return manifest


def _empty_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give each backup its own folder")


def open_backup(folder: Path, keys: list[str]) -> tuple[Manifest, bytes]:
    """The manifest and the decrypted dump, every checksum verified."""
    manifest = Manifest.read(folder)
    try:
        sealed = (folder / DUMP).read_bytes()
    except OSError as error:
        raise BackupError(f"{folder / DUMP} is missing") from error
    if _sha256(sealed) != manifest.encrypted_sha256:
        raise BackupError("the backup file does not match its manifest (damaged or incomplete copy)")
    try:
        plain = _cipher(keys).decrypt(sealed)
    except InvalidToken as error:
        raise BackupError("none of SHOPBOT_ENCRYPTION_KEYS opens this backup") from error
    if _sha256(plain) != manifest.plaintext_sha256:
        raise BackupError("the decrypted dump does not match its manifest")
    return manifest, plain


async def _ensure_postgres_database(url: URL) -> None:
    """Create the target database if it is gone (the drill drops it; so may a disaster)."""
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            exists = await conn.execute(query, {"name": url.database})
            if exists.scalar() is None:
                await conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    finally:
        await admin.dispose()


async def restore_backup(database_url: str, keys: list[str], folder: Path) -> Manifest:
    """Replace ``database_url``'s contents with the backup in ``folder``."""
    url = make_url(database_url)
    manifest, plain = open_backup(folder, keys)
    backend = url.get_backend_name()
    if (manifest.format, backend) not in ((POSTGRES, "postgresql"), (SQLITE, "sqlite")):
        raise BackupError(f"a {manifest.format} backup cannot be restored into {backend}")
    if backend == "sqlite":
        await asyncio.to_thread(_restore_sqlite, _sqlite_path(url), plain)
        return manifest
    _client_major("pg_restore")
    await _ensure_postgres_database(url)
    target, env = _libpq(url)
    done = await asyncio.to_thread(
        subprocess.run,
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            target,
        ],
        input=plain,
        capture_output=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.decode(errors='replace').strip()}")
    return manifest


def _restore_sqlite(path: Path, plain: bytes) -> None:
    """Copy the snapshot into the database file through the backup API (it takes the file's locks,
    so a process that still has it open sees the restored pages, not a torn file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        snapshot = Path(folder) / "snapshot.db"
        snapshot.write_bytes(plain)
        source, target = sqlite3.connect(snapshot), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    path.chmod(0o600)


def backup(folder: Path = typer.Argument(..., help="a new, empty folder for this backup")) -> None:
    """Back up the database (encrypted, with a checksum manifest) into FOLDER."""
    settings = load_settings()
    try:
        manifest = asyncio.run(take_backup(settings.db_url, settings.key_list, folder))
    except BackupError as error:
        typer.echo(f"backup failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"backup of {manifest.size} bytes ({manifest.format}) in {folder}")
    typer.echo(f"sha256 {manifest.plaintext_sha256} (plaintext), manifest: {folder / MANIFEST}")


def restore(
    folder: Path = typer.Argument(..., help="a folder written by `shopbot backup`"),
    yes: bool = typer.Option(False, "--yes", help="replace the current database without asking"),
) -> None:
    """Replace the database with the backup in FOLDER (checksums verified first)."""
    settings = load_settings()
    if not yes:
        name = make_url(settings.db_url).database
        typer.confirm(f"Replace everything in {name} with this backup?", abort=True)
    try:
        manifest = asyncio.run(restore_backup(settings.db_url, settings.key_list, folder))
    except BackupError as error:
        typer.echo(f"restore failed: {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"restored the backup of {manifest.created_at} ({manifest.format})")
