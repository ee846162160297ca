"""The account's parametric QR codes as images the bot can hand out in chat (3-8.1.2.1: beneficiaries
scan the survey's code on site). WeChat has no deep links: a code made with qrcode/create
(QR_LIMIT_STR_SCENE) follows the account and starts the conversation with its scene, the same payload
as a Telegram deep link (``survey-12``). Such a code is made once, on the first request for its image:
the address it holds is kept in the wechat_tokens table (a permanent code never changes, and every
instance reads it there) and the image is drawn here with segno, with no second request to WeChat.

The image is served at /wechat/qr/<payload>.png?sig=…: the signature (an HMAC of the payload with
the account's secret) lets only links the bot gave out make a code, as an account has 100,000."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

import segno
from aiohttp import web

from bots.wechat.api import WeChatApi, WeChatError, WeChatUnreachable
from core.ports import Clock
from storage.database import SqlUnitOfWork

log = logging.getLogger(__name__)

KEY_PREFIX = "qr:"  # in wechat_tokens, beside the access token; the key column holds 64 characters
SCENE = re.compile(r"^[A-Za-z0-9_-]{1,61}$")
KEPT = timedelta(days=3650)  # a permanent code: kept as long as anything is
SIGNATURE_HEX = 16
ROUTE = "/wechat/qr/{payload}.png"


class SceneCodes:
    """Signed links to the images of the account's parametric QR codes, and the images."""

    def __init__(
        self,
        api: WeChatApi,
        uows: Callable[[], SqlUnitOfWork],
        clock: Clock,
        secret: str,
        public_url: str,
    ) -> None:
        self.api, self.uows, self.clock = api, uows, clock
        self._secret = secret.encode()
        self.public_url = public_url.rstrip("/")

    def link(self, payload: str) -> str | None:
        """Where the image of this payload's code is, for staff to open, print or pass on."""
        if not SCENE.match(payload) or not self.public_url:
            return None
        return f"{self.public_url}{ROUTE.format(payload=payload)}?sig={self._sign(payload)}"

    def signed(self, payload: str, signature: str) -> bool:
        # As bytes: compare_digest refuses a str with other than ASCII in it (a hand-made address).
        return bool(SCENE.match(payload)) and hmac.compare_digest(
            self._sign(payload).encode(), signature.encode()
        )

    async def png(self, payload: str) -> bytes:
        """The code's image; WeChatError or WeChatUnreachable when it cannot be made."""
        content = await self._content(payload)
        buffer = BytesIO()
        # Level M survives a smudged or partly covered print (15 %), as the Telegram codes do.
        segno.make(content, error="m").save(buffer, kind="png", scale=8, border=2)
        return buffer.getvalue()

    async def serve(self, request: web.Request) -> web.Response:
        payload = request.match_info["payload"]
        if not self.signed(payload, request.query.get("sig", "")):
            raise web.HTTPNotFound()
        try:
            image = await self.png(payload)
        except (WeChatError, WeChatUnreachable) as error:
            log.warning("the parametric QR code of a payload could not be made: %s", error)
            raise web.HTTPServiceUnavailable(text="WeChat did not make the code; try again later") from error
        # The code never changes: browsers and WeChat's own viewer may keep it.
        return web.Response(body=image, content_type="image/png", headers={"Cache-Control": "max-age=86400"})

    async def _content(self, payload: str) -> str:
        key = KEY_PREFIX + payload
        async with self.uows() as uow:
            kept = await uow.wechat_tokens.get(key)
        if kept is not None:
            return kept[0]
        _, content = await self.api.create_permanent_qrcode(payload)
        async with self.uows() as uow:
            # Two first requests at once both ask WeChat: it answers the same code for the same scene.
            await uow.wechat_tokens.put(key, content, self.clock.now() + KEPT)
            await uow.commit()
        return content

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, f"wechat-qr:{payload}".encode(), hashlib.sha256).hexdigest()
        return digest[:SIGNATURE_HEX]
