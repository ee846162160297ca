"""Operations: one log line per conversation turn (text for a terminal, JSON for a deployment),
Prometheus metrics at /metrics, the database check at /healthz.

A turn's line says the channel, the platform's delivery id, the route (the handler or flow that took
it, never the text), the duration and the outcome: ok, refused, duplicate or error. It carries no
personal data: no texts, names, phone numbers, or platform user ids.

The edge opens a ``TurnRecord`` for each request or update (``track_requests``, ``telegram_turns``);
the wrapped routes (``observed_routes``) name the handler; ``Ops.turn_ended``, the conversation's
observer, closes the record with the outcome, logs the line and counts it. Core only says how a turn
ended."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import prometheus_client
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import func, select, text

from core.chat.conversation import Handler, Routes
from core.chat.messages import Button, Command, Incoming, Location
from core.chat.turn import Turn
from core.domain.actions import known_prefix
from core.domain.codes import Channel
from core.ports import Clock, DeliveryFailed, Messenger, UnitOfWorkFactory
from scheduler.dispatcher import Claims
from storage.tables import notices

turn_log = logging.getLogger("stvs.turn")
log = logging.getLogger(__name__)

prometheus_client.disable_created_metrics()  # the *_created series are noise for these counters

OUTCOMES = ("ok", "refused", "duplicate", "error")
HEALTH_TIMEOUT_S = 5.0
_HANDLER = "stvs"
TURN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# ---- logs -------------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the record's ``fields`` (a turn's),
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """For a terminal: the message, then a turn's fields as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        message = super().formatMessage(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            message += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return message


def configure_logging(form: str, level: str = "INFO") -> None:
    """The root logger writes to stderr as ``form`` says (text or json); aiohttp's access log stays
    off (the turn lines say what matters, without client addresses)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    handler.set_name(_HANDLER)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER]:  # configured before: replaced
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Their per-run and per-update lines repeat what the turn lines say.
    for chatty in ("aiohttp.access", "aiogram.event", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


# ---- turns ------------------------------------------------------------------------------------------


@dataclass
class TurnRecord:
    """What the edge knows of the turn in progress: when it began, and which route took it."""

    started: float
    route: str | None = None


_CURRENT: contextvars.ContextVar[TurnRecord | None] = contextvars.ContextVar("stvs_turn", default=None)


def open_turn() -> contextvars.Token[TurnRecord | None]:
    return _CURRENT.set(TurnRecord(time.perf_counter()))


def close_turn(token: contextvars.Token[TurnRecord | None]) -> None:
    _CURRENT.reset(token)


def _named(name: str, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def named(turn: Turn, given: Any) -> Any:
        record = _CURRENT.get()
        if record is not None and record.route is None:  # the first handler reached is the route
            record.route = name
        return await handler(turn, given)

    return named


def observed_routes(routes: Routes) -> Routes:
    """The same routes, each handler naming itself in the turn's record when it runs."""

    def each(kind: str, table: Mapping[str, Handler]) -> dict[str, Handler]:
        return {key: _named(f"{kind}:{key}", handler) for key, handler in table.items()}

    return replace(
        routes,
        buttons={kind: _named(f"button:{kind.prefix}", h) for kind, h in routes.buttons.items()},
        commands=each("command", routes.commands),
        flows={key: _named(f"flow:{key}", step) for key, step in routes.flows.items()},
        menu=_named("menu", routes.menu),
        start=_named("start", routes.start),
        location=_named("location", routes.location) if routes.location is not None else None,
    )


def _fallback_route(incoming: Incoming) -> str:
    """No handler ran (an unknown command, an expired button, a number out of range): the kind of
    input only, never its content."""
    given = incoming.input
    if isinstance(given, Command):
        return "command:unknown"
    if isinstance(given, Button):
        # One of ours whose fields do not read is refused before any handler runs: named by its prefix.
        return (
            f"button:{given.payload.partition(':')[0]}" if known_prefix(given.payload) else "button:expired"
        )
    if isinstance(given, Location):
        return "location"
    return f"input:{type(given).__name__.lower()}"


# ---- metrics ----------------------------------------------------------------------------------------


class CountedMessenger:
    """A channel's Messenger for the dispatcher, counting each send by its outcome."""

    def __init__(self, inner: Messenger, channel: Channel, sends: Counter) -> None:
        self.inner = inner
        self.channel = channel
        self.sends = sends

    async def send(self, external_id: str, replies: Any) -> None:
        try:
            await self.inner.send(external_id, replies)
        except DeliveryFailed as error:
            if error.permanent:
                outcome = "unreachable"  # 403: blocked, or unfollowed in WeChat
            elif error.retry_after is not None:
                outcome = "rate_limited"  # 429: re-queued after the pause
            else:
                outcome = "failed"
            self.sends.labels(self.channel.value, outcome).inc()
            raise
        except Exception:
            self.sends.labels(self.channel.value, "failed").inc()
            raise
        self.sends.labels(self.channel.value, "sent").inc()


class Ops:
    """The metrics of one server process (its own registry), the turn observer, the dispatcher's
    claims, and the /metrics and /healthz handlers."""

    def __init__(self, uows: UnitOfWorkFactory, clock: Clock) -> None:
        self.uows = uows
        self.clock = clock
        self.claims = Claims()
        self.registry = CollectorRegistry()
        r = self.registry
        self.turns = Counter(
            "stvs_turns", "Conversation turns, by channel and outcome", ["channel", "outcome"], registry=r
        )
        self.turn_seconds = Histogram(
            "stvs_turn_duration_seconds",
            "Time from a request or update arriving to the end of its turn",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "stvs_errors",
            "Unhandled errors: a turn that failed, a request answered 500",
            ["where"],
            registry=r,
        )
        self.sends = Counter(
            "stvs_notice_sends",
            "Notice sends by the dispatcher, by channel and outcome (sent, failed, rate_limited, unreachable)",
            ["channel", "outcome"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "stvs_outbox_pending", "Notices due and not yet sent (read at scrape)", registry=r
        )
        self.outbox_oldest = Gauge(
            "stvs_outbox_oldest_pending_age_seconds",
            "How long the oldest notice due and not yet sent has waited (read at scrape)",
            registry=r,
        )
        self.database_up = Gauge(
            "stvs_database_up", "1 when the last scrape could read the database", registry=r
        )
        for channel in Channel:
            for outcome in OUTCOMES:
                self.turns.labels(channel.value, outcome)

    # ---- the observer of core.chat.conversation -------------------------------------------------

    def turn_ended(self, incoming: Incoming, delivery_key: str | None, outcome: str) -> None:
        try:
            self._turn_ended(incoming, delivery_key, outcome)
        except Exception:  # noqa: BLE001 - a turn never fails for its log line
            log.exception("the turn's log line failed")

    def _turn_ended(self, incoming: Incoming, delivery_key: str | None, outcome: str) -> None:
        channel = incoming.channel.value
        record = _CURRENT.get()
        duration = time.perf_counter() - record.started if record is not None else None
        route = record.route if record is not None and record.route else None
        if route is None and outcome != "duplicate":  # a duplicate is never routed
            route = _fallback_route(incoming)
        self.turns.labels(channel, outcome).inc()
        if outcome == "error":
            self.errors.labels("turn").inc()
        if duration is not None:
            self.turn_seconds.labels(channel).observe(duration)
        fields = {
            "event": "turn",
            "channel": channel,
            # Telegram's update_id or WeChat's MsgId; an event's key holds the openid, so it stays out.
            "delivery": delivery_key if delivery_key is not None and delivery_key.isdigit() else None,
            "route": route,
            "duration_ms": round(duration * 1000, 1) if duration is not None else None,
            "outcome": outcome,
        }
        level = logging.ERROR if outcome == "error" else logging.INFO
        turn_log.log(level, "turn", extra={"fields": fields})

    def counted(self, messengers: Mapping[Channel, Messenger]) -> dict[Channel, Messenger]:
        return {channel: CountedMessenger(m, channel, self.sends) for channel, m in messengers.items()}

    # ---- HTTP -------------------------------------------------------------------------------------

    async def check_database(self) -> None:
        """A SELECT 1 in a unit of work (on SQLite, in turn with the conversation's transactions)."""
        async with self.uows() as uow:
            await uow.session.execute(text("SELECT 1"))  # type: ignore[attr-defined]

    async def healthz(self, extra: Mapping[str, Any]) -> web.Response:
        try:
            await asyncio.wait_for(self.check_database(), HEALTH_TIMEOUT_S)
        except TimeoutError:
            return _unavailable("database: no answer within 5 s", extra)
        except Exception as error:  # noqa: BLE001 - whatever the driver raises is the reason
            return _unavailable(f"database: {_reason(error)}", extra)
        return web.json_response({"status": "ok", **extra})

    async def read_outbox(self) -> None:
        """One query: how many notices are due and unsent, and since when the oldest is due."""
        n = notices.c
        now = self.clock.now()
        statement = select(func.count(), func.min(n.due_at)).where(
            n.sent_at.is_(None), n.failed.is_(False), n.withdrawn_at.is_(None), n.due_at <= now
        )
        async with self.uows() as uow:
            count, oldest = (await uow.session.execute(statement)).one()  # type: ignore[attr-defined]
        self.outbox_pending.set(count)
        self.outbox_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0)

    async def metrics(self, _: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.read_outbox(), HEALTH_TIMEOUT_S)
            self.database_up.set(1)
        except Exception as error:  # noqa: BLE001 - the other metrics still answer
            log.warning("/metrics could not read the outbox: %s", _reason(error))
            self.database_up.set(0)
        body = prometheus_client.generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": prometheus_client.CONTENT_TYPE_LATEST})

    @web.middleware
    async def track_requests(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Opens the turn record of each request; counts a request that ends in an unhandled error."""
        token = open_turn()
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            self.errors.labels("http").inc()
            raise
        finally:
            close_turn(token)


async def telegram_turns(
    handler: Callable[[Any, dict[str, Any]], Awaitable[Any]], event: Any, data: dict[str, Any]
) -> Any:
    """aiogram's outer middleware for updates: a turn record for each, in polling mode too."""
    token = open_turn()
    try:
        return await handler(event, data)
    finally:
        close_turn(token)


def _reason(error: BaseException) -> str:
    """The driver's own words, first line, without SQLAlchemy's statement and link."""
    cause = getattr(error, "orig", None) or error
    words = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {words[0][:200]}" if words else type(cause).__name__


def _unavailable(reason: str, extra: Mapping[str, Any]) -> web.Response:
    return web.json_response({"status": "unavailable", "reason": reason, **extra}, status=503)
