"""The composition root: the one place the system is wired, from one settings tree read once.

:func:`bootstrap` builds the shared pieces and the registries: the channels (one line each in
:data:`CHANNEL_FACTORIES`), the payment providers (the sandbox plus what the channels bring, handed to
``Commerce`` here and nowhere else) and the HTTP app's route installers. :func:`start` adds the
conversation side (NLU, pipeline) and the outbox subscribers (the notifier, with every channel's
sender), then binds the runtime to the channels. The HTTP app, the workers and the command line all
come through here, and tests pass their fakes (a clock, a Redis client, extra channels, extra routes)
through the same functions.

Adding a channel: a package with ``create(context) -> Channel | None`` and one line below (plus its
settings section in :class:`bot.settings.Settings`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

import redis.asyncio as aioredis
from aiohttp.web import Application

from bot.alerts.watch import watch_anomalies
from bot.analytics.recorder import BehaviourRecorder
from bot.backoffice import setup_backoffice
from bot.backoffice.views.dead_letters import RECOVERY
from bot.backoffice.views.onboarding import DESK as ONBOARDING
from bot.carriers.kuaidi100 import Kuaidi100Callback, Kuaidi100Carrier
from bot.catalogue_sync import announce_catalogue_change
from bot.channels import console, web
from bot.channels.base import Channel, ChannelContext, ChannelFactory, RouteInstaller
from bot.channels.telegram import channel as telegram
from bot.channels.telegram.staff_group import StaffGroupAlerts
from bot.channels.wechat import channel as wechat
from bot.infra.redis import as_async_store, make_redis
from bot.media import ChatFiles
from bot.nlu_terms import catalogue_terms
from bot.notifications import Notifier, Sender
from bot.notifications.cases import subscribe_cases
from bot.notifications.catalogue_changes import announce_listing_changes
from bot.notifications.listings import notify_listing_decisions
from bot.notifications.merchant_digest import OrderPacer
from bot.notifications.merchant_orders import notify_part_cancellations
from bot.notifications.merchants import notify_merchants
from bot.notifications.onboarding import notify_applicants
from bot.notifications.questions import notify_new_questions
from bot.notifications.staff_group import connect_staff_room
from bot.notifications.tracking import notify_tracking_stops
from bot.observability.metrics import observer_for
from bot.pipeline import Pipeline, PipelineConfig
from bot.runtime import Container, Runtime
from bot.settings import Settings, load_settings
from bot.sms.tencent import sms_sender
from bot.turns import Pusher, TurnRecovery
from bot.uploads import upload_store
from commerce_core.api import (
    Clock,
    Commerce,
    CommerceConfig,
    EventBuffer,
    ListingPolicy,
    OrderPolicy,
    PhoneVerifier,
    SandboxSms,
    SystemClock,
    create_engine,
)
from dialogs.context import DialogSettings
from dialogs.texts import load_texts
from nlu import BuiltinInterpreter, Interpreter, RasaHttpInterpreter

__all__ = ["CHANNEL_FACTORIES", "Container", "Runtime", "bootstrap", "build_runtime", "start"]

#: every channel the product ships; a factory returns None when its channel is not configured
CHANNEL_FACTORIES: Mapping[str, ChannelFactory] = {
    "console": console.create,
    "web": web.create,
    "telegram": telegram.create,
    "wechat": wechat.create,
}


def commerce_config(settings: Settings) -> CommerceConfig:
    """The core's configuration; the sandbox provider exists only where the settings allow it."""
    assert settings.blind_index_key, "load_settings() fills secrets"
    sandbox = settings.sandbox_payments
    assert settings.sandbox_payment_secret or not sandbox, "load_settings() fills the sandbox's secret"
    return CommerceConfig(
        encryption_keys=settings.key_list,
        blind_index_key=settings.blind_index_key,
        sandbox_payment_secret=settings.sandbox_payment_secret if sandbox else None,
        pay_base_url=settings.public_base_url,
        carrier_speed=settings.carrier_speed,
        order_policy=OrderPolicy(payment_window=timedelta(minutes=settings.payment_window_minutes)),
        listing_policy=ListingPolicy(
            price_change_flag_percent=settings.listings.price_change_flag_percent,
            report_threshold=settings.listings.report_threshold,
        ),
    )


def make_interpreter(settings: Settings) -> Interpreter:
    """The built-in NLU, or Rasa with the built-in NLU as fallback: a Rasa outage then costs accuracy
    (with a warning in the log), not the chat."""
    builtin = BuiltinInterpreter.load(cache_dir=settings.data_dir / "nlu")
    if settings.nlu_backend == "rasa" and settings.rasa_url:
        return RasaHttpInterpreter(settings.rasa_url, fallback=builtin)
    return builtin


def _install_backoffice(
    app: Application, *, commerce: Commerce, settings: Settings, context: ChannelContext
) -> None:
    """The operator edge (staff and merchants) under ``/admin``; its dead-letter page reaches the
    running pipeline through ``context`` (bound once the runtime starts)."""
    backoffice = setup_backoffice(app, commerce, settings)
    # a freeze in the back office reaches every process's NLU catalogue (R4.2-3)
    backoffice[ONBOARDING].catalogue_changed = functools.partial(announce_catalogue_change, context.redis)
    recovery: Callable[[], TurnRecovery] = functools.partial(turn_recovery, context)
    app[RECOVERY] = recovery


def turn_recovery(context: ChannelContext) -> TurnRecovery:
    """Dead letters of the running bot; a retried turn's replies reach the shopper as a push would."""
    runtime = context.runtime

    def sender(channel: str) -> Pusher:
        found = runtime.channels[channel].sender
        return found if found is not None else runtime.inbox(channel)

    return TurnRecovery(runtime.pipeline.handle, context.redis, sender)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    redis: aioredis.Redis | None = None,
    channels: Mapping[str, ChannelFactory] | None = None,
    routes: Sequence[RouteInstaller] = (),
) -> Container:
    """Read the settings (unless given), build the registries and the commerce core.

    ``channels`` adds factories to :data:`CHANNEL_FACTORIES` (one of the same name replaces the
    table's); ``routes`` are extra HTTP route installers, mounted after the channels'.
    """
    settings = settings or load_settings()
    clock = clock or SystemClock()
    redis = redis or make_redis(settings.redis_url)
    context = ChannelContext(settings, redis, clock, load_texts())
    built: dict[str, Channel] = {}
    for name, factory in {**CHANNEL_FACTORIES, **(channels or {})}.items():
        channel = factory(context)
        if channel is not None:
            if channel.name != name:
                raise ValueError(f"the factory registered as {name!r} built channel {channel.name!r}")
            built[name] = channel
    providers = [provider for channel in built.values() for provider in channel.payment_providers]
    engine = create_engine(
        settings.db_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_overflow
    )
    kuaidi100 = settings.kuaidi100
    waybills = [Kuaidi100Carrier(kuaidi100, settings.public_base_url)] if kuaidi100.enabled else []
    commerce = Commerce.build(
        engine, commerce_config(settings), clock=clock, providers=providers, waybills=waybills
    )
    commerce.support.settings = settings.support.core()  # the handoff's wait limit and working hours
    commerce.settlements.fee_percent = settings.platform_fee_percent  # the settlement statement's fee
    installers: list[RouteInstaller] = [channel.install_routes for channel in built.values()]
    installers.append(
        functools.partial(_install_backoffice, commerce=commerce, settings=settings, context=context)
    )
    if waybills:  # Kuaidi100 pushes scans to its callback
        installers.append(Kuaidi100Callback(kuaidi100, commerce.shipments).install)
    installers.extend(routes)
    return Container(settings, commerce, redis, context, built, installers)


async def start(
    container: Container, *, interpreter: Interpreter | None = None, dialog: DialogSettings | None = None
) -> Runtime:
    """The conversation side and the outbox subscribers on top of ``container``; then the channels
    may take traffic."""
    settings, commerce, redis = container.settings, container.commerce, container.redis
    interpreter = interpreter or make_interpreter(settings)
    await commerce.catalog.load_search_terms()
    interpreter.update_catalogue(await catalogue_terms(commerce))
    texts = container.context.texts
    dialog = dialog or DialogSettings()
    chosen = {c.name: c.payment_provider for c in container.channels.values() if c.payment_provider}
    dialog = dataclasses.replace(dialog, channel_providers={**chosen, **dialog.channel_providers})
    if not settings.sandbox_payments:  # no sandbox: no "pay (sandbox)" button, no sandbox default
        default = settings.web_payment_provider or dialog.payment_provider
        dialog = dataclasses.replace(dialog, sandbox_payments=False, payment_provider=default)
    # channels whose shoppers pick a provider (the web chat with Alipay and WeChat Pay NATIVE)
    offered = {c.name: tuple(getattr(c, "payment_choices", ())) for c in container.channels.values()}
    choices = {name: names for name, names in offered.items() if len(names) > 1}
    dialog = dataclasses.replace(dialog, channel_choices={**choices, **dialog.channel_choices})
    sms = SandboxSms()
    assert settings.blind_index_key
    verifier = PhoneVerifier(
        as_async_store(redis),
        sms_sender(settings.sms, sms),
        commerce.customers,
        secret=settings.blind_index_key,
        limits=settings.rate.sms_limits(),
        reveal_sandbox_codes=settings.env == "development",
    )
    config = PipelineConfig(
        chat_user_per_minute=settings.rate.chat_user_per_minute,
        lock_timeout=settings.turn_lease_seconds,
        instance=settings.instance,
    )
    pipeline = Pipeline(
        commerce, interpreter, redis, texts=texts, settings=dialog, verifier=verifier, config=config
    )
    pipeline.observer = observer_for(settings.metrics.enabled, commerce, settings.blind_index_key)
    if settings.analytics.enabled:  # behaviour events, written in batches (bot.analytics)
        events = settings.analytics
        buffer = EventBuffer(commerce.analytics, interval=events.flush_seconds, batch_size=events.batch_size)
        pipeline.behaviour = BehaviourRecorder(commerce, buffer)
        commerce.payments.on_paid = commerce.analytics.paid_hook()  # `paid` rows, in the capture's commit
    # documents an applicant sends in the chat land in the upload store the reviewer opens (R4.2-1)
    pipeline.keep_attachment = ChatFiles(upload_store(settings.data_dir), container.channels)
    senders: dict[str, Sender] = {
        name: channel.sender for name, channel in container.channels.items() if channel.sender is not None
    }
    notifier = notify_merchants(Notifier(commerce, texts, senders), commerce, OrderPacer(redis))
    subscribe_cases(notifier.subscribers, commerce)  # the after-sales desk: shoppers, staff, merchants told
    notify_listing_decisions(notifier, commerce)  # listing review decisions reach the merchant
    notify_new_questions(notifier, commerce, settings.public_base_url)  # a shopper's question: the seller
    notify_tracking_stops(notifier)  # a waybill Kuaidi100 gave up on twice: the merchant and staff
    notifier = connect_telegram_staff_group(notifier, container.channels.get("telegram"))
    notify_applicants(notifier)  # merchant applicants who applied in chat hear the review's outcome
    notify_part_cancellations(notifier, commerce)  # a merchant cancelled its part: the shopper is told
    announce_listing_changes(notifier, redis)  # listings on/off sale reach every process's search and NLU
    watch_anomalies(notifier, commerce, settings.alerts)  # anomaly rules; alerts reach staff (bot.alerts)
    runtime = Runtime(container, pipeline, notifier, sms, interpreter)
    container.context.bind(runtime)
    return runtime


def connect_telegram_staff_group(notifier: Notifier, channel: Channel | None) -> Notifier:
    """The Telegram staff group (when configured): topics per handoff and staff-queue alerts."""
    group = channel.staff_group if isinstance(channel, telegram.TelegramChannel) else None
    if group is None:
        return notifier
    return connect_staff_room(notifier, group, group.chat, StaffGroupAlerts(group))


async def build_runtime(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    redis: aioredis.Redis | None = None,
    interpreter: Interpreter | None = None,
    dialog: DialogSettings | None = None,
    channels: Mapping[str, ChannelFactory] | None = None,
    routes: Sequence[RouteInstaller] = (),
) -> Runtime:
    """:func:`bootstrap` then :func:`start`: the whole running bot."""
    container = bootstrap(settings, clock=clock, redis=redis, channels=channels, routes=routes)
    return await start(container, interpreter=interpreter, dialog=dialog)
