"""The Rasa action server on aiohttp: ``GET /health``, ``GET /actions``, ``POST /webhook``.

Why not rasa-sdk's own server: it runs Sanic, which pickles the action executor to start its worker
processes; our executor holds the commerce core (a database engine, an event loop's futures), which
cannot be pickled, so ``shopbot rasa-actions`` failed at start and then hung without listening. This
server runs the same executor in our process and loop, with the same request and response shapes
(errors as ``{"error": ..., "action_name": ...}`` with 400/404, as rasa-sdk answers them).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.infra.input import too_deep

EXECUTOR: web.AppKey[ActionExecutor] = web.AppKey("executor", ActionExecutor)
MAX_BODY = 1024 * 1024  # Rasa sends the whole tracker


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def actions(request: web.Request) -> web.Response:
    return web.json_response([{"name": action.name} for action in request.app[EXECUTOR].list_actions()])


async def webhook(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        if too_deep(body, 64):
            raise ValueError("nested too deeply")
        call: Any = json.loads(body)
        if not isinstance(call, dict):
            raise ValueError("expected an object")
    except (ValueError, UnicodeDecodeError):
        return web.json_response({"error": "expected a JSON action call", "action_name": None}, status=400)
    name = call.get("next_action")
    try:
        result = await request.app[EXECUTOR].run(call)
    except ActionNotFoundException as error:
        return web.json_response({"error": error.message, "action_name": name}, status=404)
    except ActionExecutionRejection as error:
        return web.json_response({"error": error.message, "action_name": name}, status=400)
    except (KeyError, TypeError, AttributeError, ValueError):  # a malformed tracker
        return web.json_response({"error": "malformed action call", "action_name": name}, status=400)
    if result is None:
        return web.json_response({"error": "no next_action", "action_name": None}, status=400)
    return web.json_response(result.model_dump(by_alias=True))


def create_action_app(executor: ActionExecutor) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[EXECUTOR] = executor
    app.router.add_get("/health", health)
    app.router.add_get("/actions", actions)
    app.router.add_post("/webhook", webhook)
    return app
