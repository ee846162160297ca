"""Who may do what: one table (MATRIX) and one test per cell, on SQLite and PostgreSQL.

The situation is one small org tree: a brigade P with two teams A and B (siblings) and a team A1 below
A; staff for each, a platform admin, a volunteer V (member of A, signed up for A's activities), another
volunteer W (member of B) and a person who never registered. Every action is on A's activities, A's
people or A's records. Staff of one org never act on another org's people or activities, nor on a
parent's; staff of a parent read (and export, masked) what is below them but do not run it (1-6.1); a
parent reviews its children's applications (1-5.4); phone and ID numbers are shown in full only to the
volunteer, the staff of an org they belong to and admins (4-5.4).

The world is built once per database; each cell runs its action in its own transaction and rolls it
back, so every cell starts from the same situation. ``python -m tests.integration.test_role_matrix``
prints the same table as Markdown (the README's section on roles)."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.domain.attendance import RecordStatus
from core.domain.codes import Channel, Qualification
from core.domain.organization import OrgStatus
from core.domain.people import Actor, ConsentKind, Role
from core.domain.signup import SignupStatus
from core.errors import DomainError, NotEligible, PermissionDenied
from core.policy import Policy
from core.ports import UnitOfWork
from core.services.access import load_actor
from core.services.activities import cancel_activity, create_activity, publish_activity, update_activity
from core.services.attendance import current_code, staff_check
from core.services.broadcasts import broadcast_recruitment
from core.services.certificates import issue_certificate, revoke_certificate
from core.services.exports import Period, service_record_rows, volunteer_rows
from core.services.feedback import file_complaint, reply_to_feedback
from core.services.needs import close_need, decide_need, submit_need, take_need
from core.services.organizations import deactivate_org, summarize_org
from core.services.records import confirm_records, decide_makeup, request_makeup, void_record
from core.services.reports import ReportForm, file_report
from core.services.reviews import decide_org_application, submit_org_application
from core.services.signups import cancel_signup, mark_attendance, sign_up
from core.services.surveys import survey_stats
from core.services.users import ensure_user, grant_role
from core.services.volunteers import (
    clear_volunteer,
    decide_membership,
    give_consent,
    record_qualification,
    request_membership,
    transfer_volunteer,
    view_volunteer,
)
from storage.database import Database
from tests.builders import (
    activity_draft,
    make_activity,
    make_admin,
    make_org,
    make_record,
    make_staff,
    make_volunteer,
    need_form,
    org_form,
)
from tests.fakes.clock import FakeClock

# ---- the roles and the outcomes -------------------------------------------------------------------

ROLES: dict[str, str] = {
    "admin": "platform admin",
    "reviewer": "reviewer (staff of parent P)",
    "staff": "staff of A",
    "sibling": "staff of sibling B",
    "child": "staff of child A1",
    "volunteer": "volunteer V",
    "other": "another volunteer W",
    "unregistered": "unregistered person",
}

YES = "✓"  # allowed
NO = "✗"  # refused with the action's refusal error (PermissionDenied unless the action says otherwise)
OWN = "own"  # allowed, and only ever on the actor's own (sign-up, profile, certificate)
MASKED = "masked"  # allowed, phone and ID numbers masked (138****5678)


@dataclass(frozen=True)
class World:
    """Ids of what the cells act on; the actors by their user ids."""

    url: str
    users: dict[str, int]
    org_p: int
    org_a: int
    org_b: int
    volunteer_v: int
    phone_v: str
    draft: int
    upcoming: int
    running: int
    past: int
    signup_upcoming: int
    signup_running: int
    record: int
    makeup: int
    feedback: int
    need: int
    need_approved: int  # approved, addressed to A, not taken yet
    need_taken: int  # taken by A
    volunteer_w: int  # W, who asked to join A as well
    application: int
    certificate: str


@dataclass
class Cell:
    """What one action gives back for the checks of a cell: whether personal numbers were in full."""

    full: bool | None = None


Run = Callable[[UnitOfWork, FakeClock, Actor, World], Awaitable[Cell | None]]


@dataclass(frozen=True)
class Action:
    label: str
    run: Run
    expected: dict[str, str]
    refusal: type[DomainError] = PermissionDenied
    note: str = ""
    clause: str = ""


def _row(default: str = NO, **cells: str) -> dict[str, str]:
    return {role: cells.get(role, default) for role in ROLES}


ORGANIZER = _row(admin=YES, staff=YES)  # the org's own staff and admins: write access to A
READER = _row(admin=YES, reviewer=YES, staff=YES)  # plus the staff above A: read access (1-6.1)
POLICY = Policy()


# ---- the actions ------------------------------------------------------------------------------------


async def _publish(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await publish_activity(uow, clock, actor, w.draft)


async def _edit(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    assert (await update_activity(uow, clock, actor, w.upcoming, {"capacity": 20})).capacity == 20


async def _cancel(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await cancel_activity(uow, clock, actor, w.upcoming, "场地临时关闭")


async def _call(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await broadcast_recruitment(uow, clock, actor, w.upcoming)


async def _code(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    assert (await current_code(uow, clock, POLICY, actor, w.running)).code


async def _check_in(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await staff_check(uow, clock, POLICY, actor, w.signup_running)


async def _mark(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    signup = await mark_attendance(uow, clock, actor, w.signup_running, attended=True)
    assert signup.status is SignupStatus.ATTENDED


async def _confirm(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    assert len(await confirm_records(uow, clock, POLICY, actor, [w.record])) == 1


async def _void(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await void_record(uow, clock, POLICY, actor, w.record, "重复记录")


async def _makeup(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await decide_makeup(uow, clock, POLICY, actor, w.makeup, approve=False, reason="当天未到场")


async def _cancel_signup(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await cancel_signup(uow, clock, actor, w.signup_upcoming, "临时有事")


async def _export_records(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> Cell:
    export = await service_record_rows(uow, clock, actor, w.org_a, Period())
    assert export.rows
    return Cell(full=export.masked == 0)


async def _export_volunteers(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> Cell:
    export = await volunteer_rows(uow, clock, actor, w.org_a)
    assert export.rows
    return Cell(full=export.masked == 0)


async def _view(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> Cell:
    seen = await view_volunteer(uow, actor, w.volunteer_v)
    return Cell(full=seen.phone == w.phone_v)


async def _review_org(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    org = await decide_org_application(uow, clock, actor, w.application, approve=True)
    assert org.status is OrgStatus.APPROVED


async def _deactivate(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await deactivate_org(uow, clock, actor, w.org_a, "长期无活动")


async def _review_need(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await decide_need(uow, clock, actor, w.need, approve=True)


async def _take_need(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await take_need(uow, clock, actor, w.need_approved, w.org_a)


async def _close_need(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await close_need(uow, clock, actor, w.need_taken)


async def _decide_join(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await decide_membership(uow, clock, actor, w.volunteer_w, w.org_a, approve=True)


async def _transfer(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await transfer_volunteer(uow, clock, actor, w.volunteer_v, w.org_a, w.org_b, "搬家到玄武区")


async def _answer(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await reply_to_feedback(uow, clock, actor, w.feedback, "已与讲师沟通，下次准时开始")


async def _issue(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await issue_certificate(uow, clock, POLICY, actor)


async def _revoke(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await revoke_certificate(uow, clock, actor, w.certificate, "信息有误")


async def _file(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    activity = await uow.activities.read(w.past)
    assert activity is not None
    form = ReportForm(
        beneficiaries="社区居民",
        beneficiary_count=40,
        content="防诈骗讲座",
        served_from=activity.starts_at,
        served_until=activity.ends_at,
        quality=4,
        leader="王明",
        recorder="李芳",
    )
    await file_report(uow, clock, actor, w.past, form)


async def _overview(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    assert (await summarize_org(uow, actor, w.org_a)).volunteers >= 1


async def _stats(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await survey_stats(uow, actor, w.past)


async def _qualification(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    volunteer = await record_qualification(
        uow, clock, actor, w.volunteer_v, Qualification.MEDICAL_PRACTITIONER.value, held=True
    )
    assert volunteer.qualifications == [Qualification.MEDICAL_PRACTITIONER.value]


async def _grant(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await grant_role(uow, clock, actor, w.users["unregistered"], Role.ORG_STAFF, w.org_a)


async def _clear(uow: UnitOfWork, clock: FakeClock, actor: Actor, w: World) -> None:
    await clear_volunteer(uow, clock, actor, w.volunteer_v, "毕业离校")


MATRIX: dict[str, Action] = {
    "publish": Action("publish A's activity", _publish, ORGANIZER, clause="3-6.1.5"),
    "edit": Action("edit A's activity", _edit, ORGANIZER),
    "cancel": Action("cancel A's activity", _cancel, ORGANIZER),
    "call": Action("send the call for volunteers", _call, ORGANIZER, clause="3-6.1.3.3"),
    "code": Action("see the rotating check-in code", _code, ORGANIZER, clause="3-5.3"),
    "check_in": Action("check V in by hand", _check_in, ORGANIZER, clause="2-6.3 a"),
    "attendance": Action("record attendance (came / absent)", _mark, ORGANIZER, clause="2-7.5.2"),
    "confirm": Action("approve V's hours", _confirm, ORGANIZER, clause="谁组织谁记录"),
    "void": Action("void V's record", _void, ORGANIZER, clause="1-6.5"),
    "makeup": Action("decide V's make-up request", _makeup, ORGANIZER, clause="2-6.3 c"),
    "cancel_signup": Action("cancel V's sign-up", _cancel_signup, _row(admin=YES, staff=YES, volunteer=OWN)),
    "export_records": Action(
        "export A's service records",
        _export_records,
        _row(admin=YES, reviewer=MASKED, staff=YES),
        clause="4-5.4",
    ),
    "export_volunteers": Action(
        "export A's volunteers", _export_volunteers, _row(admin=YES, reviewer=MASKED, staff=YES)
    ),
    "view": Action(
        "see V's phone and ID number",
        _view,
        _row(admin=YES, reviewer=MASKED, staff=YES, volunteer=OWN),
        clause="4-5.4",
    ),
    "review_org": Action(
        "review an org application under P", _review_org, _row(admin=YES, reviewer=YES), clause="1-5.4"
    ),
    "deactivate": Action("deactivate org A", _deactivate, _row(admin=YES, reviewer=YES), clause="1-5.4"),
    "review_need": Action(
        "review a need addressed to A",
        _review_need,
        ORGANIZER,
        clause="3-6.1.1",
        note="the addressed org's staff review it",
    ),
    "take_need": Action(
        "take an approved need addressed to A",
        _take_need,
        ORGANIZER,
        clause="3-6.1.2",
        note="in A's name: the addressed org's staff",
    ),
    "close_need": Action("close a need A took", _close_need, ORGANIZER, clause="3-6.1.2"),
    "decide_join": Action("decide W's request to join A", _decide_join, ORGANIZER, clause="2-7.1"),
    "transfer": Action("transfer V from A to B", _transfer, ORGANIZER, clause="2-6.2 e", note="A's staff"),
    "feedback": Action("answer feedback about A", _answer, ORGANIZER, clause="2-8.2"),
    "issue_cert": Action(
        "issue a certificate",
        _issue,
        _row(volunteer=OWN, other=OWN),
        refusal=NotEligible,
        clause="4-5.5",
        note="always one's own: staff and admins who are not volunteers have none",
    ),
    "revoke_cert": Action("revoke V's certificate", _revoke, _row(admin=YES), clause="4-5.5"),
    "file_report": Action("file the activity record", _file, ORGANIZER, clause="3-6.3"),
    "overview": Action("see the org overview of A", _overview, READER, clause="1-6.1"),
    "stats": Action("see the survey statistics", _stats, READER, clause="3-8.2"),
    "qualification": Action(
        "record V's qualification",
        _qualification,
        _row(admin=YES, reviewer=YES, staff=YES, sibling=YES, child=YES),
        clause="3-6.1.3.1",
        note="staff of any org who saw the certificate; never one's own",
    ),
    "grant": Action("grant a role", _grant, _row(admin=YES)),
    "clear": Action("clear V (exit)", _clear, _row(admin=YES, staff=YES, volunteer=OWN), clause="2-6.2 f"),
}


# ---- the table ----------------------------------------------------------------------------------------

LEGEND = (
    f"{YES} allowed · {NO} refused · {OWN} only on one's own · "
    f"{MASKED} allowed, phone and ID numbers masked (138****5678)"
)


def markdown_table() -> str:
    header = "| action | " + " | ".join(ROLES.values()) + " |"
    rule = "| --- |" + " --- |" * len(ROLES)
    lines = [header, rule]
    for action in MATRIX.values():
        label = action.label + (f" ({action.clause})" if action.clause else "")
        if action.note:
            label += f": {action.note}"
        lines.append(f"| {label} | " + " | ".join(action.expected[r] for r in ROLES) + " |")
    return "\n".join(lines)


def readme() -> str:
    return "\n".join(
        [
            "## Who may do what",
            "",
            "Roles are granted with `stvs admin grant`: a platform admin, or staff of one organization. Staff",
            "run their own organization: they publish, edit and cancel its activities, take attendance,",
            "confirm or void hours, decide make-up requests, file activity records, answer its feedback,",
            "review, take and close needs addressed to it, decide requests to join it and transfer its",
            "members to another organization. Staff of a parent organization read what is below them (overview,",
            "survey statistics, exports with phone and ID numbers masked) and review applications of new",
            "organizations under theirs (CVST 1 5.4), but never run a child's activities; staff of a child",
            "or a sibling organization never act on another organization's people or activities (one",
            "exception: staff of any organization record a qualification whose certificate they saw, CVST 3",
            "6.1.3.1). Phone and ID numbers appear in full only to the volunteer, staff of an organization",
            "the volunteer belongs to, and platform admins (CVST 4 5.4). A button or link carrying someone",
            "else's ids is refused like a stale button: the reason, a way back to the menu, nothing written.",
            "",
            "The tree behind the table: brigade P with teams A and B, and team A1 below A; V is a member of",
            "A signed up for A's activities, W a member of B.",
            "",
            markdown_table(),
            "",
            LEGEND + ".",
            "",
            "Each cell is a test (`tests/integration/test_role_matrix.py`, on SQLite and PostgreSQL), and",
            "this table is printed from the same data: `python -m tests.integration.test_role_matrix`.",
            "",
        ]
    )


# ---- the world ------------------------------------------------------------------------------------------


T0 = FakeClock().now()


async def _build(url: str) -> World:
    database = Database(url)
    clock = FakeClock(T0 - timedelta(days=10))
    try:
        async with database.uow() as uow:
            p = await make_org(uow, clock, "江苏省科协科技志愿服务总队")
            assert p.id is not None
            a = await make_org(uow, clock, "南京市鼓楼区科普志愿服务队", parent_id=p.id)
            b = await make_org(uow, clock, "南京市玄武区科普志愿服务队", parent_id=p.id)
            assert a.id is not None and b.id is not None
            a1 = await make_org(uow, clock, "宁海路街道科普志愿服务队", parent_id=a.id)
            assert a1.id is not None
            admin = await make_admin(uow, clock)
            staff = {
                "reviewer": await make_staff(uow, clock, p.id),
                "staff": await make_staff(uow, clock, a.id),
                "sibling": await make_staff(uow, clock, b.id),
                "child": await make_staff(uow, clock, a1.id),
            }
            v, v_actor = await make_volunteer(uow, clock, org_id=a.id, name="张志愿")
            _, w_actor = await make_volunteer(uow, clock, org_id=b.id, name="王志愿")
            plain = await ensure_user(uow, clock, Channel.WECHAT, "passer-by")
            assert plain.id is not None and v.id is not None
            await give_consent(uow, clock, plain.id, ConsentKind.PRIVACY_NOTICE, policy=POLICY)
            organizer = staff["staff"]

            def at(start: datetime, hours: int = 3) -> dict[str, Any]:
                return {"starts_at": start, "ends_at": start + timedelta(hours=hours)}

            # Made ten days ago: one ended three days ago, one ended two days ago, one running now, and
            # one held four days ago where V and W served.
            past = await make_activity(
                uow, clock, organizer, a.id, title="防诈骗讲座", **at(T0 - timedelta(days=3))
            )
            past2 = await make_activity(
                uow, clock, organizer, a.id, title="科普展", **at(T0 - timedelta(days=2))
            )
            running = await make_activity(
                uow, clock, organizer, a.id, title="助老课堂", **at(T0 - timedelta(hours=1))
            )
            served = await make_activity(
                uow, clock, organizer, a.id, title="社区科普日", **at(T0 - timedelta(days=4))
            )
            assert past.id is not None and past2.id is not None and running.id is not None
            await sign_up(uow, clock, v_actor, past.id)
            await sign_up(uow, clock, v_actor, past2.id)
            on_site = await sign_up(uow, clock, v_actor, running.id)
            clock.set(T0)
            upcoming = await make_activity(uow, clock, organizer, a.id, title="青少年科学实验")
            draft = await create_activity(uow, clock, organizer, activity_draft(a.id, clock))
            assert upcoming.id is not None and draft.id is not None
            signed = await sign_up(uow, clock, v_actor, upcoming.id)
            record = await make_record(uow, clock, past, v.id, past.starts_at)
            # 4-5.5: a certificate is of confirmed hours, which V and W each have from an earlier activity.
            for served_id in (v.id, w_actor.volunteer_id or 0):
                await make_record(
                    uow,
                    clock,
                    served,
                    served_id,
                    served.starts_at,
                    status=RecordStatus.CONFIRMED,
                    decided_by=organizer.user_id,
                )
            makeup = await request_makeup(
                uow, clock, POLICY, v_actor, past2.id, past2.starts_at, past2.ends_at, "定位失败"
            )
            complaint = await file_complaint(
                uow, clock, POLICY, v_actor.user_id or 0, "讲座迟到半小时", activity_id=upcoming.id
            )
            need, need_approved, need_taken = [
                await submit_need(uow, clock, plain.id, need_form(a.id, description=f"老年人{what}知识辅导"))
                for what in ("手机", "反诈", "急救")
            ]
            for later in (need_approved, need_taken):
                await decide_need(uow, clock, organizer, later.id or 0, approve=True)
            await take_need(uow, clock, organizer, need_taken.id or 0, a.id)
            # W asks to join A too, which wants its staff to approve newcomers (2-7.1).
            a.join_requires_approval = True
            await request_membership(uow, clock, w_actor, a.id)
            application = await submit_org_application(
                uow, clock, v_actor, org_form("南京大学科普志愿服务队", parent_id=p.id)
            )
            certificate = await issue_certificate(uow, clock, POLICY, v_actor)
            world = World(
                url=url,
                users={
                    "admin": admin.user_id or 0,
                    **{role: actor.user_id or 0 for role, actor in staff.items()},
                    "volunteer": v_actor.user_id or 0,
                    "other": w_actor.user_id or 0,
                    "unregistered": plain.id,
                },
                org_p=p.id,
                org_a=a.id,
                org_b=b.id,
                volunteer_v=v.id,
                phone_v=v.phone,
                draft=draft.id,
                upcoming=upcoming.id,
                running=running.id,
                past=past.id,
                signup_upcoming=signed.id or 0,
                signup_running=on_site.id or 0,
                record=record.id or 0,
                makeup=makeup.id or 0,
                feedback=complaint.id or 0,
                need=need.id or 0,
                need_approved=need_approved.id or 0,
                need_taken=need_taken.id or 0,
                volunteer_w=w_actor.volunteer_id or 0,
                application=application.id or 0,
                certificate=certificate.number,
            )
            await uow.commit()
        return world
    finally:
        await database.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Built once per database (sync, on its own event loop, as the conftest's database fixtures are)."""
    from tests.conftest import DATABASES, _empty_postgres

    if request.param not in DATABASES:
        pytest.skip(f"{request.param} is not among STVS_TEST_DATABASES")
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("roles") / "stvs.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = str(request.getfixturevalue("postgres_schema"))
        asyncio.run(_empty_postgres(url))
    yield asyncio.run(_build(url))


CELLS = [(key, role) for key in MATRIX for role in ROLES]


@pytest.mark.parametrize(("action", "role"), CELLS, ids=[f"{k}-{r}" for k, r in CELLS])
async def test_role_matrix(world: World, action: str, role: str) -> None:
    spec = MATRIX[action]
    expected = spec.expected[role]
    database = Database(world.url)
    clock = FakeClock(T0)
    try:
        async with database.uow() as uow:  # never committed: the next cell finds the world as built
            actor = await load_actor(uow, world.users[role])
            if expected == NO:
                with pytest.raises(spec.refusal):
                    await spec.run(uow, clock, actor, world)
                return
            cell = await spec.run(uow, clock, actor, world)
            if cell is not None and cell.full is not None:
                assert cell.full is (expected != MASKED), f"{action} as {role}: numbers in full={cell.full}"
    finally:
        await database.dispose()


def test_every_cell_says_what_it_expects() -> None:
    known = {YES, NO, OWN, MASKED}
    for key, action in MATRIX.items():
        assert set(action.expected) == set(ROLES), key
        assert set(action.expected.values()) <= known, key
    table = markdown_table().splitlines()
    assert len(table) == 2 + len(MATRIX)
    assert all(line.count("|") == len(ROLES) + 2 for line in table)


if __name__ == "__main__":
    sys.stdout.write(readme())
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(readme(), encoding="utf-8")
