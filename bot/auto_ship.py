"""The demo's merchants at work: paid orders are shipped with the simulated carrier after a few seconds.

Why a setting and not a demo script: ``Runtime.tick`` runs it with the other background jobs in
whichever process runs jobs, so it survives restarts and never ships twice (the core skips a part
that is already shipped). Real deployments leave ``auto_ship_after_seconds`` at 0: merchants ship.
"""

from __future__ import annotations

from datetime import timedelta

from commerce_core.api import Commerce


async def auto_ship(commerce: Commerce, after_seconds: float) -> list[str]:
    """Ship what has waited ``after_seconds`` since payment; nothing when the setting is 0 (off)."""
    if after_seconds <= 0:
        return []
    return await commerce.shipments.ship_waiting(timedelta(seconds=after_seconds))
