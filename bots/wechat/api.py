"""A small asynchronous client of the WeChat Official Account API (aiohttp): the access token, customer-
service and template messages, parametric QR codes and the custom menu.

Why not wechatpy's ``WeChatClient`` here (wechatpy still parses and decrypts what WeChat posts to us):
it is synchronous (requests), so every call would need a thread; its token fetch ignores both the
configured API base (``fetch_access_token`` hard-codes api.weixin.qq.com, so tests would reach for the
real server) and the timeout; and its ``auto_retry`` re-fetches the token and retries without a bound.
Here every call has a timeout, the token is fetched at most once per invalidation, and it is shared
by every instance through the database (``DatabaseTokens``)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from bots.settings import Settings
from core.ports import Clock
from storage.database import SqlUnitOfWork

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com/cgi-bin/"
SHOW_QRCODE = "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket="
TIMEOUT_S = 10.0
CONCURRENCY = 8  # calls in flight per account; WeChat's own limits are per day and per minute
TOKEN_MARGIN = timedelta(minutes=5)  # refresh a little early: a call may be in flight when it lapses

# errcodes (https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html)
INVALID_CREDENTIAL = 40001  # the access token is wrong, or was replaced by a newer one
INVALID_ACCESS_TOKEN = 40014
EXPIRED_ACCESS_TOKEN = 42001
NOT_SUBSCRIBED = 43004  # the user unfollowed the account
OUT_OF_WINDOW = 45015  # no customer-service window open
TOO_MANY_CS_MESSAGES = 45047
API_FREQ_LIMIT = 45009
STALE_TOKEN = frozenset({INVALID_CREDENTIAL, INVALID_ACCESS_TOKEN, EXPIRED_ACCESS_TOKEN})


class WeChatError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnreachable(Exception):
    """No answer, a timeout, an HTTP error or something that is not WeChat's JSON."""


class MediaTooLarge(Exception):
    """A media file over the size the caller takes: not downloaded further."""


class TokenStore(Protocol):
    async def load(self) -> str | None:
        """A token that has not expired yet, or None."""
        ...

    async def save(self, token: str, expires_in: int) -> None: ...


class DatabaseTokens:
    """The access token in the wechat_tokens table: each instance (and the CLI) reads it there, so a
    token is fetched once for all of them rather than once per process or per message."""

    def __init__(self, uows: Callable[[], SqlUnitOfWork], clock: Clock, app_id: str) -> None:
        self.uows = uows
        self.clock = clock
        self.key = f"{app_id}_access_token"

    async def load(self) -> str | None:
        async with self.uows() as uow:
            row = await uow.wechat_tokens.get(self.key)
        if row is None or row[1] <= self.clock.now():
            return None
        return row[0]

    async def save(self, token: str, expires_in: int) -> None:
        expires_at = self.clock.now() + timedelta(seconds=expires_in) - TOKEN_MARGIN
        async with self.uows() as uow:
            await uow.wechat_tokens.put(self.key, token, expires_at)
            await uow.commit()


class WeChatApi:
    """One account's API. Safe to share between tasks; ``close()`` when done."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        tokens: TokenStore,
        *,
        base_url: str = "",
        timeout: float = TIMEOUT_S,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.app_id = app_id
        self._secret = secret
        self.tokens = tokens
        self.base_url = (base_url or DEFAULT_API_BASE).rstrip("/") + "/"
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._limit = asyncio.Semaphore(concurrency)
        self._refreshing = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- the calls we make ------------------------------------------------------------------------

    async def send_text(self, openid: str, content: str) -> None:
        await self.post(
            "message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": content}}
        )

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str | None = None
    ) -> None:
        payload: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        if url:
            payload["url"] = url
        await self.post("message/template/send", payload)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self.post("menu/create", menu)

    async def create_permanent_qrcode(self, scene: str) -> tuple[str, str]:
        """QR_LIMIT_STR_SCENE: the ticket's image address and the address the code holds."""
        result = await self.post(
            "qrcode/create",
            {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}},
        )
        ticket, url = result.get("ticket"), result.get("url")
        if not isinstance(ticket, str) or not isinstance(url, str):
            raise WeChatUnreachable(f"qrcode/create answered without a ticket: {result}")
        return SHOW_QRCODE + quote(ticket, safe=""), url

    async def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        """A file a user sent (an image message's MediaId), by 获取临时素材 (GET media/get): its bytes and
        type. Raises MediaTooLarge past ``max_bytes`` (the rest is never read); WeChatError or
        WeChatUnreachable as any call; a stale token is replaced once, as in ``post``."""
        async with self._limit:
            token = await self.tokens.load() or await self._refresh(stale=None)
            try:
                return await self._media(token, media_id, max_bytes)
            except WeChatError as error:
                if error.errcode not in STALE_TOKEN:
                    raise
                log.info("WeChat access token refused (%s); refreshing once", error.errcode)
            token = await self._refresh(stale=token)
            return await self._media(token, media_id, max_bytes)

    async def _media(self, token: str, media_id: str, max_bytes: int) -> tuple[bytes, str]:
        params = {"access_token": token, "media_id": media_id}
        try:
            async with self._http().get(self.base_url + "media/get", params=params) as response:
                response.raise_for_status()
                mime = response.content_type
                if mime in ("application/json", "text/plain"):  # an error: errcode and errmsg
                    raw = await response.content.read(64 << 10)
                else:
                    if (response.content_length or 0) > max_bytes:
                        raise MediaTooLarge
                    data = bytearray()
                    async for chunk in response.content.iter_chunked(64 << 10):
                        data += chunk
                        if len(data) > max_bytes:
                            raise MediaTooLarge
                    return bytes(data), mime
        except aiohttp.ClientResponseError as error:  # its text has the URL, with the token
            raise WeChatUnreachable(f"media/get: HTTP {error.status}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise WeChatUnreachable(f"media/get: {type(error).__name__}") from error
        try:
            result = json.loads(raw)
        except ValueError as error:
            raise WeChatUnreachable("media/get: neither a file nor JSON") from error
        errcode = int(result.get("errcode") or 0) if isinstance(result, dict) else 0
        raise WeChatError(errcode or -1, str(result.get("errmsg", "")) if isinstance(result, dict) else "")

    # --- plumbing ---------------------------------------------------------------------------------

    async def post(self, endpoint: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One call with the shared token; a stale token is replaced once and the call tried again."""
        async with self._limit:
            token = await self.tokens.load() or await self._refresh(stale=None)
            try:
                return await self._request("POST", endpoint, {"access_token": token}, payload)
            except WeChatError as error:
                if error.errcode not in STALE_TOKEN:
                    raise
                log.info("WeChat access token refused (%s); refreshing once", error.errcode)
            token = await self._refresh(stale=token)
            return await self._request("POST", endpoint, {"access_token": token}, payload)

    async def _refresh(self, stale: str | None) -> str:
        """A new token, unless another task or instance has stored one since ``stale`` was read."""
        async with self._refreshing:
            current = await self.tokens.load()
            if current is not None and current != stale:
                return current
            params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
            result = await self._request("GET", "token", params, None)
            token, expires_in = result.get("access_token"), result.get("expires_in", 7200)
            if not isinstance(token, str) or not isinstance(expires_in, int):
                raise WeChatUnreachable("the token endpoint answered without a token")
            await self.tokens.save(token, expires_in)
            return token

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def _request(
        self, method: str, endpoint: str, params: dict[str, str], payload: dict[str, Any] | None
    ) -> dict[str, Any]:
        # WeChat shows \u escapes in some places (menus) literally: send the characters themselves.
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if body is not None else None
        try:
            async with self._http().request(
                method, self.base_url + endpoint, params=params, data=body, headers=headers
            ) as response:
                response.raise_for_status()
                raw = await response.read()
        except aiohttp.ClientResponseError as error:  # its text has the URL, with the token or secret
            raise WeChatUnreachable(f"{endpoint}: HTTP {error.status}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise WeChatUnreachable(f"{endpoint}: {type(error).__name__}: {error}") from error
        try:
            result = json.loads(raw)
        except ValueError as error:
            raise WeChatUnreachable(f"{endpoint}: not JSON") from error
        if not isinstance(result, dict):
            raise WeChatUnreachable(f"{endpoint}: not a JSON object")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise WeChatError(errcode, str(result.get("errmsg", "")))
        return result


def api_from_settings(settings: Settings, uows: Callable[[], SqlUnitOfWork], clock: Clock) -> WeChatApi:
    """The account the settings name, its token shared through the database."""
    return WeChatApi(
        settings.wechat_app_id,
        settings.wechat_app_secret,
        DatabaseTokens(uows, clock, settings.wechat_app_id),
        base_url=settings.wechat_api_base,
    )
