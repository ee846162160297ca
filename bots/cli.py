"""The operator's command line, ``stvs``. Every text comes from the catalogs (zh_CN by default,
``--lang en``). Bad input is one line on stderr, ``stvs: error: …``, and exit code 2; other failures
(the database is unreachable or behind) are one line and exit code 1. Never a traceback, unless
``--debug`` asks for one."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_datetime
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bots import bootstrap, spreadsheets
from bots.demo import DEMO_CHANNEL, DEMO_PEOPLE, NEWCOMER, seed_demo
from bots.serve import serve, stop_signals
from bots.settings import Settings
from bots.wechat.api import WeChatApi, WeChatError, WeChatUnreachable, api_from_settings
from core.domain.activity import Activity
from core.domain.codes import ActivityMode, Channel, OrgKind
from core.domain.organization import Organization
from core.domain.people import Actor, Role
from core.domain.signup import HOLDS_PLACE, SignupStatus
from core.errors import DomainError
from core.ports import ActivityQuery, Clock, SheetFormat, UnitOfWork
from core.services.certificates import revoke_certificate
from core.services.exports import Export, Period, service_record_rows, sheet_of, volunteer_rows
from core.services.organizations import OrgApplication, create_org, summarize_org
from core.services.users import ensure_user, grant_role
from locales import DEFAULT_LANGUAGE, Translator, translator
from storage import migrate
from storage.database import Database
from storage.rekey import rekey

PROG = "stvs"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

WECHAT_MENU = Path(__file__).parent / "wechat" / "menu.json"
SCENE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the same payloads as a Telegram deep link

CHANNELS = {"telegram": Channel.TELEGRAM, "wechat": Channel.WECHAT}
ROLES = {"admin": Role.PLATFORM_ADMIN, "staff": Role.ORG_STAFF}
KINDS = {kind.value: kind for kind in (OrgKind.BRIGADE, OrgKind.TEAM, OrgKind.ASSOCIATION)}
FORMATS = {form.value: form for form in SheetFormat}


class CliError(Exception):
    """A message key and its parameters, like core's DomainError, for what only the CLI checks."""

    def __init__(self, key: str, *, exit_code: int = EXIT_USAGE, **params: Any) -> None:
        super().__init__(key, params)
        self.key = key
        self.params = params
        self.exit_code = exit_code


class _UsageError(Exception):
    """argparse's complaint, translated by main() instead of printed with the usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


@dataclass(frozen=True)
class Context:
    settings: Settings
    t: Translator
    clock: Clock
    lang: str | None = None  # --lang as given; None: the settings' language (or the default)

    def say(self, key: str, **params: Any) -> None:
        print(self.t(key, **params))

    @property
    def url(self) -> str:
        return self.settings.resolved_database_url

    @property
    def shown_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


Command = Callable[[Context, argparse.Namespace], Awaitable[None]]


# --- commands ---------------------------------------------------------------------------------


async def db_upgrade(ctx: Context, args: argparse.Namespace) -> None:
    before = await migrate.current(ctx.url)
    after = await bootstrap.upgrade_database(ctx.settings)
    key = "cli.db.up_to_date" if before == after else "cli.db.upgraded"
    ctx.say(key, revision=after, url=ctx.shown_url)


async def db_current(ctx: Context, args: argparse.Namespace) -> None:
    at, head = await migrate.current(ctx.url), migrate.head()
    if at is None:
        ctx.say("cli.db.current.empty", url=ctx.shown_url)
    elif at == head:
        ctx.say("cli.db.current.latest", revision=at, url=ctx.shown_url)
    else:
        ctx.say("cli.db.current.behind", revision=at, head=head, url=ctx.shown_url)


async def db_rekey(ctx: Context, args: argparse.Namespace) -> None:
    """Re-encrypts the personal data with the first key of STVS_DATA_KEY (PIPL art. 51: key rotation)."""
    async with _database(ctx) as db:
        for done in await rekey(db):
            ctx.say("cli.db.rekeyed", table=done.table, rows=done.rows, values=done.values)


async def admin_grant(ctx: Context, args: argparse.Namespace) -> None:
    channel = _choice(args.channel, CHANNELS, "cli.channel.unknown")
    role = _choice(args.role, ROLES, "cli.role.unknown")
    async with _database(ctx) as db, db.uow() as uow:
        org = await _org(uow, args.org) if args.org else None
        user = await ensure_user(uow, ctx.clock, channel, args.user)
        assert user.id is not None
        await grant_role(uow, ctx.clock, Actor.system(), user.id, role, org.id if org else None)
        await uow.commit()
        said = {
            "channel": ctx.t(f"cli.channel.{args.channel}"),
            "user": args.user.strip(),
            "user_id": user.id,
        }
        if org is None:
            ctx.say("cli.admin.granted", role=ctx.t(f"cli.role.{args.role}"), **said)
        else:
            ctx.say("cli.admin.granted_staff", org=org.name, **said)


async def org_create(ctx: Context, args: argparse.Namespace) -> None:
    kind = _choice(args.kind, KINDS, "cli.kind.unknown")
    items = tuple(item.strip() for item in (args.items or "").split(",") if item.strip())
    async with _database(ctx) as db, db.uow() as uow:
        parent = await _org(uow, args.parent) if args.parent else None
        form = OrgApplication(
            name=args.name,
            kind=kind,
            parent_id=parent.id if parent else None,
            service_field=args.field,
            service_items=items,
            requirements=args.requirements,
            leader_name=args.leader,
            leader_contact=args.contact,
            member_count=args.members,
            unit_full_name=args.unit_full_name,
            join_requires_approval=args.join_approval,
        )
        org = await create_org(uow, ctx.clock, Actor.system(), form)
        await uow.commit()
        ctx.say("cli.org.created", id=org.id, name=org.name, kind=_kind(ctx, org), status=_status(ctx, org))


async def org_list(ctx: Context, args: argparse.Namespace) -> None:
    async with _database(ctx) as db, db.uow() as uow:
        orgs = await uow.orgs.list()
        if not orgs:
            ctx.say("cli.org.none")
        for prefix, org in _tree(orgs):
            line = ctx.t(
                "cli.org.line", id=org.id, name=org.name, kind=_kind(ctx, org), status=_status(ctx, org)
            )
            print(prefix + line)


async def activity_list(ctx: Context, args: argparse.Namespace) -> None:
    if args.limit < 1:
        raise CliError("cli.usage.invalid_value", arg="--limit", value=args.limit)
    async with _database(ctx) as db, db.uow() as uow:
        await _print_upcoming(ctx, uow, args.limit)


async def seed_demo_command(ctx: Context, args: argparse.Namespace) -> None:
    async with _database(ctx) as db, db.uow() as uow:
        report = await seed_demo(uow, ctx.clock, ctx.settings.policy())
        await uow.commit()
    if report.changed:
        ctx.say(
            "cli.seed.created",
            **{k: report.created[k] for k in ("orgs", "bases", "volunteers", "activities")},
        )
    else:
        ctx.say("cli.seed.unchanged")


async def serve_command(ctx: Context, args: argparse.Namespace) -> None:
    """The main job: the chat server (Telegram webhook or polling, /healthz, the outbox dispatcher)."""

    await serve(ctx.settings, polling=args.polling, t=ctx.t)


async def scheduler_command(ctx: Context, args: argparse.Namespace) -> None:
    """The scheduler alone, no web server (a deployment that runs them apart): until SIGINT or SIGTERM."""
    await run_scheduler(ctx)


async def run_scheduler(ctx: Context, stop: asyncio.Event | None = None) -> None:
    """Every job of scheduler/jobs.py, sending through the configured channels, until ``stop`` is set
    (SIGINT and SIGTERM set it); then the scheduler, the channels' sessions and the database are closed."""
    async with _services(ctx, channels=True) as services, services.jobs().running() as scheduler:
        channels = [ctx.t(f"cli.scheduler.channel.{channel.value}") for channel in services.messengers]
        with stop_signals(stop is None) as stopped:
            ctx.say(
                "cli.scheduler.started",
                jobs=len(scheduler.get_jobs()),
                channels=ctx.t("chat.list_separator").join(channels) or ctx.t("cli.scheduler.no_channel"),
            )
            sys.stdout.flush()
            await (stop or stopped).wait()
    ctx.say("cli.scheduler.stopped")


async def wechat_menu(ctx: Context, args: argparse.Namespace) -> None:
    """The custom menu (找活动, 签到, 我的…) from a JSON file, as menu/create takes it."""
    _need_wechat(ctx)
    path = Path(args.file) if args.file else WECHAT_MENU
    try:
        menu = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError("cli.wechat.menu.unreadable", path=path, detail=error.strerror or error) from None
    except ValueError as error:
        raise CliError("cli.wechat.menu.invalid", path=path, detail=error) from None
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:  # WeChat allows 1 to 3 buttons
        raise CliError("cli.wechat.menu.shape", path=path)
    async with _wechat(ctx) as api:
        await api.create_menu(menu)
    ctx.say("cli.wechat.menu.created", path=path, buttons=len(buttons))


async def wechat_qrcode(ctx: Context, args: argparse.Namespace) -> None:
    """A permanent parametric QR code: scanning it follows the account and starts with the payload."""
    _need_wechat(ctx)
    if not SCENE.match(args.payload):
        raise CliError("cli.wechat.qrcode.bad_payload", payload=args.payload)
    async with _wechat(ctx) as api:
        image_url, content = await api.create_permanent_qrcode(args.payload)
    ctx.say("cli.wechat.qrcode.created", payload=args.payload, url=image_url)
    ctx.say("cli.wechat.qrcode.content", url=content)
    if args.out:
        # Made here from the address the code holds: no second request to WeChat for the image.
        segno.make(content, error="m").save(args.out, kind="png", scale=8, border=2)
        ctx.say("cli.wechat.qrcode.saved", path=args.out)


async def certificate_revoke(ctx: Context, args: argparse.Namespace) -> None:
    """4-5.5: a certificate found wrong stops verifying; its reason is shown on the verify page."""
    async with _database(ctx) as db, db.uow() as uow:
        certificate = await revoke_certificate(uow, ctx.clock, Actor.system(), args.number, args.reason)
        await uow.commit()
    ctx.say("cli.certificate.revoked", number=certificate.number)


async def export_records(ctx: Context, args: argparse.Namespace) -> None:
    """民函〔2012〕340号 elements of an org's service records, voided ones too; run as the platform, so
    phone and ID numbers are whole. Audited, and committed only once the file is written."""
    period = Period(_day(args.date_from, "--from"), _day(args.date_to, "--to"))
    form = _sheet_format(args)
    async with _database(ctx) as db, db.uow() as uow:
        org = await _org(uow, args.org)
        assert org.id is not None
        export = await service_record_rows(
            uow, ctx.clock, Actor.system(), org.id, period, file_format=form.value
        )
        _write_export(ctx, export, form, args.out)
        await uow.commit()
    ctx.say(
        "cli.export.records_written",
        org=export.org_name,
        count=len(export.rows),
        confirmed=export.counted,
        hours=export.confirmed_hours,
        path=args.out,
    )
    ctx.say("cli.export.full_data")


async def export_volunteers(ctx: Context, args: argparse.Namespace) -> None:
    """An org's current members, with the hours it confirmed for each; whole phone and ID numbers."""
    form = _sheet_format(args)
    async with _database(ctx) as db, db.uow() as uow:
        org = await _org(uow, args.org)
        assert org.id is not None
        export = await volunteer_rows(uow, ctx.clock, Actor.system(), org.id, file_format=form.value)
        _write_export(ctx, export, form, args.out)
        await uow.commit()
    ctx.say("cli.export.volunteers_written", org=export.org_name, count=len(export.rows), path=args.out)
    ctx.say("cli.export.full_data")


def _day(value: str | None, arg: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CliError("cli.export.bad_date", arg=arg, value=value) from None


def _sheet_format(args: argparse.Namespace) -> SheetFormat:
    """--format, else the file name's extension (.csv), else XLSX."""
    if args.format is not None:
        return _choice(args.format.lower(), FORMATS, "cli.export.format_unknown")
    return SheetFormat.CSV if Path(args.out).suffix.lower() == ".csv" else SheetFormat.XLSX


def _write_export(ctx: Context, export: Export, form: SheetFormat, out: str) -> None:
    data = spreadsheets.render(sheet_of(export, ctx.t), form)
    try:
        Path(out).write_bytes(data)
    except OSError as error:
        raise CliError(
            "cli.export.cannot_write", exit_code=EXIT_FAILED, path=out, detail=error.strerror or error
        ) from None


async def demo(ctx: Context, args: argparse.Namespace) -> None:
    """Try it without tokens: a database with the demo in it, and the web playground on this machine
    until Ctrl-C (with --once, a look at the demo instead)."""
    await db_upgrade(ctx, args)
    await seed_demo_command(ctx, args)
    if args.once:
        await _demo_overview(ctx)
        return
    from bots.web.server import start_demo

    await _check_revision(ctx)
    try:
        server = await start_demo(ctx.settings, port=args.port, base_clock=ctx.clock)
    except OSError:
        raise CliError("cli.demo.port_busy", exit_code=EXIT_FAILED, port=args.port) from None
    try:
        print()
        ctx.say("cli.demo.serving", url=server.url)
        ctx.say("cli.demo.serving_more")
        sys.stdout.flush()
        await _until_stopped()
    finally:
        await server.stop()  # the database with it
    ctx.say("cli.demo.stopped")


async def _until_stopped() -> None:
    """Until SIGINT (Ctrl-C) or SIGTERM."""
    with stop_signals() as stopped:
        await stopped.wait()


CHAT_PEOPLE = ("volunteer", "organizer", "beneficiary", NEWCOMER)


async def chat_command(ctx: Context, args: argparse.Namespace) -> None:
    """The conversation in the terminal, as one of the demo's people, line by line from stdin."""
    from bots.console import chat

    who = args.who
    if who not in CHAT_PEOPLE:
        raise CliError("cli.chat.as.unknown", value=who, choices=", ".join(CHAT_PEOPLE))
    key = DEMO_PEOPLE.get(who, NEWCOMER)
    async with _services(ctx, channels=False) as services:
        if who != NEWCOMER:
            async with services.database.uow() as uow:
                if await uow.users.by_identity(DEMO_CHANNEL, key) is None:
                    raise CliError("cli.chat.no_demo", exit_code=EXIT_FAILED)
        interactive = sys.stdin.isatty()
        if interactive:
            ctx.say("cli.chat.intro", who=ctx.t(f"web.pane.{who}"))
        await chat(
            services.conversation,
            key,
            sys.stdin,
            sys.stdout,
            files=ctx.settings.data_dir / "chat-files",
            language_hint=ctx.t.language,
            language=ctx.lang,
            echo=not interactive,
        )


async def _demo_overview(ctx: Context) -> None:
    async with _database(ctx) as db, db.uow() as uow:
        print()
        ctx.say("cli.demo.orgs")
        for prefix, org in _tree(await uow.orgs.list()):
            assert org.id is not None
            summary = await summarize_org(uow, Actor.system(), org.id)
            print(
                prefix
                + ctx.t(
                    "cli.org.summary",
                    name=org.name,
                    kind=_kind(ctx, org),
                    sub_orgs=summary.sub_orgs,
                    volunteers=summary.volunteers,
                    activities=summary.activities,
                )
            )
        print()
        await _print_upcoming(ctx, uow, limit=20)
    print()
    ctx.say("cli.demo.next")


# --- helpers ----------------------------------------------------------------------------------


async def _check_revision(ctx: Context) -> None:
    """Commands run on a database at the newest revision only (``stvs db upgrade`` brings it there)."""
    at, head = await migrate.current(ctx.url), migrate.head()
    if at is None:
        raise CliError("cli.db.not_initialised", exit_code=EXIT_FAILED)
    if at != head:
        raise CliError("cli.db.not_current", exit_code=EXIT_FAILED, current=at, head=head)


@asynccontextmanager
async def _database(ctx: Context) -> AsyncIterator[Database]:
    """The settings' database, at the newest revision, disposed on the way out."""
    await _check_revision(ctx)
    db = bootstrap.open_database(ctx.settings)
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def _services(ctx: Context, *, channels: bool) -> AsyncIterator[bootstrap.Services]:
    """What the server runs on (bots.bootstrap), on the settings' database at the newest revision;
    with the configured channels' messengers only for a command that sends. Closed on the way out."""
    await _check_revision(ctx)
    services = bootstrap.bootstrap(ctx.settings, clock=ctx.clock, messengers=None if channels else {})
    try:
        yield services
    finally:
        await services.close()


def _need_wechat(ctx: Context) -> None:
    if not (ctx.settings.wechat_app_id and ctx.settings.wechat_app_secret):
        raise CliError("cli.wechat.not_configured")


@asynccontextmanager
async def _wechat(ctx: Context) -> AsyncIterator[WeChatApi]:
    """The account's API, its access token shared with the server through the database."""
    async with _database(ctx) as db:
        api = api_from_settings(ctx.settings, db.uow, ctx.clock)
        try:
            yield api
        except WeChatError as error:
            raise CliError(
                "cli.wechat.refused", exit_code=EXIT_FAILED, errcode=error.errcode, errmsg=error.errmsg
            ) from None
        except WeChatUnreachable as error:
            raise CliError("cli.wechat.unreachable", exit_code=EXIT_FAILED, detail=error) from None
        finally:
            await api.close()


def _choice(value: str, choices: dict[str, Any], key: str) -> Any:
    if value not in choices:
        raise CliError(key, value=value, choices=", ".join(choices))
    return choices[value]


async def _org(uow: UnitOfWork, ref: str) -> Organization:
    """An org by its number or its exact name."""
    ref = ref.strip()
    org = await uow.orgs.get(int(ref)) if ref.isdecimal() else await uow.orgs.by_name(ref)
    if org is None:
        raise CliError("cli.org.unknown", ref=ref)
    return org


def _kind(ctx: Context, org: Organization) -> str:
    return ctx.t(f"code.org_kind.{org.kind.value}")


def _status(ctx: Context, org: Organization) -> str:
    return ctx.t(f"code.org_status.{org.status.value}")


def _tree(orgs: Sequence[Organization]) -> Iterator[tuple[str, Organization]]:
    """1-6.1: brigade → teams, any depth, drawn with box characters."""
    known = {org.id for org in orgs}
    children: dict[int | None, list[Organization]] = defaultdict(list)
    for org in orgs:
        children[org.parent_id if org.parent_id in known else None].append(org)

    def below(parent_id: int | None, indent: str) -> Iterator[tuple[str, Organization]]:
        kids = children.get(parent_id, [])
        for index, org in enumerate(kids):
            last = index == len(kids) - 1
            yield indent + ("└─ " if last else "├─ "), org
            yield from below(org.id, indent + ("   " if last else "│  "))

    for root in children[None]:
        yield "", root
        yield from below(root.id, "")


def _when(ctx: Context, activity: Activity) -> str:
    zone = ZoneInfo(activity.timezone)
    starts, ends = activity.starts_at.astimezone(zone), activity.ends_at.astimezone(zone)
    pattern = ctx.t("cli.datetime.pattern")
    end_pattern = "HH:mm" if ends.date() == starts.date() else pattern
    shown = f"{_format(starts, pattern, ctx)}–{_format(ends, end_pattern, ctx)}"
    # Times are the activity's own local time; the header names the deployment's zone.
    return shown if activity.timezone == ctx.settings.timezone else f"{shown} ({activity.timezone})"


def _format(moment: datetime, pattern: str, ctx: Context) -> str:
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=ctx.t.language)


async def _print_upcoming(ctx: Context, uow: UnitOfWork, limit: int) -> None:
    activities = await uow.activities.search(ActivityQuery(starts_after=ctx.clock.now(), limit=limit))
    if not activities:
        ctx.say("cli.activity.none")
        return
    ctx.say("cli.activity.header", zone=ctx.settings.timezone)
    names = {org.id: org.name for org in await uow.orgs.list()}
    width = max(len(str(activity.id)) for activity in activities)
    for activity in activities:
        assert activity.id is not None
        taken = await uow.signups.count(activity.id, HOLDS_PLACE)
        waiting = await uow.signups.count(activity.id, frozenset({SignupStatus.WAITLISTED}))
        left = activity.places_left(taken)
        places = (
            ctx.t("cli.activity.places_left", left=left, capacity=activity.capacity)
            if left
            else ctx.t("cli.activity.full", capacity=activity.capacity, waitlisted=waiting)
        )
        place = activity.online_url if activity.mode is ActivityMode.ONLINE else activity.place_name
        facts = [
            ctx.t(f"code.service_content.{activity.service_content.value}"),
            ctx.t(f"code.mode.{activity.mode.value}"),
            place or activity.address,
            names.get(activity.org_id, ""),
            places,
        ]
        if activity.needs_insurance:
            facts.append(ctx.t("cli.activity.insurance"))
        ctx.say(
            "cli.activity.line",
            id=str(activity.id).ljust(width),
            when=_when(ctx, activity),
            title=activity.title,
        )
        ctx.say("cli.activity.facts", facts=" · ".join(fact for fact in facts if fact))


# --- the parser -------------------------------------------------------------------------------


def _formatter(t: Translator) -> type[argparse.HelpFormatter]:
    class Formatter(argparse.HelpFormatter):
        def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
            super().add_usage(usage, actions, groups, t("cli.help.usage") if prefix is None else prefix)

    return Formatter


def _localise(parser: argparse.ArgumentParser, t: Translator) -> None:
    parser._optionals.title = t("cli.help.options")
    parser._positionals.title = t("cli.help.positionals")
    parser.add_argument("-h", "--help", action="help", help=t("cli.help.help"))


def _commands(
    parser: argparse.ArgumentParser, t: Translator, names: Sequence[str]
) -> argparse._SubParsersAction[Any]:
    return parser.add_subparsers(
        title=t("cli.help.commands"), metavar="{" + ",".join(names) + "}", dest="_command", required=True
    )


def _add(
    commands: argparse._SubParsersAction[Any],
    name: str,
    t: Translator,
    run: Command | None = None,
    *,
    group: str | None = None,
) -> argparse.ArgumentParser:
    """A command (with ``run``) or a group of commands; its help is ``cli.help.[<group>.]<name>``."""
    help_text = t(f"cli.help.{group}.{name}" if group else f"cli.help.{name}")
    sub = commands.add_parser(
        name, help=help_text, description=help_text, add_help=False, formatter_class=_formatter(t)
    )
    _localise(sub, t)
    if run is not None:
        sub.set_defaults(run=run)
    return sub


def build_parser(t: Translator) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG, description=t("cli.help.description"), add_help=False, formatter_class=_formatter(t)
    )
    _localise(parser, t)
    parser.add_argument("--lang", metavar="{zh_CN,en}", help=t("cli.help.lang"))
    parser.add_argument("--debug", action="store_true", help=t("cli.help.debug"))
    commands = _commands(
        parser,
        t,
        (
            "serve",
            "scheduler",
            "demo",
            "chat",
            "db",
            "admin",
            "org",
            "activity",
            "seed",
            "wechat",
            "certificate",
            "export",
        ),
    )

    serve = _add(commands, "serve", t, serve_command)
    serve.add_argument("--polling", action="store_true", help=t("cli.help.polling"))
    _add(commands, "scheduler", t, scheduler_command)
    demo_command = _add(commands, "demo", t, demo)
    demo_command.add_argument("--port", type=int, metavar="PORT", help=t("cli.help.demo_port"))
    demo_command.add_argument("--once", action="store_true", help=t("cli.help.demo_once"))
    chat = _add(commands, "chat", t, chat_command)
    chat.add_argument(
        "--as",
        dest="who",
        default="volunteer",
        metavar="{" + ",".join(CHAT_PEOPLE) + "}",
        help=t("cli.help.chat_as"),
    )

    db = _commands(_add(commands, "db", t), t, ("upgrade", "current", "rekey"))
    _add(db, "upgrade", t, db_upgrade, group="db")
    _add(db, "current", t, db_current, group="db")
    _add(db, "rekey", t, db_rekey, group="db")

    admin = _commands(_add(commands, "admin", t), t, ("grant",))
    grant = _add(admin, "grant", t, admin_grant, group="admin")
    grant.add_argument("--channel", required=True, metavar="{telegram,wechat}", help=t("cli.help.channel"))
    grant.add_argument("--user", required=True, metavar="ID", help=t("cli.help.user"))
    grant.add_argument("--role", required=True, metavar="{admin,staff}", help=t("cli.help.role"))
    grant.add_argument("--org", metavar="ORG", help=t("cli.help.grant_org"))

    certificate = _commands(_add(commands, "certificate", t), t, ("revoke",))
    revoke = _add(certificate, "revoke", t, certificate_revoke, group="certificate")
    revoke.add_argument("number", metavar="NUMBER", help=t("cli.help.certificate_number"))
    revoke.add_argument("--reason", required=True, help=t("cli.help.revoke_reason"))

    export = _commands(_add(commands, "export", t), t, ("records", "volunteers"))
    records = _add(export, "records", t, export_records, group="export")
    members = _add(export, "volunteers", t, export_volunteers, group="export")
    for sub in (records, members):
        sub.add_argument("--org", required=True, metavar="ORG", help=t("cli.help.export_org"))
        if sub is records:
            sub.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help=t("cli.help.export_from"))
            sub.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help=t("cli.help.export_to"))
        sub.add_argument("--format", metavar="{xlsx,csv}", help=t("cli.help.export_format"))
        sub.add_argument("--out", required=True, metavar="FILE", help=t("cli.help.export_out"))

    org = _commands(_add(commands, "org", t), t, ("create", "list"))
    create = _add(org, "create", t, org_create, group="org")
    create.add_argument("--name", required=True, help=t("cli.help.name"))
    create.add_argument(
        "--kind", required=True, metavar="{brigade,team,association}", help=t("cli.help.kind")
    )
    create.add_argument("--parent", metavar="ORG", help=t("cli.help.parent"))
    create.add_argument("--field", required=True, help=t("cli.help.field"))
    create.add_argument("--leader", required=True, help=t("cli.help.leader"))
    create.add_argument("--contact", required=True, help=t("cli.help.contact"))
    create.add_argument("--items", metavar="a1,c2", help=t("cli.help.items"))
    create.add_argument("--requirements", default="", help=t("cli.help.requirements"))
    create.add_argument("--members", type=int, default=0, metavar="N", help=t("cli.help.members"))
    create.add_argument("--unit-full-name", action="store_true", help=t("cli.help.unit_full_name"))
    create.add_argument("--join-approval", action="store_true", help=t("cli.help.join_approval"))
    _add(org, "list", t, org_list, group="org")

    activity = _commands(_add(commands, "activity", t), t, ("list",))
    listing = _add(activity, "list", t, activity_list, group="activity")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help=t("cli.help.limit"))

    seed = _commands(_add(commands, "seed", t), t, ("demo",))
    _add(seed, "demo", t, seed_demo_command, group="seed")

    wechat = _commands(_add(commands, "wechat", t), t, ("menu", "qrcode"))
    menu = _add(wechat, "menu", t, wechat_menu, group="wechat")
    menu.add_argument("--file", metavar="menu.json", help=t("cli.help.menu_file"))
    qrcode = _add(wechat, "qrcode", t, wechat_qrcode, group="wechat")
    qrcode.add_argument("payload", help=t("cli.help.payload"))
    qrcode.add_argument("--out", metavar="file.png", help=t("cli.help.qr_out"))
    return parser


# argparse's own messages (Python 3.11–3.13), and the catalog keys that say them in the user's language.
_ARGPARSE_MESSAGES = (
    (re.compile(r"the following arguments are required: (?P<args>.+)"), "cli.usage.required"),
    (re.compile(r"unrecognized arguments: (?P<args>.+)"), "cli.usage.unrecognized"),
    (
        re.compile(r"argument (?P<arg>\S+): invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)"),
        "cli.usage.invalid_choice",
    ),
    (re.compile(r"argument (?P<arg>\S+): expected one argument"), "cli.usage.expected_value"),
    (re.compile(r"argument (?P<arg>\S+): invalid \S+ value: (?P<value>.+)"), "cli.usage.invalid_value"),
)


def _usage_message(t: Translator, message: str) -> str:
    for pattern, key in _ARGPARSE_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            params = {k: v.replace("'", "") for k, v in match.groupdict().items()}
            # A group of commands is shown as {a,b}: the user left out, or mistyped, a command.
            if params.get("args", "").startswith("{"):
                return t("cli.usage.missing_command", choices=params["args"].strip("{}").replace(",", ", "))
            if params.get("arg", "").startswith("{"):
                return t("cli.usage.unknown_command", value=params["value"], choices=params["choices"])
            return t(key, **params)
    return t("cli.usage.other", detail=message)


# --- entry point ------------------------------------------------------------------------------


def _language(value: str) -> str:
    code = value.strip().lower().replace("-", "_")
    if code.startswith("zh"):
        return "zh_CN"
    if code.startswith("en"):
        return "en"
    raise CliError("cli.lang.unknown", value=value, choices="zh_CN, en")


def _take_language(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """--lang is read before anything else (wherever it stands) so that help and errors use it."""
    language, rest, index = None, [], 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--lang":
            if index + 1 >= len(argv):
                raise CliError("cli.usage.expected_value", arg="--lang")
            language, index = _language(argv[index + 1]), index + 2
            continue
        if arg.startswith("--lang="):
            language = _language(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        index += 1
    return language, rest


def _fail(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


def _detail(error: BaseException) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:  # `stvs activity list | head`: the reader left, which is no error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: list[str]) -> int:
    t = translator(DEFAULT_LANGUAGE)
    try:
        language, argv = _take_language(argv)
    except CliError as error:
        _fail(t(error.key, **error.params))
        return error.exit_code
    settings: Settings | None = None
    settings_error: ValidationError | None = None
    try:
        settings = Settings()
    except ValidationError as error:
        settings_error = error
    t = translator(language or (settings.language if settings else DEFAULT_LANGUAGE))

    parser = build_parser(t)
    if not argv:
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        _fail(_usage_message(t, str(error)))
        return EXIT_USAGE
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else EXIT_OK

    try:
        if settings is None:
            assert settings_error is not None
            first = settings_error.errors()[0]
            name = "STVS_" + "_".join(str(part) for part in first["loc"]).upper()
            raise CliError("cli.settings.invalid", name=name, detail=first["msg"])
        context = Context(settings=settings, t=t, clock=bootstrap.clock(), lang=language)
        asyncio.run(args.run(context, args))
        return EXIT_OK
    except CliError as error:
        _fail(t(error.key, **error.params))
        return error.exit_code
    except DomainError as error:
        _fail(t(error.key, **error.params))
        return EXIT_USAGE
    except BrokenPipeError:
        raise
    except (SQLAlchemyError, OSError) as error:
        if args.debug:
            raise
        key = "cli.database.error" if isinstance(error, SQLAlchemyError) else "cli.io.error"
        _fail(t(key, detail=_detail(error)))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if args.debug:
            raise
        _fail(t("cli.internal", detail=f"{type(error).__name__}: {_detail(error)}"))
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
