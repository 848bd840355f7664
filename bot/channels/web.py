"""The web chat: a static page (no external CDN) and a small JSON API.

Routes:
  GET  /                       the web chat page
  GET  /static/{name}          its script and style sheet
  POST /api/chat               one turn: {"text" | "payload", "id", "lang"} -> replies (and anything pushed)
  GET  /api/inbox              replies pushed since (payment confirmations, shipping updates)

Who is talking is the session cookie's business (:mod:`bot.channels.web_session`): a ``user`` in the
body or the query string is ignored, so no client can speak or read as another shopper.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import httpx
from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.channels.base import ChannelContext
from bot.channels.console import InboxChannel
from bot.channels.web_session import existing_session, remember, session_of
from bot.http.origin import check_same_origin
from bot.notifications.senders import DRAIN_BATCH
from bot.payments.web import WebPayments
from bot.pipeline import SAVED_STATE, ConversationBusy
from bot.render import reply_to_json
from bot.turns import ListPop, TurnInProgress
from commerce_core.api import OutboxRelay, customer_key
from dialogs.messages import InboundMessage
from dialogs.payloads import SandboxPay
from dialogs.state import ConversationState

log = logging.getLogger(__name__)
CHANNEL = "web"
#: buttons that capture a payment at once (the sandbox's): the confirmation is relayed into the answer
PAYS_AT_ONCE = f"{SandboxPay.prefix}:"


def _static(name: str) -> bytes:
    return resources.files("bot.http").joinpath(f"static/{name}").read_bytes()


async def index(request: web.Request) -> web.Response:
    return web.Response(body=_static("index.html"), content_type="text/html", charset="utf-8")


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    types = {".js": "application/javascript", ".css": "text/css"}
    suffix = name[name.rfind(".") :]
    if suffix not in types or "/" in name or ".." in name:
        raise web.HTTPNotFound()
    try:
        body = _static(name)
    except FileNotFoundError as exc:
        raise web.HTTPNotFound() from exc
    return web.Response(body=body, content_type=types[suffix], charset="utf-8")


class WebChannel(InboxChannel):
    def __init__(self, context: ChannelContext, *, payment_http: httpx.AsyncClient | None = None) -> None:
        super().__init__(CHANNEL, context)
        #: the providers web shoppers pay with (Alipay / WeChat Pay NATIVE QR codes, the sandbox outside
        #: production); ``payment_http`` lets tests talk to a local fake of the payment platforms
        self.payments = WebPayments(context, payment_http)
        self.payment_providers = self.payments.providers
        self.payment_provider = self.payments.provider
        #: read by bootstrap: the providers the dialog offers as a choice here (issue 11)
        self.payment_choices = self.payments.choices
        #: the payers' own notifications, relayed into the pay button's answer
        self.relay = RecipientRelay(self._drain_payers)
        self._outbox: OutboxRelay | None = None  # one for every round (see _drain_payers)

    def install_routes(self, app: web.Application) -> None:
        app.router.add_get("/", index)
        app.router.add_get("/static/{name}", static_file)
        app.router.add_post("/api/chat", self.chat_turn)
        app.router.add_get("/api/inbox", self.pushed)
        self.payments.install_routes(app)

    async def aclose(self) -> None:
        await self.payments.aclose()
        await super().aclose()

    async def chat_turn(self, request: web.Request) -> web.Response:
        check_same_origin(request)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise web.HTTPBadRequest(text="expected JSON") from exc
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="expected a JSON object")
        session = session_of(request)
        user = session.pseudonym
        text_value = str(body.get("text") or "")[:4000]
        payload = body.get("payload")
        message = InboundMessage(
            channel=CHANNEL,
            user_id=user,
            chat_id=user,
            text=text_value if not payload else "",
            payload=str(payload)[:200] if payload else None,
            dedup_key=str(body.get("id") or secrets.token_hex(8))[:64],
            language_hint=str(body.get("lang") or "")[:8] or None,
        )
        runtime = self.context.runtime
        SAVED_STATE.set(None)  # (this request's own context) set by the pipeline's turn, if one runs
        pays = bool(message.payload and message.payload.startswith(PAYS_AT_ONCE))
        # what was pushed to the shopper, taken in the turn's last Redis round trip; not on a pay
        # button's turn: its confirmation is relayed after the turn (see _relay_own)
        pop = None if pays else ListPop(self.inbox.key(user), DRAIN_BATCH)
        try:
            replies = await runtime.pipeline.handle(message, pop=pop)
        except (TurnInProgress, ConversationBusy, RedisConnectionError) as error:
            # not a bug but a moment: the message is being answered elsewhere (a process that died
            # holds it until its lease ends) or Redis is restarting. The page retries the same id.
            raise web.HTTPServiceUnavailable(
                text="busy, retry this message", headers={"Retry-After": "1"}
            ) from error
        # the state the turn just saved; None when no turn ran (a replayed message, a flood reply, an
        # erased shopper): then read from Redis as before
        saved = SAVED_STATE.get()
        if pays:
            pushed, state = await self._relay_own(user, message.conversation_key, saved)
        elif pop is not None and pop.items is not None:  # taken: never pop again (they would be lost)
            pushed = [json.loads(item) for item in pop.items]
            state = saved if saved is not None else await self._state(message.conversation_key)
        elif saved is not None:
            pushed, state = await self.inbox.drain(user), saved
        else:
            pushed, state = await self._pushed_and_state(user, message.conversation_key)
        response = web.json_response(
            {
                "replies": [reply_to_json(r) for r in replies] + [{**p, "pushed": True} for p in pushed],
                "lang": state.lang,  # the page's header follows a typed language switch
            }
        )
        remember(request, response, session, public_url=self.context.settings.public_base_url)
        return response

    async def _state(self, conversation: str) -> ConversationState:
        """The state as Redis has it: for a turn that kept none (the shopper's data was erased), whose
        inbox was still taken at its end, so it must not be read again with the state."""
        return await self.context.runtime.pipeline.states.load(conversation)

    async def _relay_own(
        self, user: str, conversation: str, saved: ConversationState | None
    ) -> tuple[list[dict[str, Any]], ConversationState]:
        """The sandbox pay button captured a payment: relay this shopper's own notifications now, so
        the confirmation comes back in this answer, then take what was pushed to them.

        Only theirs (their ordering key, claimed under the relay's usual lock and lease): draining the
        whole outbox here made every payer wait for everybody's notifications (issue 16: the web path's
        p99 of 1.7 s, and a share of its CPU). Everybody else's, and other turns' (typed or pressed),
        are left to the relay job (woken by the database's commit) and the page's inbox poll.

        See :class:`RecipientRelay` for how pay buttons pressed at the same moment share a claim."""
        state = saved or await self.context.runtime.pipeline.states.load(conversation)
        if state.customer_id is not None:
            await self.relay.deliver(customer_key(state.customer_id))
        return await self.inbox.drain(user), state

    async def _pushed_and_state(
        self, user: str, conversation: str
    ) -> tuple[list[dict[str, Any]], ConversationState]:
        """What was pushed to ``user`` (taken, as ``InboxSender.drain`` does) and the conversation's
        state, in one Redis round trip instead of two (issue 16: the web path's per-request cost)."""
        states = self.context.runtime.pipeline.states
        async with self.context.redis.pipeline(transaction=False) as batch:
            batch.lpop(self.inbox.key(user), DRAIN_BATCH)
            batch.get(states.key_of(conversation))
            items, raw = await batch.execute()
        return [json.loads(item) for item in items or ()], states.parse(raw)

    async def _drain_payers(self, ordering_keys: list[str]) -> int:
        """One outbox relay for every round of :attr:`relay`, built at the first: rounds running at
        once then record their outcomes in shared writes (the relay writes one at a time, taking
        along every run finished meanwhile) instead of one transaction per round, and a relay is
        not built per pay button (issue 16)."""
        if self._outbox is None:
            self._outbox = self.context.runtime.outbox_relay()
        return await self._outbox.drain_recipients(ordering_keys)

    async def pushed(self, request: web.Request) -> web.Response:
        """The session's pushed replies; without a session there is nothing to fetch."""
        session = existing_session(request)
        found = await self.inbox.drain(session.pseudonym) if session is not None else []
        return web.json_response({"replies": [{**p, "pushed": True} for p in found]})


class RecipientRelay:
    """Relays the messages of the recipients asked for, at once; the keys asked for before a round
    has started (in the same turn of the event loop) share its claim.

    Why not wait for the round under way and share the next (as the whole-outbox relay did): each
    button then waited for that round and for everybody in its own, which doubled the pay step's
    median in issue 16's bench. A round starts after its callers asked, so it sees what their turns
    committed. A round that fails (the database is away) is logged, not raised: the payment was
    taken, and the relay job and the page's inbox poll deliver its confirmation."""

    def __init__(self, drain: Callable[[list[str]], Awaitable[object]]) -> None:
        self._drain = drain
        self._forming: dict[str, list[asyncio.Future[None]]] | None = None
        self._rounds: set[asyncio.Task[None]] = set()  # held until done (the loop keeps weak refs)

    async def deliver(self, ordering_key: str) -> None:
        if self._forming is None:
            self._forming = {}
            task = asyncio.create_task(self._round())
            self._rounds.add(task)
            task.add_done_callback(self._rounds.discard)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._forming.setdefault(ordering_key, []).append(done)
        await asyncio.shield(done)  # a caller that goes away does not cancel the others' round

    async def _round(self) -> None:
        asked, self._forming = self._forming or {}, None
        try:
            await self._drain(list(asked))
        except Exception:
            log.exception("relaying the payers' notifications failed; the relay job will")
        finally:
            for waiting in asked.values():
                for done in waiting:
                    if not done.done():
                        done.set_result(None)


def create(context: ChannelContext) -> WebChannel:
    return WebChannel(context)
