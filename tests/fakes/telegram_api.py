"""A fake Telegram Bot API server for integration tests, used through the real aiogram client.

It runs on aiohttp's own test server at 127.0.0.1 and answers ``POST {base}/bot{token}/{method}`` the way
api.telegram.org does: form or multipart parameters in, ``{"ok": true, "result": ...}`` out, real error
codes and descriptions (400, 401, 403, 404, 409, 429) out when something is wrong. Every call made with the
right token is recorded, in order, with its parameters decoded (JSON fields as Python objects, uploads as
``UploadedFile``). It checks what the real server checks and that tests tend to get wrong: HTML that
Telegram cannot parse, texts over 4096 and captions over 1024 characters, callback data over 64 bytes,
editing a message that does not change it.

    async with FakeTelegramAPI() as api:
        bot = api.make_bot()
        await bot.send_message(chat_id=1, text="hi")
        assert api.sent_texts(1) == ["hi"]

Tests get the same through the ``fake_telegram`` and ``telegram_bot`` fixtures defined below.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import json
import math
import mimetypes
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from aiohttp.test_utils import TestServer

TEST_BOT_TOKEN = "123456789:AAFakeTokenForTests-stvs_0123456789ab"
TEST_BOT_ID = 123456789
TEST_BOT_USERNAME = "stvs_test_bot"
TEST_BOT_NAME = "科技志愿服务 (test)"

TEXT_LIMIT = 4096  # after entity parsing, in UTF-16 code units
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
CALLBACK_ANSWER_LIMIT = 200
UPLOAD_LIMIT = 50 * 1024 * 1024
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files ("file is too big")
MAX_POLL_WAIT = 1.0  # seconds; getUpdates' timeout is capped so tests stay fast

Params = dict[str, Any]

# Parameters that are always plain strings, never JSON: kept exactly as sent.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "callback_query_id",
        "action",
        "description",
        "short_description",
        "name",
        "title",
        "secret_token",
        "ip_address",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "emoji",
        "query",
        "question",
    }
)
_CHAT_ID_PARAMS = frozenset({"chat_id", "from_chat_id"})
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_ERROR_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class _SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class UploadedFile:
    """A file the client uploaded in a multipart request."""

    filename: str
    data: bytes
    content_type: str = field(default="application/octet-stream", compare=False)  # aiohttp's default

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Call:
    """One request that reached the bot (the token was right), with its outcome."""

    method: str
    params: Params
    status: int = 200
    result: Any = None  # the "result" answered, or the error description when status is not 200

    @property
    def ok(self) -> bool:
        return self.status == HTTPStatus.OK


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, error_code: int, description: str | None = None, parameters: Params | None = None
    ) -> None:
        self.error_code = error_code
        self.description = description or _ERROR_DESCRIPTIONS.get(error_code, HTTPStatus(error_code).phrase)
        self.parameters = parameters
        super().__init__(f"{self.error_code} {self.description}")

    def body(self) -> Params:
        body: Params = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class _Failure:
    method: str  # lower case
    error: ApiError
    chat_id: int | str | None
    remaining: int


@dataclass
class _Webhook:
    url: str = ""
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None


@dataclass
class _StoredMessage:
    message: Params
    from_bot: bool


_RATED = ("send", "edit", "copy", "forward")  # what Telegram's flood control counts


@dataclass(frozen=True)
class RateLimit:
    """Telegram's flood control, enforced: a token bucket of ``per_second`` sends overall, holding
    ``burst_s`` seconds' worth (at least one), and one send per ``chat_interval_s`` to one chat. Over
    the limit a send is answered 429 with retry_after (whole seconds, as Telegram gives them): over
    the overall rate it pauses the whole bot, and every send before the pause ends is answered 429
    again; over a chat's rate, that chat. ``inject_429_every``: also every n-th send that the bucket
    let through is answered 429 (a pause of ``inject_retry_after`` s) as if Telegram were busy."""

    per_second: float = 30.0
    burst_s: float = 0.2
    chat_interval_s: float = 1.0
    inject_429_every: int = 0
    inject_retry_after: int = 1


@dataclass(frozen=True)
class Arrival:
    at: float  # time.monotonic() when it arrived
    chat_id: int | str | None
    text: str
    status: int  # as answered: 200, 429, or a failure arranged (403 for a blocked chat)
    early: bool  # arrived while a pause it had been told of (the bot's, or its chat's) still ran


class _Limiter:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.capacity = max(1.0, limit.per_second * limit.burst_s)
        self.tokens = self.capacity
        self.refilled = time.monotonic()
        self.paused_until = 0.0
        self.chat_last: dict[Any, float] = {}
        self.chat_paused: dict[Any, float] = {}
        self.let_through = 0
        self.arrivals: list[Arrival] = []
        self.pauses: list[tuple[float, float]] = []
        self._pending: tuple[float, Any, str, bool] | None = None

    def admit(self, params: Params) -> None:
        """Raises the 429 for a send over the limit."""
        now = time.monotonic()
        chat = params.get("chat_id")
        self.tokens = min(self.capacity, self.tokens + (now - self.refilled) * self.limit.per_second)
        self.refilled = now
        waited = max(self.paused_until, self.chat_paused.get(chat, 0.0))
        self._pending = (now, chat, str(params.get("text") or ""), now < waited)
        if now < waited:
            raise self._too_many(waited - now)
        if self.tokens < 1:
            raise self._pause(now, 1)
        self.tokens -= 1
        self.let_through += 1
        every = self.limit.inject_429_every
        if every and self.let_through % every == 0:
            raise self._pause(now, self.limit.inject_retry_after)
        last = self.chat_last.get(chat)
        if last is not None and now - last < self.limit.chat_interval_s:
            wait = max(1, math.ceil(self.limit.chat_interval_s - (now - last)))
            self.chat_paused[chat] = now + wait
            raise self._too_many(wait)
        self.chat_last[chat] = now

    def answered(self, status: int) -> None:
        if self._pending is not None:
            at, chat, text, early = self._pending
            self.arrivals.append(Arrival(at, chat, text, status, early))
            self._pending = None

    def _pause(self, now: float, seconds: int) -> ApiError:
        self.paused_until = now + seconds
        self.pauses.append((now, now + seconds))
        return self._too_many(seconds)

    @staticmethod
    def _too_many(seconds: float) -> ApiError:
        wait = max(1, math.ceil(seconds))
        return ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})


class LocalAiohttpSession(AiohttpSession):
    """aiogram's own HTTP session; closing skips its 250 ms wait for TLS connections, there are none here."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


class FakeTelegramAPI:
    """The fake server. Start it with ``async with`` (or ``start()`` / ``close()``)."""

    def __init__(
        self,
        *,
        token: str = TEST_BOT_TOKEN,
        bot_username: str = TEST_BOT_USERNAME,
        bot_name: str = TEST_BOT_NAME,
        clock: Clock | None = None,
        max_poll_wait: float = MAX_POLL_WAIT,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.token = token
        self.bot_user: Params = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._clock: Clock = clock or _SystemClock()
        self._max_poll_wait = max_poll_wait
        # Flood control, off unless asked for (the bench): sends over the rate are answered 429.
        self._limiter = _Limiter(rate_limit) if rate_limit is not None else None
        self._last_message_id: dict[int | str, int] = {}  # ids are never reused, as on Telegram
        self._calls: list[Call] = []
        self._failures: list[_Failure] = []
        self._blocked: set[int | str] = set()
        self._updates: list[Params] = []
        self._next_update_id = 100_000
        self._allowed_updates: list[str] | None = None
        self._update_arrived: asyncio.Event | None = None
        self._closing = False
        self._webhook = _Webhook()
        self._last_webhook_description = ""
        self._commands: dict[tuple[str, str], list[Params]] = {}
        self._chats: dict[int | str, Params] = {}
        self._messages: dict[tuple[int | str, int], _StoredMessage] = {}
        self._next_file = 0
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id → file_path, bytes (put_file)
        self.downloads: list[str] = []  # file paths downloaded, in order
        self._server: TestServer | None = None
        self._bots: list[Bot] = []
        self._handlers: dict[str, tuple[str, Callable[[Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": lambda _: True,
                "close": lambda _: True,
                "getUpdates": self._get_updates_now,  # long-polling path in _handle
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
            }.items()
        }

    # ---- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        if self._limiter is not None:
            app.router.add_get("/_fake/arrivals", self._arrivals)
            app.router.add_post("/_fake/reset", self._reset)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        self._closing = True
        if self._update_arrived is not None:
            self._update_arrived.set()
        for bot in self._bots:
            await bot.session.close()
        self._bots.clear()
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Telegram API is not started")
        return str(self._server.make_url("")).rstrip("/")

    def api_server(self) -> TelegramAPIServer:
        return TelegramAPIServer.from_base(self.base_url, is_local=True)

    def make_bot(self, token: str | None = None) -> Bot:
        """A real aiogram Bot talking to this server; its session is closed with the server."""
        bot = Bot(token or self.token, session=LocalAiohttpSession(api=self.api_server()))
        self._bots.append(bot)
        return bot

    async def answer_to_webhook(self, response: aiohttp.ClientResponse) -> None:
        """What Telegram does with a 200 answer to a webhook POST: a JSON body naming a ``method`` is
        a call, made as if the bot had made it (Bot API, "Making requests when getting updates")."""
        if response.status != 200 or response.content_type != "application/json":
            return
        body = await response.json()
        if not isinstance(body, dict) or "method" not in body:
            return
        params = dict(body)
        method = params.pop("method")
        async with aiohttp.ClientSession() as session:
            await session.post(f"{self.base_url}/bot{self.token}/{method}", json=params)

    # ---- what tests look at ---------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call in order, or those to one method (case-insensitive, as the real API)."""
        if method is None:
            return list(self._calls)
        return [c for c in self._calls if c.method.lower() == method.lower()]

    def methods(self) -> list[str]:
        return [c.method for c in self._calls]

    def last(self, method: str | None = None) -> Call:
        calls = self.calls(method)
        if not calls:
            raise AssertionError(f"no call to {method or 'any method'}; calls: {self.methods()}")
        return calls[-1]

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of the messages delivered by sendMessage, as the user sees them (HTML parsed)."""
        return [
            c.result["text"]
            for c in self.calls("sendMessage")
            if c.ok and (chat_id is None or c.result["chat"]["id"] == chat_id)
        ]

    def messages(self, chat_id: int | str) -> list[Params]:
        """The chat as it stands now (after edits and deletions), oldest first."""
        stored = sorted((mid, s) for (cid, mid), s in self._messages.items() if cid == chat_id)
        return [copy.deepcopy(s.message) for _, s in stored]

    def clear(self) -> None:
        """Forget the recorded calls and pending failures (chats, updates and webhook stay)."""
        self._calls.clear()
        self._failures.clear()

    @property
    def webhook_url(self) -> str:
        return self._webhook.url

    @property
    def webhook_secret(self) -> str | None:
        return self._webhook.secret_token

    # ---- what tests arrange ---------------------------------------------------------------------

    def push_update(self, update: Params) -> Params:
        """Queue an update for getUpdates (an update_id is assigned when missing). Returns it."""
        update = copy.deepcopy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"]) + 1
        self._remember_update(update)
        self._updates.append(update)
        if self._update_arrived is not None:
            self._update_arrived.set()
        return update

    def pending_updates(self) -> list[Params]:
        return copy.deepcopy(self._updates)

    async def deliver_update(self, update: Params, *, url: str | None = None) -> int:
        """POST an update to the webhook the bot set, with the secret-token header, as Telegram does.
        Returns the HTTP status the webhook answered."""
        target = url or self._webhook.url
        if not target:
            raise AssertionError("no webhook is set")
        self._remember_update(update)
        headers = {}
        if self._webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook.secret_token
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, json=update, headers=headers) as resp,
        ):
            await resp.read()
            return resp.status

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
        parameters: Params | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``method`` (for ``chat_id`` only, when given) fail.
        A 429 carries ``parameters.retry_after`` (1 s unless told) as the real flood control does."""
        parameters = dict(parameters or {})
        if error_code == HTTPStatus.TOO_MANY_REQUESTS:
            retry_after = retry_after or 1
            description = description or f"Too Many Requests: retry after {retry_after}"
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        error = ApiError(error_code, description, parameters or None)
        self._failures.append(_Failure(method.lower(), error, chat_id, times))

    def block_chat(self, chat_id: int | str) -> None:
        """The user blocked the bot: every send to this chat answers 403 from now on."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int | str) -> None:
        self._blocked.discard(chat_id)

    # ---- flood control (rate_limit) -------------------------------------------------------------

    def arrivals(self) -> list[Arrival]:
        """Each rate-limited request as it arrived, and how it was answered (rate_limit only)."""
        return list(self._limiter.arrivals) if self._limiter is not None else []

    def pauses(self) -> list[tuple[float, float]]:
        """The bot-wide pauses the server ordered: (start, end) in time.monotonic() seconds."""
        return list(self._limiter.pauses) if self._limiter is not None else []

    async def _arrivals(self, request: web.Request) -> web.Response:
        """Both, as JSON, for a client in another process (the bench runs the server apart)."""
        return web.json_response(
            {"arrivals": [dataclasses.astuple(a) for a in self.arrivals()], "pauses": self.pauses()}
        )

    async def _reset(self, request: web.Request) -> web.Response:
        """Calls and the flood control's state forgotten, for the next run of a client apart."""
        assert self._limiter is not None
        self._limiter = _Limiter(self._limiter.limit)
        self.clear()
        return web.json_response({"ok": True})

    # ---- HTTP -----------------------------------------------------------------------------------

    def put_file(self, data: bytes, name: str = "photo.jpg") -> Params:
        """A file a user sent (a photo, a document): its file_id, file_unique_id and file_size, as an
        update carries them; getFile and the download route then serve it."""
        file_id, unique_id = self._file_ids("AgAC")
        folder = "photos" if name.endswith(".jpg") else "documents"
        self._files[file_id] = (f"{folder}/file_{self._next_file}{name[name.rfind('.') :]}", data)
        return {"file_id": file_id, "file_unique_id": unique_id, "file_size": len(data)}

    def _get_file(self, params: Params) -> Params:
        found = self._files.get(str(params.get("file_id", "")))
        if found is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, data = found
        if len(data) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        file_id = str(params["file_id"])
        return {
            "file_id": file_id,
            "file_unique_id": "AQAD" + file_id[-10:],
            "file_size": len(data),
            "file_path": path,
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(ApiError(401).body(), 401)
        path = request.match_info["path"]
        for file_path, data in self._files.values():
            if file_path == path:
                self.downloads.append(path)
                return web.Response(body=data, content_type="application/octet-stream")
        return _answer(ApiError(404).body(), 404)

    async def _not_found(self, request: web.Request) -> web.Response:
        return _answer(ApiError(404).body(), 404)

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer(ApiError(401).body(), 401)
        name = request.match_info["method"]
        canonical, handler = self._handlers.get(name.lower(), (name, None))
        try:
            params = await _read_params(request)
        except ApiError as error:
            self._calls.append(Call(canonical, {}, error.error_code, error.description))
            return _answer(error.body(), error.error_code)
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            if self._limiter is not None and canonical.startswith(_RATED) and canonical != "sendChatAction":
                self._limiter.admit(params)
            self._inject_failure(canonical, params)
            if canonical == "getUpdates":
                result = await self._get_updates(params)
            else:
                result = handler(params)
        except ApiError as error:
            self._calls.append(Call(canonical, params, error.error_code, error.description))
            if self._limiter is not None:
                self._limiter.answered(error.error_code)
            return _answer(error.body(), error.error_code)
        self._calls.append(Call(canonical, params, 200, copy.deepcopy(result)))
        if self._limiter is not None:
            self._limiter.answered(200)
        body: Params = {"ok": True, "result": result}
        if canonical in ("setWebhook", "deleteWebhook") and isinstance(result, bool):
            body["description"] = self._last_webhook_description
        return _answer(body, 200)

    def _inject_failure(self, method: str, params: Params) -> None:
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and params.get("chat_id") != failure.chat_id:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            raise failure.error
        if params.get("chat_id") in self._blocked and method.startswith(("send", "edit", "forward", "copy")):
            raise ApiError(403)

    # ---- methods --------------------------------------------------------------------------------

    def _get_me(self, params: Params) -> Params:
        return dict(self.bot_user)

    def _set_webhook(self, params: Params) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("https://", "http://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            return self._delete_webhook({})
        self._webhook = _Webhook(
            url=url,
            secret_token=secret,
            max_connections=int(params.get("max_connections") or 40),
            allowed_updates=params.get("allowed_updates"),
        )
        self._last_webhook_description = "Webhook was set"
        return True

    def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        was_set = bool(self._webhook.url)
        self._webhook = _Webhook()
        self._last_webhook_description = "Webhook was deleted" if was_set else "Webhook is already deleted"
        return True

    def _get_webhook_info(self, params: Params) -> Params:
        info: Params = {
            "url": self._webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.url:
            info["max_connections"] = self._webhook.max_connections
            info["ip_address"] = "127.0.0.1"
            if self._webhook.allowed_updates is not None:
                info["allowed_updates"] = self._webhook.allowed_updates
        return info

    def _get_updates_now(self, params: Params) -> list[Params]:
        if self._webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        return [copy.deepcopy(u) for u in self._updates if self._allowed(u)][:limit]

    async def _get_updates(self, params: Params) -> list[Params]:
        wait = min(max(float(params.get("timeout") or 0), 0.0), self._max_poll_wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        if self._update_arrived is None:
            self._update_arrived = asyncio.Event()
        while True:
            self._update_arrived.clear()  # before looking, so an update pushed meanwhile wakes us
            batch = self._get_updates_now(params)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_arrived.wait(), remaining)

    def _allowed(self, update: Params) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            if not _COMMAND.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[_commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: Params) -> list[Params]:
        return copy.deepcopy(self._commands.get(_commands_key(params), []))

    def _delete_my_commands(self, params: Params) -> bool:
        self._commands.pop(_commands_key(params), None)
        return True

    def _send_message(self, params: Params) -> Params:
        chat_id = _require_chat(params)
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        text, entities = _formatted(params, "text", "entities")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        content: Params = {"text": text}
        if entities:
            content["entities"] = entities
        return self._new_message(chat_id, content, params.get("reply_markup"))

    def _send_photo(self, params: Params) -> Params:
        chat_id = _require_chat(params)
        upload = self._require_file(params, "photo")
        file_id, unique_id = self._file_ids("AgAC")
        size = upload.size if isinstance(upload, UploadedFile) else 54_321
        content: Params = {
            "photo": [
                {
                    "file_id": f"{file_id}-s",
                    "file_unique_id": f"{unique_id}s",
                    "file_size": min(size, 1_234),
                    "width": 90,
                    "height": 90,
                },
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "file_size": size,
                    "width": 800,
                    "height": 800,
                },
            ]
        }
        return self._new_message(chat_id, content | self._caption(params), params.get("reply_markup"))

    def _send_document(self, params: Params) -> Params:
        chat_id = _require_chat(params)
        upload = self._require_file(params, "document")
        file_id, unique_id = self._file_ids("BQAC")
        document: Params = {"file_id": file_id, "file_unique_id": unique_id}
        if isinstance(upload, UploadedFile):
            document |= {
                "file_name": upload.filename,
                "mime_type": mimetypes.guess_type(upload.filename)[0] or "application/octet-stream",
                "file_size": upload.size,
            }
        content: Params = {"document": document}
        return self._new_message(chat_id, content | self._caption(params), params.get("reply_markup"))

    def _edit_message_text(self, params: Params) -> Params | bool:
        if params.get("inline_message_id"):
            return True
        stored = self._stored(params, "Bad Request: message to edit not found")
        if "text" not in stored.message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = _formatted(params, "text", "entities")
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(text) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        _check_reply_markup(params.get("reply_markup"))
        markup = _inline_markup(params.get("reply_markup"))
        message = stored.message
        if (text, entities, markup) == (
            message["text"],
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        _set_markup(message, markup)
        message["edit_date"] = self._now()
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: Params) -> Params | bool:
        if params.get("inline_message_id"):
            return True
        stored = self._stored(params, "Bad Request: message to edit not found")
        _check_reply_markup(params.get("reply_markup"))
        markup = _inline_markup(params.get("reply_markup"))
        if markup == stored.message.get("reply_markup"):
            raise ApiError(400, _NOT_MODIFIED)
        _set_markup(stored.message, markup)
        stored.message["edit_date"] = self._now()
        return copy.deepcopy(stored.message)

    def _delete_message(self, params: Params) -> bool:
        chat_id = _require_chat(params)
        key = (chat_id, int(params.get("message_id") or 0))
        if key not in self._messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self._messages[key]
        return True

    def _answer_callback_query(self, params: Params) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: QUERY_ID_INVALID")
        if len(str(params.get("text") or "")) > CALLBACK_ANSWER_LIMIT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _send_chat_action(self, params: Params) -> bool:
        _require_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    # ---- message store --------------------------------------------------------------------------

    def _new_message(self, chat_id: int | str, content: Params, reply_markup: Any) -> Params:
        _check_reply_markup(reply_markup)
        markup = _inline_markup(reply_markup)
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message: Params = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": self._now(),
            **content,
        }
        _set_markup(message, markup)
        self._messages[(chat_id, message_id)] = _StoredMessage(message, from_bot=True)
        return copy.deepcopy(message)

    def _stored(self, params: Params, not_found: str) -> _StoredMessage:
        chat_id = _require_chat(params)
        stored = self._messages.get((chat_id, int(params.get("message_id") or 0)))
        if stored is None:
            raise ApiError(400, not_found)
        if not stored.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return stored

    def _remember_update(self, update: Params) -> None:
        """Learn chats and messages from updates, so replies and edits to them behave as on Telegram."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            if isinstance(message := update.get(key), dict):
                self._remember_message(message, from_bot=False)
        callback = update.get("callback_query")
        if isinstance(callback, dict) and isinstance(callback.get("message"), dict):
            self._remember_message(callback["message"], from_bot=True)

    def _remember_message(self, message: Params, *, from_bot: bool) -> None:
        chat = message.get("chat")
        if not isinstance(chat, dict) or "message_id" not in message:
            return
        self._chats[chat["id"]] = copy.deepcopy(chat)
        self._messages[(chat["id"], message["message_id"])] = _StoredMessage(copy.deepcopy(message), from_bot)
        last = self._last_message_id.get(chat["id"], 0)
        self._last_message_id[chat["id"]] = max(last, message["message_id"])

    def _chat(self, chat_id: int | str) -> Params:
        if chat_id in self._chats:
            return copy.deepcopy(self._chats[chat_id])
        if isinstance(chat_id, int) and chat_id > 0:
            return {"id": chat_id, "first_name": "Test", "last_name": f"User {chat_id}", "type": "private"}
        if isinstance(chat_id, str):
            raise ApiError(400, "Bad Request: chat not found")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "title": f"Test {kind} {chat_id}", "type": kind}

    def _caption(self, params: Params) -> Params:
        if not params.get("caption"):
            return {}
        caption, entities = _formatted(params, "caption", "caption_entities")
        if _utf16_len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        content: Params = {"caption": caption} if caption else {}
        if entities:
            content["caption_entities"] = entities
        return content

    def _require_file(self, params: Params, name: str) -> UploadedFile | str:
        value = params.get(name)
        if isinstance(value, UploadedFile):
            if value.size == 0:
                raise ApiError(400, "Bad Request: file must be non-empty")
            if value.size > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            return value
        if isinstance(value, str) and value and not value.startswith("attach://"):
            return value  # a file_id or URL
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    def _file_ids(self, prefix: str) -> tuple[str, str]:
        self._next_file += 1
        return f"{prefix}AgADfake{self._next_file:06d}", f"AQADfake{self._next_file:06d}"

    def _now(self) -> int:
        return int(self._clock.now().timestamp())


# ---- request decoding ---------------------------------------------------------------------------


async def _read_params(request: web.Request) -> Params:
    """Parameters as the Bot API accepts them: query string, urlencoded or multipart form, or JSON."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise ApiError(400, "Bad Request: can't parse JSON object") from error
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        for key, value in form.items():
            raw[key] = (
                UploadedFile(value.filename, value.file.read(), value.content_type)
                if isinstance(value, web.FileField)
                else value
            )
    files = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
    attached: set[str] = set()
    params: Params = {
        key: _attach(_decode(key, value), files, attached)
        for key, value in raw.items()
        if not isinstance(value, UploadedFile)
    }
    for key, upload in files.items():
        if key not in attached:
            params[key] = upload  # uploaded directly under the parameter name, not via attach://
    return params


def _decode(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    if key in _CHAT_ID_PARAMS:
        return int(value) if re.fullmatch(r"-?\d+", value) else value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _attach(value: Any, files: dict[str, UploadedFile], attached: set[str]) -> Any:
    """Replace ``attach://<name>`` references by the uploaded file."""
    if isinstance(value, str) and value.removeprefix("attach://") in files and value.startswith("attach://"):
        attached.add(value.removeprefix("attach://"))
        return files[value.removeprefix("attach://")]
    if isinstance(value, list):
        return [_attach(v, files, attached) for v in value]
    if isinstance(value, dict):
        return {k: _attach(v, files, attached) for k, v in value.items()}
    return value


def _answer(body: Params, status: int) -> web.Response:
    return web.json_response(body, status=status)


def _require_chat(params: Params) -> int | str:
    chat_id = params.get("chat_id")
    if chat_id in (None, ""):
        raise ApiError(400, "Bad Request: chat_id is empty")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int | str):
        raise ApiError(400, "Bad Request: chat not found")
    return chat_id


def _commands_key(params: Params) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _inline_markup(reply_markup: Any) -> Params | None:
    """Only an inline keyboard is part of the message; reply keyboards belong to the chat."""
    if isinstance(reply_markup, dict) and "inline_keyboard" in reply_markup:
        return copy.deepcopy(reply_markup)
    return None


def _set_markup(message: Params, markup: Params | None) -> None:
    message.pop("reply_markup", None)
    if markup and any(markup["inline_keyboard"]):
        message["reply_markup"] = markup


def _check_reply_markup(reply_markup: Any) -> None:
    if reply_markup is None:
        return
    if not isinstance(reply_markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in reply_markup.get("inline_keyboard", []):
        for button in row:
            _check_inline_button(button)
    for row in reply_markup.get("keyboard", []):
        for button in row:
            text = button if isinstance(button, str) else button.get("text")
            if not text:
                raise ApiError(400, "Bad Request: can't parse keyboard button: Text must be non-empty")


def _check_inline_button(button: Params) -> None:
    if not button.get("text"):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
    if "callback_data" in button:
        if not 1 <= len(str(button["callback_data"]).encode()) <= CALLBACK_DATA_LIMIT:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    elif "url" in button:
        url = str(button["url"])
        if not re.match(r"(https?|tg)://[^\s/]+", url):
            raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    elif not any(
        k in button
        for k in (
            "web_app",
            "login_url",
            "switch_inline_query",
            "pay",
            "callback_game",
            "switch_inline_query_current_chat",
            "switch_inline_query_chosen_chat",
            "copy_text",
        )
    ):
        raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")


# ---- formatted text -----------------------------------------------------------------------------


def _formatted(params: Params, text_key: str, entities_key: str) -> tuple[str, list[Params]]:
    """The text as Telegram stores it: entities parsed out, surrounding whitespace trimmed."""
    source = str(params.get(text_key) or "")
    mode = str(params.get("parse_mode") or "").lower()
    if mode == "html":
        try:
            text, entities = parse_html(source)
        except HtmlEntityError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error
    else:  # MarkdownV2 is not interpreted by the fake: the text is kept as sent
        text, entities = source, list(params.get(entities_key) or [])
    return _trim(text, entities)


class HtmlEntityError(ValueError):
    pass


_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z-]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,4}));")


def parse_html(source: str) -> tuple[str, list[Params]]:
    """Telegram's HTML parse mode: supported tags become entities (offsets in UTF-16 code units);
    an unsupported or unclosed tag is an error, as on the real server."""
    out: list[str] = []
    length = 0  # UTF-16 code units written so far
    stack: list[tuple[str, int, Params]] = []
    entities: list[Params] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "&":
            decoded, width = _html_entity(source, i)
            out.append(decoded)
            length += _utf16_len(decoded)
            i += width
        elif char == "<":
            offset = len(source[:i].encode())
            end = source.find(">", i)
            if source.startswith("</", i):
                if end == -1:
                    raise HtmlEntityError(f"Unclosed end tag at byte offset {offset}")
                name = source[i + 2 : end].strip().lower()
                if not stack:
                    raise HtmlEntityError(f"Unexpected end tag at byte offset {offset}")
                open_name, start, attributes = stack.pop()
                if name != open_name:
                    raise HtmlEntityError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{open_name}>", found "</{name}>"'
                    )
                _close_tag(open_name, start, length, attributes, stack, entities)
                i = end + 1
            else:
                match = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", source[i + 1 :])
                name = match.group(0).lower() if match else ""
                if name not in _TAG_TYPES:
                    raise HtmlEntityError(f'Unsupported start tag "{name}" at byte offset {offset}')
                if end == -1:
                    raise HtmlEntityError(f"Unclosed start tag at byte offset {offset}")
                attributes = {
                    m.group(1).lower(): _unquote(m.group(2) or "")
                    for m in _ATTRIBUTE.finditer(source[i + 1 + len(name) : end])
                    if m.group(1)
                }
                if name == "span" and attributes.get("class") != "tg-spoiler":
                    raise HtmlEntityError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
                stack.append((name, length, attributes))
                i = end + 1
        else:
            out.append(char)
            length += _utf16_len(char)
            i += 1
    if stack:
        raise HtmlEntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    name: str,
    start: int,
    end: int,
    attributes: Params,
    stack: list[tuple[str, int, Params]],
    entities: list[Params],
) -> None:
    kind = _TAG_TYPES[name]
    if name == "code" and stack and stack[-1][0] == "pre":
        language = str(attributes.get("class", ""))
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return
    if end == start:
        return
    entity: Params = {"offset": start, "length": end - start, "type": kind}
    if kind == "text_link":
        entity["url"] = attributes.get("href", "")
    elif kind == "pre" and attributes.get("language"):
        entity["language"] = attributes["language"]
    elif kind == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attributes.get("emoji-id", "")
    entities.append(entity)


def _html_entity(source: str, i: int) -> tuple[str, int]:
    match = _ENTITY.match(source, i)
    if match is None:
        return "&", 1  # a lone "&" is taken literally, as Telegram does
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name.lower() not in _NAMED_ENTITIES:
            return "&", 1
        return _NAMED_ENTITIES[name.lower()], match.end() - i
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return (chr(code) if 0 < code <= 0x10FFFF else "\ufffd"), match.end() - i


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return _ENTITY.sub(lambda m: _html_entity(m.group(0), 0)[0], value)


def _trim(text: str, entities: Iterable[Params]) -> tuple[str, list[Params]]:
    stripped = text.strip()
    if not stripped:
        return "", []
    shift = _utf16_len(text[: len(text) - len(text.lstrip())])
    size = _utf16_len(stripped)
    trimmed: list[Params] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, size)
        if end > start:
            trimmed.append(entity | {"offset": start, "length": end - start})
    return stripped, trimmed


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---- pytest fixtures ----------------------------------------------------------------------------


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramAPI]:
    """A running fake Bot API; import this fixture (and ``telegram_bot``) into a test module to use it."""
    async with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
async def telegram_bot(fake_telegram: FakeTelegramAPI) -> Bot:
    """The real aiogram Bot, pointed at ``fake_telegram``; its session closes with the fake."""
    return fake_telegram.make_bot()
