"""The back office's settings: the session secret and cookie policy, read once when the app is built.

The section ``settings.backoffice`` (``SHOPBOT_BACKOFFICE_*``) is read with the rest of the tree;
here it is resolved: the secret is required in production, and generated once per data directory in
development (``<data dir>/backoffice-secret``, mode 0600) so sessions survive a restart.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.settings import ConfigurationError, Settings

MIN_SECRET_LENGTH = 32


@dataclass(frozen=True, slots=True)
class BackofficeConfig:
    """Everything the back office needs besides the core: resolved, validated, immutable."""

    secret: str
    secure_cookies: bool
    session_lifetime: timedelta = timedelta(hours=12)
    #: how long the "password was right, now the code" step stays open
    second_factor_window: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"SHOPBOT_BACKOFFICE_SECRET must be at least {MIN_SECRET_LENGTH} characters"
            )


def backoffice_config(settings: Settings) -> BackofficeConfig:
    """Resolve the back office's settings for this deployment (see the module docstring)."""
    environment = settings.backoffice
    secret = environment.secret
    if not secret:
        if settings.env == "production":
            raise ConfigurationError("production needs SHOPBOT_BACKOFFICE_SECRET (32+ random characters)")
        secret = _development_secret(settings)
    return BackofficeConfig(
        secret=secret,
        secure_cookies=settings.public_base_url.startswith("https://"),
        session_lifetime=timedelta(hours=environment.session_hours),
    )


def _development_secret(settings: Settings) -> str:
    path = settings.data_dir / "backoffice-secret"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret)
    return secret
