"""Two reads beside the conversation: the photos a shopper sent during a handoff, and the support
figures per agent and week (first-response time, resolution time, rating: R5.4-2).

Why a photo has its own route and no public URL: it is the shopper's personal data, served only to a
signed-in agent or admin (the route's ``CHAT`` access), only as a line of that ticket's history, from
the file store that checked its type when it was stored.
"""

from __future__ import annotations

from aiohttp import web

from bot.backoffice.pages import operators, render
from bot.backoffice.views.agent_desk import desk
from commerce_core.api import DomainError, FileRef, OperatorRole

NUMBER_LIMIT = 32


async def photo(request: web.Request) -> web.StreamResponse:
    agent_desk = desk(request)
    number = request.match_info["number"][:NUMBER_LIMIT]
    seq = request.match_info["seq"]
    if agent_desk.files is None or not (seq.isascii() and seq.isdigit()):
        raise web.HTTPNotFound()
    history = await agent_desk.support.history(number)  # an unknown ticket is a 404 (NotFound)
    line = next((m for m in history if m.seq == int(seq) and m.file_key), None)
    if line is None or line.file_key is None:
        raise web.HTTPNotFound()
    try:
        data, content_type = await agent_desk.files.get(FileRef.parse(line.file_key))
    except DomainError:
        raise web.HTTPNotFound() from None
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return web.Response(body=data, content_type=content_type, headers=headers)


async def figures(request: web.Request) -> web.StreamResponse:
    rows = await desk(request).support.agent_figures()
    people = [
        p
        for role in (OperatorRole.AGENT, OperatorRole.ADMIN)
        for p in await operators(request).list_users(role=role)
    ]
    names = {p.public_id: p.display_name or p.email for p in people}
    return render(request, "agent_figures.html", rows=rows, names=names)
