"""The web chat's payments: its providers (Alipay's and WeChat Pay NATIVE's QR codes, or the sandbox
outside production), their notify endpoints, and the QR image the page shows.

Why a QR image served by us: both providers hand back a URL meant to be scanned by the phone's Alipay
or WeChat app; shown as text it is useless on a desktop. The image is drawn with ``segno`` from the
pending payment's URL, looked up by the random payment id the shopper was handed; once the payment is
settled the image is gone (404).
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Sequence

import httpx
import segno
from aiohttp import web

from bot.channels.base import ChannelContext
from bot.channels.wechat.pay import SUCCESS_XML, WeChatPayProvider, fail_xml
from bot.payments.alipay import SUCCESS_BODY, AlipayProvider
from bot.payments.settings import ALIPAY, WECHATPAY_NATIVE
from commerce_core.api import PaymentProvider, PaymentRejected, customer_key

log = logging.getLogger(__name__)
QR_PROVIDERS = frozenset({ALIPAY, WECHATPAY_NATIVE})
_PAYMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,40}")


class WebPayments:
    """The providers the web chat offers and their routes; built by the web channel."""

    def __init__(self, context: ChannelContext, http: httpx.AsyncClient | None = None) -> None:
        self.context = context
        settings = context.settings
        platforms = settings.payments.alipay.enabled or settings.wechat.pay_enabled
        # a client of our own only when there is a payment platform to talk to
        self._own_http = http is None and platforms
        self.http = (http or httpx.AsyncClient(timeout=httpx.Timeout(10.0))) if platforms else http
        providers: list[PaymentProvider] = []
        self.alipay: AlipayProvider | None = None
        self.wechat_native: WeChatPayProvider | None = None
        if settings.payments.alipay.enabled and self.http is not None:
            self.alipay = AlipayProvider(settings.payments.alipay, settings.public_base_url, self.http)
            providers.append(self.alipay)
        if settings.wechat.pay_enabled and self.http is not None:
            wechat = settings.wechat.model_copy(
                update={"public_base_url": settings.wechat.public_base_url or settings.public_base_url}
            )
            self.wechat_native = WeChatPayProvider(
                wechat,
                self.http,
                context.redis,
                name=WECHATPAY_NATIVE,
                trade_type="NATIVE",
                notify_path=f"/payments/{WECHATPAY_NATIVE}/notify",
            )
            providers.append(self.wechat_native)
        self.providers: Sequence[PaymentProvider] = tuple(providers)
        #: the provider web shoppers pay with (the dialog's choice for the "web" channel)
        self.provider: str | None = settings.web_payment_provider
        #: the providers web shoppers pick between: both QR providers when both are configured and
        #: SHOPBOT_PAYMENTS_WEB does not pin one; empty otherwise (one provider: paid as before)
        self.choices: tuple[str, ...] = (
            tuple(p.name for p in self.providers)
            if settings.payments.web is None and len(self.providers) > 1
            else ()
        )

    def install_routes(self, app: web.Application) -> None:
        app.router.add_get("/pay/qr/{payment}.svg", self.qr_image)
        if self.alipay is not None:
            app.router.add_post(self.context.settings.payments.alipay.notify_path, self.alipay_notify)
        if self.wechat_native is not None:
            app.router.add_post(f"/payments/{WECHATPAY_NATIVE}/notify", self.wechat_native_notify)

    async def qr_image(self, request: web.Request) -> web.Response:
        payment = request.match_info["payment"]
        if not _PAYMENT_ID.fullmatch(payment):
            raise web.HTTPNotFound()
        found = await self.context.runtime.container.commerce.payments.pending_pay_url(payment)
        if found is None or found[0] not in QR_PROVIDERS:
            raise web.HTTPNotFound()
        buffer = io.BytesIO()
        segno.make(found[1], error="m").save(buffer, kind="svg", scale=6, border=2, xmldecl=False)
        return web.Response(
            body=buffer.getvalue(), content_type="image/svg+xml", headers={"Cache-Control": "no-store"}
        )

    async def _notify(self, provider: str, request: web.Request) -> bool:
        """Record the provider's notification, then relay the payer's own notifications (their
        confirmation) at once. Only the payer's: relaying the whole outbox here made the provider's
        callback wait for everybody's notifications (issue 16); the rest are the relay job's."""
        runtime = self.context.runtime
        try:
            outcome = await runtime.container.commerce.payments.handle_notification(
                provider, await request.read(), request.headers
            )
        except PaymentRejected as error:
            log.warning("%s notification refused (%s)", provider, error.code)
            return False
        if outcome.customer_id is not None:
            try:
                await runtime.outbox_relay().drain_recipients([customer_key(outcome.customer_id)])
            except Exception:  # the payment is recorded: the relay job delivers the confirmation
                log.exception("relaying the payer's notifications failed; the relay job will")
        return True

    async def alipay_notify(self, request: web.Request) -> web.Response:
        if await self._notify(ALIPAY, request):
            return web.Response(text=SUCCESS_BODY)
        return web.Response(status=400, text="fail")

    async def wechat_native_notify(self, request: web.Request) -> web.Response:
        if await self._notify(WECHATPAY_NATIVE, request):
            return web.Response(text=SUCCESS_XML, content_type="application/xml")
        return web.Response(status=400, text=fail_xml("refused"), content_type="application/xml")

    async def aclose(self) -> None:
        if self._own_http and self.http is not None:
            await self.http.aclose()
