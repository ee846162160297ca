"""What WeChat's servers post to an Official Account's callback URL, in the formats of WeChat's
documentation (接收普通消息 / 接收事件推送 / 消息加解密): XML builders, and a signer that puts the
query string together as WeChat does, in plaintext mode or safe (AES) mode."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from itertools import count

from defusedxml.ElementTree import fromstring
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.fakes.clock import FakeClock

TOKEN = "stvsTestToken2026"
APP_ID = "wx0123456789abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # EncodingAESKey: 43 characters
ACCOUNT = "gh_0a1b2c3d4e5f"  # the Official Account's original id (ToUserName)


def cdata(text: str) -> str:
    # A "]]>" in the text is split over two CDATA sections: still the same text, still well-formed.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


class WeChatMessages:
    """XML bodies for one account; MsgIds count up, CreateTime is the fake clock's now."""

    def __init__(self, clock: FakeClock, account: str = ACCOUNT) -> None:
        self.clock = clock
        self.account = account
        self._ids = count(24_000_000_000_000_001)

    def _head(self, openid: str, msg_type: str) -> str:
        return (
            f"<ToUserName>{cdata(self.account)}</ToUserName>\n"
            f"<FromUserName>{cdata(openid)}</FromUserName>\n"
            f"<CreateTime>{int(self.clock.now().timestamp())}</CreateTime>\n"
            f"<MsgType>{cdata(msg_type)}</MsgType>\n"
        )

    def next_msg_id(self) -> int:
        return next(self._ids)

    def text(self, openid: str, content: str, msg_id: int | None = None) -> str:
        msg_id = msg_id or self.next_msg_id()
        return (
            f"<xml>\n{self._head(openid, 'text')}<Content>{cdata(content)}</Content>\n"
            f"<MsgId>{msg_id}</MsgId>\n</xml>"
        )

    def location(self, openid: str, latitude: float, longitude: float, label: str = "") -> str:
        """A location message: Location_X is the latitude, Location_Y the longitude (GCJ-02)."""
        return (
            f"<xml>\n{self._head(openid, 'location')}"
            f"<Location_X>{latitude:.6f}</Location_X>\n<Location_Y>{longitude:.6f}</Location_Y>\n"
            f"<Scale>15</Scale>\n<Label>{cdata(label)}</Label>\n"
            f"<MsgId>{self.next_msg_id()}</MsgId>\n</xml>"
        )

    def image(self, openid: str, media_id: str = "media_id_0123456789", msg_id: int | None = None) -> str:
        return (
            f"<xml>\n{self._head(openid, 'image')}"
            f"<PicUrl>{cdata('http://mmbiz.qpic.cn/mmbiz/abc/0')}</PicUrl>\n"
            f"<MediaId>{cdata(media_id)}</MediaId>\n"
            f"<MsgId>{msg_id or self.next_msg_id()}</MsgId>\n</xml>"
        )

    def media(self, openid: str, msg_type: str) -> str:
        """A voice, video, shortvideo, link or file message, with the fields WeChat documents for it."""
        fields = {
            "voice": f"<MediaId>{cdata('voice_media_1')}</MediaId>\n<Format>{cdata('amr')}</Format>\n",
            "video": f"<MediaId>{cdata('video_media_1')}</MediaId>\n<ThumbMediaId>{cdata('thumb_1')}</ThumbMediaId>\n",
            "shortvideo": f"<MediaId>{cdata('sv_media_1')}</MediaId>\n<ThumbMediaId>{cdata('thumb_2')}</ThumbMediaId>\n",
            "link": (
                f"<Title>{cdata('科普文章')}</Title>\n<Description>{cdata('一篇文章')}</Description>\n"
                f"<Url>{cdata('https://example.org/a')}</Url>\n"
            ),
            "file": (
                f"<Title>{cdata('报名表.xlsx')}</Title>\n<Description>{cdata('')}</Description>\n"
                f"<FileKey>{cdata('filekey_1')}</FileKey>\n<FileMd5>{cdata('d41d8cd98f00b204e9800998ecf8427e')}</FileMd5>\n"
                "<FileTotalLen>1024</FileTotalLen>\n"
            ),
        }[msg_type]
        return f"<xml>\n{self._head(openid, msg_type)}{fields}<MsgId>{self.next_msg_id()}</MsgId>\n</xml>"

    def event(self, openid: str, event: str, extra: str = "") -> str:
        """Any event, ``extra`` being its own elements (EventKey, ScanCodeInfo, SendPicsInfo…)."""
        return self._event(openid, event, extra)

    def subscribe_product(self, openid: str, key: str) -> str:
        """A follow from scanning a product barcode or image: EventKey ``scanbarcode|…`` or ``scanimage|…``."""
        return self._event(openid, "subscribe", f"<EventKey>{cdata(key)}</EventKey>\n")

    def of_type(self, openid: str, msg_type: str) -> str:
        """A message type nobody documented yet."""
        return (
            f"<xml>\n{self._head(openid, msg_type)}<Something>{cdata('x')}</Something>\n"
            f"<MsgId>{self.next_msg_id()}</MsgId>\n</xml>"
        )

    def _event(self, openid: str, event: str, extra: str = "") -> str:
        return f"<xml>\n{self._head(openid, 'event')}<Event>{cdata(event)}</Event>\n{extra}</xml>"

    def subscribe(self, openid: str, scene: str | None = None) -> str:
        """A follow; through a parametric QR code the EventKey is qrscene_<scene>, with a Ticket."""
        if scene is None:
            return self._event(openid, "subscribe")
        extra = f"<EventKey>{cdata('qrscene_' + scene)}</EventKey>\n<Ticket>{cdata('TICKET')}</Ticket>\n"
        return self._event(openid, "subscribe", extra)

    def scan(self, openid: str, scene: str) -> str:
        """A follower scans a parametric QR code."""
        return self._event(
            openid, "SCAN", f"<EventKey>{cdata(scene)}</EventKey>\n<Ticket>{cdata('TICKET')}</Ticket>\n"
        )

    def click(self, openid: str, key: str) -> str:
        return self._event(openid, "CLICK", f"<EventKey>{cdata(key)}</EventKey>\n")

    def location_event(self, openid: str, latitude: float, longitude: float) -> str:
        """The position reported on entering the chat (report location enabled)."""
        return self._event(
            openid,
            "LOCATION",
            f"<Latitude>{latitude:.6f}</Latitude>\n<Longitude>{longitude:.6f}</Longitude>\n"
            "<Precision>30.000000</Precision>\n",
        )

    def unsubscribe(self, openid: str) -> str:
        return self._event(openid, "unsubscribe", f"<EventKey>{cdata('')}</EventKey>\n")


@dataclass
class Signer:
    """Query string and body as WeChat posts them; and the reply read back as WeChat would."""

    clock: FakeClock
    token: str = TOKEN
    crypto: WeChatCrypto | None = None

    def handshake(self, echostr: str = "5837195632177263813") -> dict[str, str]:
        timestamp, nonce = self._fresh()
        return {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }

    def wrap(
        self, xml: str, *, openid: str, timestamp: str | None = None, nonce: str | None = None
    ) -> tuple[dict[str, str], bytes]:
        fresh_timestamp, fresh_nonce = self._fresh()
        timestamp, nonce = timestamp or fresh_timestamp, nonce or fresh_nonce
        query = {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": openid,
        }
        if self.crypto is None:
            return query, xml.encode()
        envelope = fromstring(self.crypto.encrypt_message(xml, nonce, timestamp))
        encrypted = envelope.findtext("Encrypt") or ""
        body = (
            f"<xml>\n<ToUserName>{cdata(ACCOUNT)}</ToUserName>\n<Encrypt>{cdata(encrypted)}</Encrypt>\n</xml>"
        )
        query |= {"encrypt_type": "aes", "msg_signature": sign(self.token, timestamp, nonce, encrypted)}
        return query, body.encode()

    def open_reply(self, body: str) -> str:
        """The passive reply's XML as WeChat reads it: checked and decrypted in safe mode. Always parsed
        with defusedxml, so a reply that is not well-formed fails the test here."""
        root = fromstring(body)
        if self.crypto is None:
            return body
        encrypted = root.findtext("Encrypt") or ""
        timestamp, nonce = root.findtext("TimeStamp") or "", root.findtext("Nonce") or ""
        assert root.findtext("MsgSignature") == sign(self.token, timestamp, nonce, encrypted)
        plain: str = self.crypto.decrypt_message(body, root.findtext("MsgSignature"), timestamp, nonce)
        fromstring(plain)
        return plain

    def _fresh(self) -> tuple[str, str]:
        return str(int(self.clock.now().timestamp())), str(secrets.randbelow(10**10))
