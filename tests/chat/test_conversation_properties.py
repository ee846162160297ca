"""Properties of the conversation: any sequence of inputs (commands, menu words, numbers, any unicode,
buttons the bot last offered or made up from known prefixes with random ids, locations possible and
impossible, contacts, deep links, time passing), sent by a volunteer, a staff member or a stranger, on a
channel with buttons or one with numbered options, never ends a turn in an unhandled error; afterwards the
dialog state loads and /cancel brings each of them back to the menu.

Driven on core.chat's Conversation directly (no HTTP) against SQLite. A world (org, staff, a volunteer, a
published activity, a draft) is built once into a file; each example starts from a fresh copy of it."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.chat.conversation import Conversation
from core.chat.messages import Button, Command, Contact, Incoming, Input, Location, Say, Text, Unreadable
from core.chat.routes import build_routes
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.policy import Policy
from core.ports import UnitOfWork
from core.services.access import load_actor
from core.services.activities import create_activity
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership
from locales import translator
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_org
from tests.fakes.clock import FakeClock

POLICY = Policy()
UNFILLED = re.compile(r"\{[a-z_]+\}")
ROUTES = build_routes()

STAFF, VOLUNTEER, STRANGER = "staff", "volunteer", "stranger"
PEOPLE = (STAFF, VOLUNTEER, STRANGER)
CHANNELS = (Channel.TELEGRAM, Channel.WECHAT)

# The payload prefixes the routes know, and the words the start command knows, with ids drawn at random.
PREFIXES = sorted({kind.prefix for kind in ROUTES.buttons})
COMMANDS = sorted(ROUTES.commands) + ["start", "cancel", "nosuchcommand"]
DEEP_LINKS = ("act", "org", "need", "survey", "vsurvey", "nosuchlink")
WORDS = (
    "/start",
    "/help",
    "/cancel",
    "菜单",
    "取消",
    "menu",
    "?",
    "1",
    "2",
    "3",
    "0",
    "99",
    "１",
    "2025-12-01",
)


@dataclass(frozen=True)
class Step:
    """Who sends what, and how much time passes first."""

    person: str
    given: Input | None  # None: press one of the choices the bot last offered this person
    pick: int = 0
    minutes: int = 0


ids = st.one_of(st.integers(0, 12), st.integers(13, 10**9), st.just(-1)).map(str)
made_up_payload = st.one_of(
    st.builds(lambda p, i: f"{p}:{i}", st.sampled_from(PREFIXES), ids),
    st.builds(lambda p, i, j: f"{p}:{i}.{j}", st.sampled_from(PREFIXES), ids, ids),
    st.sampled_from(PREFIXES),
    st.text(max_size=20),
)
coordinate = st.one_of(
    st.floats(-90, 90),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([32.0567, 118.7969, 0.0, 91.0, -181.0, 1e308]),
)
inputs: st.SearchStrategy[Input] = st.one_of(
    st.sampled_from(WORDS).map(lambda w: Command(w[1:]) if w.startswith("/") else Text(w)),
    st.text(max_size=40).map(Text),
    st.integers(-5, 50).map(lambda n: Text(str(n))),
    st.builds(Command, st.sampled_from(COMMANDS), st.text(max_size=20)),
    st.builds(lambda kind, ident: Command("start", f"{kind}-{ident}"), st.sampled_from(DEEP_LINKS), ids),
    made_up_payload.map(Button),
    st.builds(
        Location,
        coordinate,
        coordinate,
        st.none() | st.floats(0, 5000),
        live=st.booleans(),
        forwarded=st.booleans(),
        update=st.booleans(),
    ),
    st.builds(
        Contact, st.sampled_from(["13912345678", "+8613912345678", "12345", "", "１３９"]), st.booleans()
    ),
    st.sampled_from(["sticker", "voice", "video"]).map(Unreadable),
)
steps = st.builds(
    Step,
    st.sampled_from(PEOPLE),
    st.none() | inputs,
    st.integers(0, 20),
    st.sampled_from([0, 0, 0, 5, 90, 60 * 24, 60 * 24 * 9]),
)


# ---- the world, once ------------------------------------------------------------------------------------


async def _person(uow: UnitOfWork, clock: FakeClock, channel: Channel, external_id: str) -> int:
    user = await ensure_user(uow, clock, channel, external_id)
    assert user.id is not None
    return user.id


async def _seed(path: Path, clock: FakeClock) -> None:
    """On each channel: staff of the org, and a volunteer of it signed up for both published activities."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.uow() as uow:
            org = await make_org(uow, clock, "南京市鼓楼区科普志愿服务队")
            assert org.id is not None
            admin = Actor.system()
            soon = clock.now() + timedelta(hours=2)
            published = [
                await make_activity(uow, clock, admin, org.id, title="社区科普讲座"),
                await make_activity(
                    uow,
                    clock,
                    admin,
                    org.id,
                    title="助老课堂",
                    starts_at=soon,
                    ends_at=soon + timedelta(hours=3),
                ),
            ]
            await create_activity(uow, clock, admin, activity_draft(org.id, clock, title="草稿"))
            for n, channel in enumerate(CHANNELS):
                staff = await _person(uow, clock, channel, STAFF)
                await grant_role(uow, clock, admin, staff, Role.ORG_STAFF, org.id)
                user_id = await _person(uow, clock, channel, VOLUNTEER)
                await give_consent(uow, clock, user_id, ConsentKind.PRIVACY_NOTICE, policy=POLICY)
                form = RegistrationForm(name="李志愿", phone=f"1381234567{n}", region="江苏省南京市鼓楼区")
                await register_volunteer(uow, clock, user_id, form, policy=POLICY)
                actor = await load_actor(uow, user_id)
                await request_membership(uow, clock, actor, org.id)
                for activity in published:
                    await sign_up(uow, clock, actor, activity.id or 0)
            await uow.commit()
    finally:
        await database.dispose()


_TEMPLATE: list[Path] = []


def _world(sqlite_template: Path, directory: Path) -> Path:
    if not _TEMPLATE:
        path = directory / "world.sqlite3"
        shutil.copyfile(sqlite_template, path)
        asyncio.run(_seed(path, FakeClock()))
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


# ---- one example --------------------------------------------------------------------------------------


async def _run(path: Path, sequence: list[Step], channel: Channel) -> None:
    database = Database(f"sqlite+aiosqlite:///{path}")
    clock = FakeClock()
    conversation = Conversation(database.uow, clock, POLICY, translator, ROUTES)
    offered: dict[str, list[str]] = {p: [] for p in PEOPLE}
    try:
        for step in sequence:
            clock.advance(minutes=step.minutes)
            given = step.given
            if given is None:
                choices = offered[step.person]
                if not choices:
                    continue
                given = Button(choices[step.pick % len(choices)])
            incoming = Incoming(channel, step.person, given, language_hint="zh_CN")
            out = await conversation.handle(incoming)  # raises on an unhandled error: the property fails
            assert out is not None  # no delivery key: never taken for a platform's retry
            for reply in out.replies:  # a parameter left unfilled: a catalog text and its caller disagree
                text = getattr(reply, "text", "") + " ".join(c.label for c in getattr(reply, "choices", ()))
                assert "{" in repr(given) or not UNFILLED.search(text), (given, text)  # not an echo
            shown = [c.payload for r in out.replies if isinstance(r, Say) for c in r.choices]
            if shown:
                offered[step.person] = shown
        for person in PEOPLE:
            external_id = person
            async with database.uow() as uow:
                user = await uow.users.by_identity(channel, external_id)
                if user is None:
                    continue  # never wrote on this channel
                user_id = user.id
                assert user_id is not None
                await uow.dialogs.for_user(user_id, clock.now())  # the state loads
            out = await conversation.handle(Incoming(channel, external_id, Command("cancel")))
            assert out is not None
            texts = "\n".join(r.text for r in out.replies if isinstance(r, Say))
            assert translator(out.language)("chat.cancelled") in texts, texts
            async with database.uow() as uow:
                state = await uow.dialogs.for_user(user_id, clock.now())
                assert not state.flow, (person, state.flow, state.step)
    finally:
        await database.dispose()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sequence=st.lists(steps, min_size=1, max_size=12), channel=st.sampled_from(CHANNELS))
def test_any_inputs_leave_a_valid_state_and_cancel_returns_to_the_menu(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, sequence: list[Step], channel: Channel
) -> None:
    directory = tmp_path_factory.getbasetemp() / "properties"
    directory.mkdir(exist_ok=True)
    copy = directory / f"{uuid.uuid4().hex}.sqlite3"
    shutil.copyfile(_world(sqlite_template, directory), copy)
    try:
        asyncio.run(_run(copy, sequence, channel))
    finally:
        copy.unlink(missing_ok=True)
