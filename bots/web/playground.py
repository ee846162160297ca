"""The web playground of ``stvs demo``: a third channel adapter (Channel.WEB) over the same
core.chat Conversation, and the demo's clock control. Mounted by ``build_app(playground=True)``
only, which needs the demo's adjustable clock; ``stvs serve`` never mounts it.

Each pane of the page is one chat identity (``volunteer``, ``organizer``, ``beneficiary`` are the
demo's seeded people, ``newcomer`` starts unknown). A turn is one small JSON request,
``POST /playground/api/turn {pane, input}`` → ``{replies}``; notices the outbox dispatcher sends to
a pane wait in memory until the page polls ``GET /playground/api/poll``. Every asset is served from
``bots/web/static``: the page makes no request off the machine."""

from __future__ import annotations

import html
import json
import logging
import mimetypes
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bots.bootstrap import Services
from bots.console import parse_line
from bots.demo import NEWCOMER
from bots.media import MediaStore
from bots.web.clock import DemoClock
from core.chat.messages import (
    AskContact,
    AskLocation,
    Button,
    Command,
    Contact,
    Document,
    Image,
    Incoming,
    Input,
    Link,
    Location,
    Reply,
    Say,
)
from core.domain.activity import Activity, check_coordinates
from core.domain.codes import Channel
from core.domain.signup import HOLDS_PLACE, SignupStatus
from core.errors import DomainError
from core.policy import Policy
from core.ports import ActivityQuery, Clock, UnitOfWork
from locales import translator
from scheduler.dispatcher import Pace, Pacer, dispatch_due
from scheduler.jobs import JOBS, run_job

log = logging.getLogger(__name__)

PANES = ("volunteer", "organizer", "beneficiary", NEWCOMER)
STATIC = Path(__file__).parent / "static"
TEXT_LIMIT = 2000  # characters of one typed message
WAITING_LIMIT = 200  # notices kept for a pane the page has not polled
AWAY_M = 2000  # the "somewhere else" point offered for a location, north of the venue
LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
JUMPS = ("before3d", "start", "end", "day")
PLAYGROUND: web.AppKey[Playground] = web.AppKey("playground")  # Playground is defined below


class WebMessenger:
    """core.ports.Messenger for the panes: what the dispatcher sends waits until the page polls."""

    def __init__(self, media: MediaStore) -> None:
        self.media = media
        self.waiting: dict[str, list[dict[str, Any]]] = defaultdict(list)

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None:
        box = self.waiting[external_id]
        box.extend(await render(replies, self.media))
        del box[:-WAITING_LIMIT]

    def take(self) -> dict[str, list[dict[str, Any]]]:
        taken, self.waiting = dict(self.waiting), defaultdict(list)
        return taken


async def render(
    replies: Sequence[Reply], media: MediaStore, places: Sequence[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Channel-neutral replies as JSON for the page: buttons stay buttons, files become links to
    /media/<token> on this server, a location request carries the points the pane offers."""
    batch = media.batch()
    rendered: list[dict[str, Any]] = []

    def url(data: bytes, filename: str, mime: str) -> str | None:
        token = batch.put(data, filename, mime)
        return f"/media/{token}" if token else None

    for reply in replies:
        match reply:
            case Say(text=text, choices=choices, columns=columns):
                rendered.append(
                    {
                        "kind": "say",
                        "text": text,
                        "columns": columns,
                        "choices": [{"label": c.label, "payload": c.payload} for c in choices],
                    }
                )
            case AskLocation(text=text, button=button):
                rendered.append({"kind": "location", "text": text, "button": button, "places": list(places)})
            case AskContact(text=text, button=button):
                rendered.append({"kind": "contact", "text": text, "button": button})
            case Image(data=data, filename=filename, caption=caption):
                mime = mimetypes.guess_type(filename)[0] or "image/png"
                rendered.append({"kind": "image", "caption": caption, "url": url(data, filename, mime)})
            case Document(data=data, filename=filename, caption=caption, mime=mime):
                rendered.append(
                    {
                        "kind": "document",
                        "caption": caption,
                        "filename": filename,
                        "url": url(data, filename, mime),
                    }
                )
            case Link(text=text, url=target):
                rendered.append({"kind": "link", "text": text, "url": target})
            case _:
                raise TypeError(f"not a reply: {reply!r}")
    await batch.save()
    return rendered


def parse_input(given: Any) -> Input:
    """The page's input, checked as any external input: ValueError when it is not one."""
    if not isinstance(given, dict):
        raise ValueError("input is not an object")
    kind = given.get("kind")
    if kind == "text" and isinstance(given.get("text"), str) and given["text"].strip():
        typed = parse_line(given["text"][:TEXT_LIMIT])  # "/start survey-10" and "@lat,lon" as in a terminal
        assert typed is not None
        return typed
    if kind == "button" and isinstance(given.get("payload"), str) and given["payload"]:
        return Button(given["payload"][:64])
    if kind == "start":
        return Command("start", str(given.get("args", ""))[:64])
    if kind == "location":
        try:
            latitude, longitude = float(given["latitude"]), float(given["longitude"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("a location needs a latitude and a longitude") from None
        try:
            check_coordinates(latitude, longitude)
        except DomainError:
            raise ValueError("coordinates out of range") from None
        return Location(latitude, longitude, accuracy_m=10.0)
    if kind == "contact" and isinstance(given.get("phone"), str) and given["phone"].strip():
        return Contact(given["phone"][:32], own=True)
    raise ValueError(f"not an input: {kind!r}")


# ---- the demo's people and their next activity -----------------------------------------------------


async def _volunteer_of(uow: UnitOfWork, pane: str) -> int | None:
    user = await uow.users.by_identity(Channel.WEB, pane)
    if user is None or user.id is None:
        return None
    volunteer = await uow.volunteers.by_user(user.id)
    return volunteer.id if volunteer is not None else None


async def next_activity(uow: UnitOfWork, now: datetime, pane: str = "volunteer") -> Activity | None:
    """What the clock control and the location offer are about: the soonest activity not yet ended
    where the pane's volunteer holds (or awaits) a place, else the soonest published one."""
    volunteer_id = await _volunteer_of(uow, pane)
    held: list[Activity] = []
    if volunteer_id is not None:
        for signup in await uow.signups.for_volunteer(volunteer_id):
            if signup.status in HOLDS_PLACE or signup.status is SignupStatus.APPLIED:
                activity = await uow.activities.read(signup.activity_id)
                if activity is not None and activity.ends_at > now:
                    held.append(activity)
    if held:
        return min(held, key=lambda a: a.starts_at)
    found = await uow.activities.search(ActivityQuery(starts_after=now, limit=1))
    return found[0] if found else None


def _places(activity: Activity | None, t: Callable[..., str]) -> list[dict[str, Any]]:
    if activity is None or activity.latitude is None or activity.longitude is None:
        return []
    north = activity.latitude + AWAY_M / 111_320  # metres per degree of latitude
    return [
        {
            "label": t("web.location.venue", place=activity.place_name or activity.title),
            "latitude": activity.latitude,
            "longitude": activity.longitude,
        },
        {
            "label": t("web.location.away", distance=AWAY_M // 1000),
            "latitude": round(north, 6),
            "longitude": activity.longitude,
        },
    ]


def jump_target(activity: Activity | None, now: datetime, to: str) -> datetime | None:
    if to == "day":
        return now + timedelta(days=1)
    if activity is None:
        return None
    if to == "before3d":
        return activity.starts_at - timedelta(days=3)
    if to == "start":
        return activity.starts_at
    if to == "end":
        return activity.ends_at + timedelta(minutes=1)
    return None


async def run_due(
    uows: Callable[[], Any], clock: Clock, messengers: dict[Channel, Any], policy: Policy
) -> int:
    """After a jump: every scheduled job once (what fell due is queued), then the due notices sent.
    Returns how many notices went out."""
    for job in JOBS:
        try:
            await run_job(job.id, uows, clock, policy)
        except Exception:  # one job's failure must not keep the others from the demo
            log.exception("demo: job %s failed after a clock jump", job.id)
    pacer = Pacer(clock, {channel: Pace(1000, 0) for channel in messengers})
    result = await dispatch_due(uows, clock, messengers, translator, pacer=pacer)
    return result.sent


# ---- the aiohttp side ------------------------------------------------------------------------------


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


class Playground:
    def __init__(self, services: Services, clock: DemoClock) -> None:
        self.services = services
        self.clock = clock
        self.messenger = WebMessenger(services.media)
        self.policy = services.conversation.policy

    def language(self, request: web.Request) -> str:
        asked = request.query.get("lang", "")
        return "en" if asked.startswith("en") else self.services.settings.language

    async def page(self, request: web.Request) -> web.Response:
        language = self.language(request)
        t = translator(language)
        texts = {key: t(f"web.{key}") for key in _PAGE_TEXTS}
        texts["panes"] = {pane: t(f"web.pane.{pane}") for pane in PANES}  # type: ignore[assignment]
        texts["hints"] = {pane: t(f"web.hint.{pane}") for pane in PANES}  # type: ignore[assignment]
        template = Template((STATIC / "index.html").read_text(encoding="utf-8"))
        body = template.substitute(
            lang="en" if language == "en" else "zh-CN",
            title=html.escape(t("web.title")),
            banner=html.escape(t("web.banner")),
            # A data island, not a script: "</" cannot end it early.
            texts=json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"),
        )
        return web.Response(text=body, content_type="text/html", headers=_NO_STORE)

    async def turn(self, request: web.Request) -> web.Response:
        body = await _json(request)
        pane = body.get("pane")
        if pane not in PANES:
            return _error(f"unknown pane: {pane!r}")
        try:
            given = parse_input(body.get("input"))
        except ValueError as error:
            return _error(str(error))
        outgoing = await self.services.conversation.handle(
            Incoming(Channel.WEB, pane, given, language_hint=self.services.settings.language)
        )
        replies = outgoing.replies if outgoing is not None else ()
        places: list[dict[str, Any]] = []
        if any(isinstance(r, AskLocation) for r in replies):
            async with self.services.database.uow() as uow:
                places = _places(
                    await next_activity(uow, self.clock.now(), pane),
                    translator(outgoing.language if outgoing else "zh_CN"),
                )
        return web.json_response(
            {"replies": await render(replies, self.services.media, places)}, headers=_NO_STORE
        )

    async def poll(self, _: web.Request) -> web.Response:
        return web.json_response({"notices": self.messenger.take()}, headers=_NO_STORE)

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(await self._state(translator(self.language(request))), headers=_NO_STORE)

    async def jump(self, request: web.Request) -> web.Response:
        body = await _json(request)
        to = body.get("to")
        if to not in JUMPS:
            return _error(f"unknown jump: {to!r}")
        t = translator(self.language(request))
        async with self.services.database.uow() as uow:
            activity = await next_activity(uow, self.clock.now())
        target = jump_target(activity, self.clock.now(), to)
        if target is None:
            return _error(t("web.clock.no_activity"))
        if not self.clock.jump_to(target):
            return _error(t("web.clock.not_ahead"), status=409)
        sent = await run_due(self.services.database.uow, self.clock, self.services.messengers, self.policy)
        state = await self._state(t)
        state["sent"] = sent
        return web.json_response(state, headers=_NO_STORE)

    async def _state(self, t: Callable[..., str]) -> dict[str, Any]:
        zone = self.policy.default_timezone
        now = self.clock.now()
        async with self.services.database.uow() as uow:
            activity = await next_activity(uow, now)
            # Read while the unit of work is open: leaving it expires what it loaded.
            upcoming = (
                t(
                    "web.clock.next",
                    title=activity.title,
                    start=_local(activity.starts_at, activity.timezone),
                    end=_local(activity.ends_at, activity.timezone)[11:],
                )
                if activity is not None
                else t("web.clock.no_activity")
            )
        return {"now": t("web.clock.now", now=_local(now, zone)), "next": upcoming}


_PAGE_TEXTS = (
    "clock.title",
    "clock.before3d",
    "clock.start",
    "clock.end",
    "clock.day",
    "clock.sent",
    "send",
    "placeholder",
    "notice",
    "location.typed",
    "location.typed_placeholder",
    "location.bad",
    "contact.placeholder",
    "open_file",
    "failed",
)
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=_NO_STORE)


async def _json(request: web.Request) -> dict[str, Any]:
    """JSON only: a cross-site form cannot send it without a preflight this server never answers."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="application/json only")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="not JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="not a JSON object")
    return body


@web.middleware
async def _loopback_only(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The playground has no login: it answers only requests addressed to this machine by name
    (a page elsewhere cannot reach it through a rebound DNS name)."""
    ours = request.path == "/" or request.path.startswith("/playground")
    if ours and request.url.host not in LOOPBACK:
        raise web.HTTPForbidden(text="the playground answers on the loopback address only")
    return await handler(request)


def add_playground(app: web.Application, services: Services) -> Playground:
    """The panes, the poll and the clock control, and the web channel's Messenger for the dispatcher."""
    if not isinstance(services.clock, DemoClock):
        raise TypeError("the playground runs on the demo's clock only")
    playground = Playground(services, services.clock)
    services.messengers[Channel.WEB] = playground.messenger
    app[PLAYGROUND] = playground
    app.middlewares.append(_loopback_only)

    async def home(_: web.Request) -> web.Response:
        raise web.HTTPFound("/playground/")

    app.router.add_get("/", home)
    app.router.add_get("/playground/", playground.page)
    app.router.add_static("/playground/static/", STATIC, follow_symlinks=False)
    app.router.add_post("/playground/api/turn", playground.turn)
    app.router.add_get("/playground/api/poll", playground.poll)
    app.router.add_get("/playground/api/state", playground.state)
    app.router.add_post("/playground/api/clock", playground.jump)
    return playground
