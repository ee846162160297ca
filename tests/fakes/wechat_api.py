"""A fake WeChat Official Account API for integration tests, used through our real client (bots.wechat.api).

It runs on aiohttp's own test server at 127.0.0.1 and answers under ``{base}/cgi-bin/`` the way
api.weixin.qq.com does: JSON in, JSON out, HTTP 200 with an ``errcode`` when something is wrong.

- ``GET token`` checks the app id and secret and issues a token (``token_fetches`` counts them).
- Every other call checks ``access_token``: missing 41001, unknown 40001, expired 42001
  (``expire_tokens()`` lapses every token issued so far).
- ``POST message/custom/send``, ``message/template/send``, ``qrcode/create``, ``menu/create`` check
  what WeChat checks and tests tend to get wrong: a text over 2048 bytes, a template field over 20
  characters or with a newline, an unknown template, more than 3 menu buttons, a scene over 64 characters.
- ``fail_next(errcode, endpoint=..., openid=...)`` makes the next matching call fail (45015, 40001,
  43004, 45047…); ``unsubscribe(openid)`` makes every send to that user fail with 43004.
- Every call made with a valid token is recorded, in order (``calls()``, ``texts()``, ``templates()``).

    async with FakeWeChatAPI() as api:
        ...WeChatApi(api.app_id, api.secret, tokens, base_url=api.base_url)...

A CLI test, which runs its own event loop, uses ``with FakeWeChatAPI().running_in_thread() as api``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

TEST_APP_ID = "wx0123456789abcdef"
TEST_APP_SECRET = "fake-secret-0123456789abcdef0123"
TEST_TEMPLATE_ID = "TPL_notice_0123456789"

TEXT_LIMIT_BYTES = 2048
TEMPLATE_FIELD_LIMIT = 20
MENU_BUTTONS, MENU_SUB_BUTTONS = 3, 5
MENU_NAME_BYTES, MENU_SUB_NAME_BYTES = 16, 60
SCENE_STR_LIMIT = 64

ERRMSG = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40023: "invalid sub button size",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    40007: "invalid media_id",
    44002: "empty post data",
    45002: "content size out of limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    47003: "argument invalid!",
}

Params = dict[str, Any]


@dataclass(frozen=True)
class Call:
    endpoint: str  # "message/custom/send", relative to /cgi-bin/
    body: Params
    access_token: str


@dataclass
class _Failure:
    errcode: int
    endpoint: str | None
    openid: str | None


class _Refused(Exception):
    def __init__(self, errcode: int, detail: str = "") -> None:
        self.errcode = errcode
        self.errmsg = ERRMSG.get(errcode, "error") + (f": {detail}" if detail else "")


class FakeWeChatAPI:
    """The fake server. Start it with ``async with`` (or ``start()`` / ``close()``)."""

    def __init__(
        self,
        *,
        app_id: str = TEST_APP_ID,
        secret: str = TEST_APP_SECRET,
        templates: tuple[str, ...] = (TEST_TEMPLATE_ID,),
    ) -> None:
        self.app_id = app_id
        self.secret = secret
        self.template_ids = set(templates)
        self.token_fetches = 0
        self.menu: Params | None = None
        self.delay = 0.0  # seconds every answer waits: a slow or hanging WeChat
        self._tokens: dict[str, bool] = {}  # token → still valid
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._unsubscribed: set[str] = set()
        self._msgids = itertools.count(1000)
        self._media: dict[str, tuple[str, bytes]] = {}  # MediaId → type, bytes (put_media)
        self.media_fetches: list[str] = []  # MediaIds fetched, in order
        self._server: TestServer | None = None

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/{endpoint:.+}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> FakeWeChatAPI:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @contextmanager
    def running_in_thread(self) -> Iterator[FakeWeChatAPI]:
        """Served from an event loop of its own, for code that runs ``asyncio.run`` itself (the CLI)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=10)
            yield self
        finally:
            asyncio.run_coroutine_threadsafe(self.close(), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    @property
    def base_url(self) -> str:
        """What STVS_WECHAT_API_BASE is set to: ``http://127.0.0.1:<port>/cgi-bin/``."""
        if self._server is None:
            raise RuntimeError("the fake WeChat API is not started")
        return str(self._server.make_url("/cgi-bin/"))

    # ---- what tests do --------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (42001), as after its two hours."""
        self._tokens = dict.fromkeys(self._tokens, False)

    def fail_next(self, errcode: int, *, endpoint: str | None = None, openid: str | None = None) -> None:
        """The next call to ``endpoint`` (any, by default) for ``openid`` (any) answers ``errcode``."""
        self._failures.append(_Failure(errcode, endpoint, openid))

    def unsubscribe(self, openid: str) -> None:
        self._unsubscribed.add(openid)

    def calls(self, endpoint: str | None = None) -> list[Call]:
        return [c for c in self._calls if endpoint is None or c.endpoint == endpoint]

    def texts(self, openid: str | None = None) -> list[str]:
        """Customer-service texts delivered, in order."""
        return [
            c.body["text"]["content"]
            for c in self.calls("message/custom/send")
            if openid is None or c.body["touser"] == openid
        ]

    def templates(self, openid: str | None = None) -> list[Params]:
        """Template messages delivered: their bodies, in order."""
        return [
            c.body
            for c in self.calls("message/template/send")
            if openid is None or c.body["touser"] == openid
        ]

    def clear(self) -> None:
        self._calls.clear()

    def put_media(self, data: bytes, mime: str = "image/jpeg") -> str:
        """What a user's image message leaves on WeChat's side: its MediaId, served by media/get."""
        media_id = f"MEDIA_{len(self._media) + 1}_{secrets.token_urlsafe(12)}"
        self._media[media_id] = (mime, data)
        return media_id

    # ---- the server -----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        await self._wait()
        query = request.query
        if query.get("grant_type") != "client_credential":
            return _answer(_Refused(40002, "grant_type"))
        if query.get("appid") != self.app_id:
            return _answer(_Refused(40013))
        if query.get("secret") != self.secret:
            return _answer(_Refused(40125))
        self.token_fetches += 1
        token = f"TOKEN_{self.token_fetches}_{secrets.token_urlsafe(24)}"
        self._tokens[token] = True
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _media_get(self, request: web.Request) -> web.Response:
        """获取临时素材: the file itself, or an errcode as JSON (40007 for an unknown MediaId)."""
        await self._wait()
        token = request.query.get("access_token", "")
        try:
            if not token:
                raise _Refused(41001)
            if token not in self._tokens:
                raise _Refused(40001)
            if not self._tokens[token]:
                raise _Refused(42001)
            media_id = request.query.get("media_id", "")
            self._inject_failure("media/get", {})
            if media_id not in self._media:
                raise _Refused(40007)
        except _Refused as refused:
            return _answer(refused)
        self.media_fetches.append(media_id)
        mime, data = self._media[media_id]
        return web.Response(
            body=data,
            content_type=mime,
            headers={"Content-disposition": f'attachment; filename="{media_id}.jpg"'},
        )

    async def _handle(self, request: web.Request) -> web.Response:
        await self._wait()
        endpoint = request.match_info["endpoint"]
        handler = {
            "message/custom/send": self._custom_send,
            "message/template/send": self._template_send,
            "qrcode/create": self._qrcode_create,
            "menu/create": self._menu_create,
        }.get(endpoint)
        if handler is None:
            return web.json_response({"errcode": 48001, "errmsg": "api unauthorized"})
        token = request.query.get("access_token", "")
        try:
            if not token:
                raise _Refused(41001)
            if token not in self._tokens:
                raise _Refused(40001)
            if not self._tokens[token]:
                raise _Refused(42001)
            raw = await request.read()
            if not raw:
                raise _Refused(44002)
            try:
                body = json.loads(raw)
            except ValueError:
                raise _Refused(47001) from None
            if not isinstance(body, dict):
                raise _Refused(47001)
            self._inject_failure(endpoint, body)
            result = handler(body)
        except _Refused as refused:
            return _answer(refused)
        self._calls.append(Call(endpoint, body, token))
        return web.json_response({"errcode": 0, "errmsg": "ok", **result}, dumps=_dumps)

    async def _wait(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)

    def _inject_failure(self, endpoint: str, body: Params) -> None:
        openid = body.get("touser")
        if openid is not None and openid in self._unsubscribed and endpoint.startswith("message/"):
            raise _Refused(43004)
        for failure in self._failures:
            if failure.endpoint not in (None, endpoint) or failure.openid not in (None, openid):
                continue
            self._failures.remove(failure)
            raise _Refused(failure.errcode)

    def _custom_send(self, body: Params) -> Params:
        _openid(body)
        if body.get("msgtype") != "text":
            raise _Refused(40008, "only text is faked")
        content = (body.get("text") or {}).get("content")
        if not isinstance(content, str) or not content:
            raise _Refused(47001, "text.content")
        if len(content.encode()) > TEXT_LIMIT_BYTES:
            raise _Refused(45002)
        return {}

    def _template_send(self, body: Params) -> Params:
        _openid(body)
        if body.get("template_id") not in self.template_ids:
            raise _Refused(40037)
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            raise _Refused(47001, "data")
        for name, field in data.items():
            value = field.get("value") if isinstance(field, dict) else None
            if not isinstance(value, str):
                raise _Refused(47001, f"data.{name}.value")
            if len(value) > TEMPLATE_FIELD_LIMIT or "\n" in value or "\r" in value:
                raise _Refused(47003, f"data.{name}.value invalid")
            if set(field) - {"value"}:  # colours are gone from template messages
                raise _Refused(47003, f"data.{name}: only value")
        return {"msgid": next(self._msgids)}

    def _qrcode_create(self, body: Params) -> Params:
        if body.get("action_name") != "QR_LIMIT_STR_SCENE":
            raise _Refused(40097, "only QR_LIMIT_STR_SCENE is faked")
        scene = ((body.get("action_info") or {}).get("scene") or {}).get("scene_str")
        if not isinstance(scene, str) or not 1 <= len(scene) <= SCENE_STR_LIMIT:
            raise _Refused(40097, "scene_str")
        ticket = f"gQH{secrets.token_urlsafe(30)}=="
        return {"ticket": ticket, "url": f"http://weixin.qq.com/q/{scene}_{secrets.token_hex(6)}"}

    def _menu_create(self, body: Params) -> Params:
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_BUTTONS:
            raise _Refused(40016)
        for button in buttons:
            _check_button(button, MENU_NAME_BYTES)
            subs = button.get("sub_button")
            if subs is not None:
                if not isinstance(subs, list) or not 1 <= len(subs) <= MENU_SUB_BUTTONS:
                    raise _Refused(40023)
                for sub in subs:
                    _check_button(sub, MENU_SUB_NAME_BYTES, leaf=True)
            elif "type" not in button:
                raise _Refused(40017)
        self.menu = body
        return {}


def _openid(body: Params) -> None:
    if not isinstance(body.get("touser"), str) or not body["touser"]:
        raise _Refused(40003)


def _check_button(button: Any, name_bytes: int, *, leaf: bool = False) -> None:
    if not isinstance(button, dict):
        raise _Refused(47001, "button")
    name = button.get("name")
    if not isinstance(name, str) or not name or len(name.encode()) > name_bytes:
        raise _Refused(40018)
    kind = button.get("type")
    if kind is None and not leaf and "sub_button" in button:
        return
    if kind == "click":
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode()) > 128:
            raise _Refused(40019)
    elif kind == "view":
        if not isinstance(button.get("url"), str) or not button["url"]:
            raise _Refused(40055)
    else:
        raise _Refused(40017)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _answer(refused: _Refused) -> web.Response:
    # WeChat answers errors with HTTP 200 and the errcode in the body.
    return web.json_response({"errcode": refused.errcode, "errmsg": refused.errmsg})
