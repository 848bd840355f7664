"""WeChat routes in the HTTP app.

GET  /wechat                  URL verification (echostr) with signature and timestamp checks
POST /wechat                  messages and events (plaintext, compatible or safe mode)
POST /wechat/pay/notify       WeChat Pay notifications (v2 XML), answered with SUCCESS/FAIL XML
GET  /wechat/pay/{payment}    the JSAPI pay page opened inside WeChat
"""

from __future__ import annotations

import html
import json
import logging
import secrets
from collections.abc import Mapping

from aiohttp import web

from bot.channels.wechat.channel import WeChatChannel
from bot.channels.wechat.pay import SUCCESS_XML, fail_xml
from commerce_core.api import DomainError

log = logging.getLogger(__name__)
CHANNEL: web.AppKey[WeChatChannel] = web.AppKey("wechat_channel", WeChatChannel)


def install_routes(app: web.Application, channel: WeChatChannel) -> None:
    """Mount ``channel``'s endpoints (its sender, provider and jobs are collected by bootstrap)."""
    app[CHANNEL] = channel
    app.router.add_get("/wechat", verify)
    app.router.add_post("/wechat", receive)
    app.router.add_post(channel.settings.pay_notify_path, pay_notify)
    app.router.add_get("/wechat/pay/{payment}", pay_page)


def _web(answer_status: int, body: str, content_type: str) -> web.Response:
    return web.Response(status=answer_status, text=body, content_type=content_type, charset="utf-8")


async def verify(request: web.Request) -> web.Response:
    answer = request.app[CHANNEL].verify_url(request.query)
    return _web(answer.status, answer.body, answer.content_type)


def query_of(request: web.Request) -> Mapping[str, str]:
    """The query's first value of each name, as ``request.query`` has it.

    Why: WeChat's query (timestamp, nonce, hex signatures, ``encrypt_type``, an openid) has nothing to
    decode; split as it is, it costs a fraction of yarl's parse into a multidict (issue 16's profile).
    Anything with a ``%`` or ``+`` goes through yarl as before."""
    raw = request.rel_url.raw_query_string
    if "%" in raw or "+" in raw:
        return request.query
    query: dict[str, str] = {}
    for pair in raw.split("&"):
        if pair:
            name, _, value = pair.partition("=")
            query.setdefault(name, value)
    return query


async def receive(request: web.Request) -> web.Response:
    body = await request.read()
    channel = request.app[CHANNEL]
    answer = await channel.receive(query_of(request), body)
    response = _web(answer.status, answer.body, answer.content_type)
    if answer.delivered:  # the passive reply is written first, then the message counts as answered
        await response.prepare(request)
        await response.write_eof()
        channel.pending.answered(answer.delivered)  # (struck off with the channel's next round trip)
    return response


async def pay_notify(request: web.Request) -> web.Response:
    channel = request.app[CHANNEL]
    commerce = channel.runtime.container.commerce
    body = await request.read()
    try:
        result = await commerce.payments.handle_notification("wechatpay", body, request.headers)
    except DomainError as error:  # PaymentRejected: forged, unknown payment, wrong amount
        log.warning("wechat pay: notification refused (%s)", error.code)
        return _web(200, fail_xml(error.code), "application/xml")
    if channel.pay is not None and result.payment_id:
        await channel.pay.settled(result.payment_id)
    return _web(200, SUCCESS_XML, "application/xml")


async def pay_page(request: web.Request) -> web.Response:
    channel = request.app[CHANNEL]
    reference = request.match_info["payment"][:40]
    prepay = await channel.redis.get(f"shopbot:wechatpay:prepay:{reference}")
    if channel.pay is None or not prepay:
        raise web.HTTPNotFound()
    params = json.dumps(channel.pay.jsapi_parameters(bytes(prepay).decode()))
    nonce = secrets.token_urlsafe(12)
    page = (
        f"<!doctype html><meta charset=utf-8><title>WeChat Pay</title><p>{html.escape(reference)}</p>"
        f"<script nonce={nonce}>function pay(){{WeixinJSBridge.invoke('getBrandWCPayRequest',"
        f"{params},function(r){{document.body.append(r.err_msg)}})}}"
        f"if(window.WeixinJSBridge){{pay()}}else{{document.addEventListener('WeixinJSBridgeReady',pay)}}"
        f"</script>"
    )
    return web.Response(
        text=page,
        content_type="text/html",
        headers={"Content-Security-Policy": f"default-src 'self'; script-src 'nonce-{nonce}'"},
    )
