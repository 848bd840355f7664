"""A fake of Kuaidi100's API on loopback (aiohttp): subscribe (/poll) and query (/poll/query.do),
checking what the real service checks (our key, the query's MD5 signature), and building signed pushes
with the salt our subscription handed over, as Kuaidi100 would post them to our callback."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

KEY = "k100-test-key"
CUSTOMER = "K100CUSTOMER"
SALT = "our-callback-salt"


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest().upper()


def scan(time: str, context: str, area: str = "", code: str = "") -> dict[str, str]:
    return {"time": time, "ftime": time, "context": context, "areaName": area, "statusCode": code}


@dataclass
class FakeKuaidi100:
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, Any]] = field(default_factory=list)
    #: what a query answers per waybill: (state, scans newest first)
    tracks: dict[str, tuple[str, list[dict[str, str]]]] = field(default_factory=dict)
    refuse_subscriptions: bool = False
    server: TestServer | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/poll", self.subscribe)
        app.router.add_post("/poll/query.do", self.query)
        return app

    async def start(self) -> str:
        self.server = TestServer(self.app(), host="127.0.0.1", port=0)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def subscribe(self, request: web.Request) -> web.Response:
        form = await request.post()
        param = json.loads(str(form["param"]))
        if form.get("schema") != "json" or param.get("key") != KEY:
            return web.json_response({"result": False, "returnCode": "600", "message": "bad key"})
        if self.refuse_subscriptions:
            return web.json_response({"result": False, "returnCode": "500", "message": "服务器错误"})
        self.subscriptions.append(param)
        return web.json_response({"result": True, "returnCode": "200", "message": "提交成功"})

    async def query(self, request: web.Request) -> web.Response:
        form = await request.post()
        param = str(form["param"])
        if form.get("customer") != CUSTOMER or form.get("sign") != md5_upper(param + KEY + CUSTOMER):
            return web.json_response({"result": False, "returnCode": "601", "message": "签名错误"})
        asked = json.loads(param)
        self.queries.append(asked)
        found = self.tracks.get(asked["num"])
        if found is None:
            return web.json_response({"result": False, "returnCode": "500", "message": "查询无结果"})
        state, data = found
        return web.json_response(
            {
                "message": "ok",
                "nu": asked["num"],
                "ischeck": "0",
                "com": asked["com"],
                "status": "200",
                "state": state,
                "data": data,
            }
        )

    def push(
        self,
        number: str,
        state: str,
        data: list[dict[str, str]],
        *,
        salt: str | None = None,
        status: str = "polling",
        message: str = "",
        com_new: str = "",
    ) -> dict[str, str]:
        """The form Kuaidi100 posts to the callback of ``number``'s subscription, signed with its salt.
        ``status="abort"`` is its giving up on the waybill (``message`` why; ``com_new`` the express
        company's code it corrected ours to, and subscribed itself)."""
        subscribed = next(s for s in self.subscriptions if s["number"] == number)
        result = {
            "message": "ok",
            "state": state,
            "status": "200",
            "ischeck": "1" if state == "3" else "0",
            "com": subscribed["company"],
            "nu": number,
            "data": data,
        }
        body = {"status": status, "message": message, "autoCheck": "0", "comOld": "", "comNew": com_new}
        param = json.dumps({**body, "lastResult": result}, ensure_ascii=False)
        used = subscribed["parameters"]["salt"] if salt is None else salt
        return {"param": param, "sign": md5_upper(param + used)}
