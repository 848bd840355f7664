"""The operator edge: the back office for staff and merchants (server-rendered, aiohttp + Jinja2).

Mount it with :func:`setup_backoffice` from the HTTP app; see ``bot/backoffice/app.py`` for how a
request is checked and ``bot/backoffice/routes.py`` for every page and who may open it.
"""

from __future__ import annotations

from bot.backoffice.app import PREFIX, create_backoffice, setup_backoffice
from bot.backoffice.config import BackofficeConfig, backoffice_config

__all__ = ["PREFIX", "BackofficeConfig", "backoffice_config", "create_backoffice", "setup_backoffice"]
