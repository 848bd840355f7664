"""The running bot: pipeline, notifier, senders and the background jobs, built from a Container."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from dataclasses import dataclass, field
from typing import Any

from bot.bootstrap import Container, bootstrap
from bot.nlu_terms import catalogue_terms
from bot.notifications import InboxSender, Notifier, Sender
from bot.pipeline import Pipeline
from bot.settings import Settings, load_settings
from commerce_core.api import Clock, OutboxRelay, PhoneVerifier, SandboxSms
from dialogs.context import DialogSettings
from dialogs.texts import load_texts
from nlu import BuiltinInterpreter, Interpreter, RasaHttpInterpreter

log = logging.getLogger(__name__)
LOCAL_CHANNELS = ("console", "web", "test")


@dataclass
class Runtime:
    container: Container
    pipeline: Pipeline
    notifier: Notifier
    inboxes: dict[str, InboxSender]
    sms: SandboxSms
    interpreter: Interpreter
    jobs_run: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _relay_loop: asyncio.Task[None] | None = None

    @property
    def commerce(self) -> Any:
        return self.container.commerce

    async def tick(self) -> dict[str, int]:
        """One round of every background job; each is idempotent and safe to run anywhere."""
        commerce = self.container.commerce
        figures = {
            "expired": len(await commerce.orders.expire_unpaid()),
            "tracking_events": await commerce.shipments.refresh_open(),
            "delays": len(await commerce.shipments.detect_delays()),
            "refunds_retried": await commerce.payments.retry_pending_refunds(),
            # the relay loop of run_jobs delivers on commit; without it, deliver what is due now
            "notified": 0 if self._relay_loop else await self.relay_notifications(),
        }
        self.jobs_run += 1
        if self.jobs_run % 30 == 0:
            await self.refresh_catalogue()
        return figures

    async def relay_notifications(self) -> int:
        """Push every due outbox event now (after a web turn, so a payment confirmation shows at once)."""
        return await self.outbox_relay().drain()

    def outbox_relay(self) -> OutboxRelay:
        commerce = self.container.commerce
        return OutboxRelay(commerce.engine, commerce.clock, self.notifier.handle, sessions=commerce.sessions)

    async def refresh_catalogue(self) -> None:
        self.interpreter.update_catalogue(await catalogue_terms(self.container.commerce))

    async def run_jobs(self, interval: float = 2.0) -> None:
        self._relay_loop = self._relay_loop or asyncio.create_task(self.outbox_relay().run(self._stop))
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception:  # keep the worker alive; every job retries next round
                log.exception("background jobs failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
        await self._relay_loop  # it stops with the same event

    def stop(self) -> None:
        self._stop.set()

    async def aclose(self) -> None:
        self.stop()
        await self.container.aclose()


def make_interpreter(settings: Settings) -> Interpreter:
    if settings.nlu_backend == "rasa" and settings.rasa_url:
        return RasaHttpInterpreter(settings.rasa_url)
    return BuiltinInterpreter.load(cache_dir=settings.data_dir / "nlu")


def settle_heap(runtime: Runtime) -> None:
    """Load what the first message would, then take all that start-up loaded out of the cycle
    collector's reach (long-running processes only).

    Why: the NLU model, jieba's dictionary and the catalogue terms are millions of objects that live
    as long as the process, and every full collection walked all of them: pauses of up to 140 ms, in
    which no turn is answered (measured in ``bench/turns.py``, five of them in a minute). Frozen
    objects are still freed by reference counting; only cycles among them would outlive the freeze.
    """
    warm_up = getattr(runtime.interpreter, "warm_up", None)  # the built-in NLU; Rasa is remote
    if warm_up is not None:
        warm_up()
    gc.collect()
    gc.freeze()


async def build_runtime(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    redis: Any = None,
    interpreter: Interpreter | None = None,
    dialog: DialogSettings | None = None,
    extra_senders: dict[str, Sender] | None = None,
) -> Runtime:
    settings = settings or load_settings()
    container = bootstrap(settings, clock=clock, redis=redis)
    commerce = container.commerce
    interpreter = interpreter or make_interpreter(settings)
    await commerce.catalog.load_search_terms()
    interpreter.update_catalogue(await catalogue_terms(commerce))
    texts = load_texts()
    sms = SandboxSms()
    assert settings.blind_index_key
    verifier = PhoneVerifier(container.redis, sms, commerce.customers, secret=settings.blind_index_key)
    pipeline = Pipeline(
        commerce, interpreter, container.redis, texts=texts, settings=dialog, verifier=verifier
    )
    inboxes = {channel: InboxSender(container.redis, channel) for channel in LOCAL_CHANNELS}
    senders: dict[str, Sender] = {**inboxes, **(extra_senders or {})}
    notifier = Notifier(commerce, texts, senders)
    return Runtime(container, pipeline, notifier, inboxes, sms, interpreter)
