"""WeChat Official Account callbacks: GET /wechat (server verification) and POST /wechat (messages and
events), in plaintext or safe (AES) mode. Checks at the edge, then one core.chat turn, then one passive
text reply within WeChat's 5 seconds; what takes longer or does not fit goes out through the Messenger.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from xml.etree.ElementTree import ParseError

import prcoords
from aiohttp import web
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import (
    ClickEvent,
    ScanCodeWaitMsgEvent,
    ScanEvent,
    SubscribeEvent,
    SubscribeScanEvent,
    SubscribeScanProductEvent,
)
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage, ImageMessage, LocationMessage, TextMessage
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

from bots.media import MediaStore
from bots.wechat.api import MediaTooLarge, WeChatError, WeChatUnreachable
from bots.wechat.render import MediaLinks, cdata_safe, render_text, split_passive, truncate
from bots.wechat.window import note_inbound
from core.chat.conversation import Conversation
from core.chat.messages import Command, Incoming, Input, Location, Photo, Say, typed
from core.domain.attendance import PHOTO_MAX_BYTES
from core.domain.codes import Channel
from core.ports import Clock, DeliveryFailed, Messenger
from locales import translator
from storage.database import unavailable

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 << 10
MAX_CLOCK_SKEW_S = 300  # older (or newer) timestamps are replays
REPLY_WITHIN_S = 4.0  # WeChat waits 5 s, then retries
SUCCESS = "success"  # stops WeChat's retries and shows the user nothing
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the deep-link payload alphabet (core.ports.Links)
_DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")

# Custom-menu keys (stvs wechat menu) → the command each runs.
MENU_COMMANDS: dict[str, Command] = {
    "FIND": Command("find"),
    "MY": Command("my"),
    "CHECKIN": Command("checkin"),  # 签到: then a location message (GCJ-02, converted below)
    "HOURS": Command("hours"),
    "CERTIFICATE": Command("certificate"),
    "MORE": Command("help"),
    "MENU": Command("menu"),
    "PROFILE": Command("profile"),
    "FEEDBACK": Command("feedback"),
    "LINK": Command("link"),
}
UNSUPPORTED = "wechat.unsupported"


class Unavailable(Exception):
    """The database is away: the message is left for WeChat to deliver again."""


class Refused(Exception):
    """An input refused at the edge, with the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Inbound:
    """A message or event worth a conversation turn."""

    openid: str
    input: Input
    delivery_key: str
    note: str = ""  # a catalog key said before the answer (a message we cannot read)
    from_user: bool = True  # a message the user sent, not an event (menu click, follow, scan)
    media_id: str = ""  # an image to fetch (media/get) before the turn: it becomes the Photo


class MediaSource(Protocol):
    """What fetches a user's image by its MediaId (bots.wechat.api.WeChatApi)."""

    async def download_media(self, media_id: str, max_bytes: int) -> tuple[bytes, str]: ...


def gcj_to_wgs(latitude: float, longitude: float) -> tuple[float, float]:
    """WeChat positions are GCJ-02; core works in WGS-84. Outside China GCJ-02 is WGS-84."""
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return latitude, longitude
    point = prcoords.Coords(latitude, longitude)
    if not prcoords.sanity_in_china_p(point):
        return latitude, longitude
    wgs = prcoords.gcj_wgs_bored(point, check_china=False)
    return wgs.lat, wgs.lon


def inbound(message: BaseMessage, msg_type: str) -> Inbound | None:
    """The conversation input for a parsed message or event (``msg_type`` as sent: wechatpy parses an
    event it does not know as an unknown message); None for what is answered "success" only (LOCATION
    reports, unsubscribe, menu links, other platform events)."""
    openid = message.source
    if msg_type.lower() == "event":
        key = f"{openid}:{message.time}:{getattr(message, 'event', '')}"
        given = _event_input(message)
        return Inbound(openid, given, key, from_user=False) if given is not None else None
    key = str(message.id) if message.id else f"{openid}:{message.time}:{message.type}"
    if isinstance(message, TextMessage):
        return Inbound(openid, typed(message.content or ""), key)
    if isinstance(message, LocationMessage):
        try:
            # location_x is the latitude, location_y the longitude, both strings (PITFALLS).
            latitude, longitude = float(message.location_x), float(message.location_y)
        except (TypeError, ValueError):
            return Inbound(openid, Command("help"), key, note=UNSUPPORTED)
        return Inbound(openid, Location(*gcj_to_wgs(latitude, longitude)), key)
    if isinstance(message, ImageMessage) and message.media_id:
        return Inbound(openid, Photo(b"", "image/jpeg"), key, media_id=message.media_id)
    return Inbound(openid, Command("help"), key, note=UNSUPPORTED)


def _event_input(event: BaseMessage) -> Input | None:
    if isinstance(event, SubscribeScanEvent | ScanEvent):  # a parametric QR code: its scene is a payload
        return Command("start", _payload(event.scene_id))
    if isinstance(event, SubscribeEvent | SubscribeScanProductEvent):
        # Every follow is welcomed, a product-barcode scan (scanbarcode|…, scanimage|…) included.
        return Command("start")
    if isinstance(event, ClickEvent):
        return MENU_COMMANDS.get(_menu_key(event), Command("help"))
    if isinstance(event, ScanCodeWaitMsgEvent):  # the client waits ("消息接收中") for an answer
        return Command("help")
    return None


def _menu_key(event: BaseMessage) -> str:
    return (getattr(event, "key", None) or "").upper()


def _payload(scene: str | None) -> str:
    scene = (scene or "").strip()
    return scene if _PAYLOAD.match(scene) else ""


def signature_of(token: str, *parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return signer.signature


class WeChatReceiver:
    def __init__(
        self,
        conversation: Conversation,
        clock: Clock,
        *,
        token: str,
        aes_key: str = "",
        app_id: str = "",
        messenger: Callable[[], Messenger | None] = lambda: None,
        media_source: Callable[[], MediaSource | None] = lambda: None,
        on_user_message: Callable[[str, Any], Awaitable[None]] | None = None,
        media: MediaStore | None = None,
        public_url: str = "",
        reply_within_s: float = REPLY_WITHIN_S,
        overflow_delay_s: float = 1.0,
    ) -> None:
        self.conversation = conversation
        self.clock = clock
        self.token = token
        self.crypto: WeChatCrypto | None = None
        if aes_key:
            if len(aes_key) != 43 or not app_id:
                raise ValueError("safe mode needs STVS_WECHAT_AES_KEY (43 characters) and STVS_WECHAT_APP_ID")
            self.crypto = WeChatCrypto(token, aes_key, app_id)
        self.messenger = messenger
        self.media_source = media_source
        # Opens the customer-service window (bots.wechat.window), in the turn's own transaction.
        self.on_user_message = on_user_message
        self.media = media
        self.public_url = public_url
        self.reply_within_s = reply_within_s
        self.overflow_delay_s = overflow_delay_s  # the passive reply should arrive before the rest
        self.pending: set[asyncio.Task[None]] = set()
        self._in_flight: set[str] = set()

    # ---- HTTP ------------------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        """The server-verification handshake: echo echostr when the signature holds."""
        query = request.query
        try:
            self._check_fresh(query.get("timestamp", ""))
            self._check_signature(
                query.get("signature", ""), query.get("timestamp", ""), query.get("nonce", "")
            )
        except Refused as refused:
            return web.Response(status=refused.status, text=refused.reason)
        echostr = query.get("echostr", "")
        if not echostr or len(echostr) > 128 or not echostr.isalnum():
            return web.Response(status=400, text="bad echostr")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
                raise Refused(413, "body too large")
            timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
            self._check_fresh(timestamp)
            if self.crypto is None:
                self._check_signature(query.get("signature", ""), timestamp, nonce)
            elif query.get("encrypt_type") != "aes" or not query.get("msg_signature"):
                raise Refused(403, "safe mode: encrypt_type=aes and msg_signature required")
            body = await self._read(request)
            message, msg_type = self._message(body, query.get("msg_signature", ""), timestamp, nonce)
            if query.get("openid") and query["openid"] != message.source:
                raise Refused(403, "openid does not match the sender")
        except Refused as refused:
            log.warning("WeChat callback refused (%s): %s", refused.status, refused.reason)
            return web.Response(status=refused.status, text=refused.reason)
        given = inbound(message, msg_type)
        if given is None or given.delivery_key in self._in_flight:
            return _success()
        try:
            text = await self._answer_in_time(given)
        except Unavailable:
            return web.Response(status=503, text="try again")
        if text is None:
            return _success()
        reply = TextReply(
            source=message.target,
            target=message.source,
            time=int(self.clock.now().timestamp()),
            content=cdata_safe(text),
        ).render()
        if self.crypto is not None:
            reply = self.crypto.encrypt_message(reply, nonce, str(int(self.clock.now().timestamp())))
        return web.Response(text=reply, content_type="application/xml")

    async def close(self) -> None:
        """At shutdown: let turns finished in the background send what they have."""
        if self.pending:
            await asyncio.wait(self.pending, timeout=10)

    # ---- checks ----------------------------------------------------------------------------------

    def _check_fresh(self, timestamp: str) -> None:
        if not timestamp.isdigit():
            raise Refused(403, "bad timestamp")
        if abs(self.clock.now().timestamp() - int(timestamp)) > MAX_CLOCK_SKEW_S:
            raise Refused(403, "stale timestamp (replay?)")

    def _check_signature(self, signature: str, timestamp: str, nonce: str) -> None:
        expected = signature_of(self.token, timestamp, nonce)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise Refused(403, "bad signature")

    async def _read(self, request: web.Request) -> bytes:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as error:
            raise Refused(413, "body too large") from error
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, "body too large")
        return body

    def _message(
        self, body: bytes, msg_signature: str, timestamp: str, nonce: str
    ) -> tuple[BaseMessage, str]:
        """The parsed message and its MsgType."""
        fields = _xml_fields(body)
        if self.crypto is not None:
            encrypted = fields.get("Encrypt", "")
            if not encrypted:
                raise Refused(400, "no Encrypt element")
            try:
                plain = self.crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
            except InvalidSignatureException as error:
                raise Refused(403, "bad msg_signature") from error
            except InvalidAppIdException as error:
                raise Refused(403, "message for another app id") from error
            except Exception as error:  # noqa: BLE001 - any decryption failure is a bad body
                raise Refused(400, "cannot decrypt") from error
            body = plain.encode()
            fields = _xml_fields(body)
        if not fields.get("MsgType") or not fields.get("CreateTime", "").isdigit():
            raise Refused(400, "no MsgType or CreateTime")
        if not _OPENID.match(fields.get("FromUserName", "")) or not _OPENID.match(
            fields.get("ToUserName", "")
        ):
            raise Refused(400, "bad FromUserName or ToUserName")
        try:
            message = parse_message(body.decode())
            _ = message.id, message.time  # converted on access: a bad number fails here
        except Exception as error:  # noqa: BLE001 - whatever xmltodict or a field converter raises
            raise Refused(400, "not a WeChat message") from error
        return message, fields["MsgType"]

    # ---- the turn --------------------------------------------------------------------------------

    async def _answer_in_time(self, given: Inbound) -> str | None:
        """The reply text if the turn ends in time; else None, and the turn goes on in the background
        and sends its replies actively."""
        self._in_flight.add(given.delivery_key)  # before the task starts: a twin arriving meanwhile sees it
        task = asyncio.create_task(self._turn(given))
        done, _ = await asyncio.wait({task}, timeout=self.reply_within_s)
        if not done:
            self._in_background(self._send_when_done(task, given.openid))
            return None
        answer = task.result()
        if answer is None:
            return None
        text, language = answer
        head, rest = split_passive(text)
        if not rest:
            return text
        if self.messenger() is None:
            return truncate(text, translator(language)("wechat.truncated"))
        self._in_background(self._send_rest(given.openid, rest, language))
        return head

    async def _turn(self, given: Inbound) -> tuple[str, str] | None:
        """The turn's replies as one text, and its language; None for a redelivery."""
        try:
            photo = await self._photo(given.media_id) if given.media_id else None
            incoming = Incoming(Channel.WECHAT, given.openid, photo or given.input)
            on_turn = None
            if given.from_user and self.on_user_message is not None:
                on_turn = partial(self.on_user_message, given.openid)
            try:
                outgoing = await self.conversation.handle(
                    incoming, delivery_key=given.delivery_key, on_turn=on_turn
                )
            except Exception as error:
                # Logged without the sender or the text (personal data).
                log.exception("a WeChat %s failed", "message" if given.from_user else "event")
                if unavailable(error):
                    # Not marked handled: answered 503, WeChat delivers it again (3 tries in 15 s)
                    # and says itself that the account cannot answer now if all of them fail.
                    raise Unavailable from error
                return translator("zh_CN")("error.generic"), "zh_CN"
            if outgoing is None:  # WeChat's retry of what was handled already
                return None
            links = MediaLinks(self.media.batch() if self.media is not None else None, self.public_url)
            text = render_text(outgoing.replies, outgoing.language, links)
            await links.save()
            if given.note:
                text = f"{translator(outgoing.language)(given.note)}\n\n{text}"
            return text, outgoing.language
        finally:
            self._in_flight.discard(given.delivery_key)

    async def _photo(self, media_id: str) -> Photo:
        """The image of an image message, fetched from WeChat; empty when it cannot be had."""
        source = self.media_source()
        if source is None:
            log.warning("an image arrived, but no WeChat API is configured to fetch it")
            return Photo(b"", "image/jpeg")
        try:
            data, mime = await source.download_media(media_id, PHOTO_MAX_BYTES)
        except MediaTooLarge:
            return Photo(b"", "image/jpeg", too_large=True)
        except (WeChatError, WeChatUnreachable) as error:
            log.warning("an image could not be fetched from WeChat: %s", error)
            return Photo(b"", "image/jpeg")
        return Photo(data, mime)

    async def _send_when_done(self, task: asyncio.Task[tuple[str, str] | None], openid: str) -> None:
        try:
            answer = await task
        except Unavailable:  # too late for WeChat to try again: say sorry instead
            answer = translator("zh_CN")("error.generic"), "zh_CN"
        if answer is not None:
            await self._send_actively(openid, *answer)

    async def _send_rest(self, openid: str, rest: str, language: str) -> None:
        await asyncio.sleep(self.overflow_delay_s)
        await self._send_actively(openid, rest, language)

    async def _send_actively(self, openid: str, text: str, language: str) -> None:
        # Already rendered (numbers and all), so the numbers match what core recorded as offered.
        messenger = self.messenger()
        if messenger is None:
            log.error("no WeChat messenger: a reply is lost")
            return
        try:
            await messenger.send(openid, [Say(text)])
        except DeliveryFailed as error:
            # The turn is written and marked handled: what it could not say goes to the outbox, and the
            # dispatcher says it (core.chat.unsent); a closed customer-service window fails it there.
            log.warning("a WeChat reply was not sent actively (%s): queued", error)
            await self.conversation.keep_unsent(Channel.WECHAT, openid, language, [Say(text)])
        except Exception:
            log.exception("sending a reply actively failed")

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)


def _xml_fields(body: bytes) -> dict[str, str]:
    """The children of <xml> as text. Declarations are refused before any parser sees them;
    defusedxml is the second guard."""
    upper = body.upper()
    if any(declaration in upper for declaration in _DECLARATIONS):
        raise Refused(400, "DOCTYPE or ENTITY declarations are not accepted")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise Refused(400, "malformed XML") from error
    if root.tag != "xml":
        raise Refused(400, "not a WeChat message")
    return {child.tag: (child.text or "") for child in root}


def _success() -> web.Response:
    return web.Response(text=SUCCESS)


WECHAT_RECEIVER = web.AppKey("wechat_receiver", WeChatReceiver)


def add_routes(
    app: web.Application,
    conversation: Conversation,
    clock: Clock,
    messengers: Mapping[Channel, Messenger],
    media: MediaStore,
    *,
    token: str,
    aes_key: str,
    app_id: str,
    public_url: str,
) -> WeChatReceiver:
    """GET and POST /wechat, and waiting for background turns at shutdown. The WeChat messenger is
    looked up in ``messengers`` at each send, so that one registered later (a test's fake) is used."""
    receiver = WeChatReceiver(
        conversation,
        clock,
        token=token,
        aes_key=aes_key,
        app_id=app_id,
        messenger=lambda: messengers.get(Channel.WECHAT),
        media_source=lambda: getattr(messengers.get(Channel.WECHAT), "api", None),
        media=media,
        public_url=public_url,
        on_user_message=lambda openid, uow: note_inbound(uow, openid, clock.now()),
    )
    app[WECHAT_RECEIVER] = receiver
    app.router.add_get("/wechat", receiver.verify)
    app.router.add_post("/wechat", receiver.receive)

    async def finish(_: web.Application) -> None:
        await receiver.close()

    app.on_shutdown.append(finish)
    return receiver
