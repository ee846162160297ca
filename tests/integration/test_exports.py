"""Exports of service records and volunteer lists (民函〔2012〕340号 data elements, 4-5.4), on SQLite and
PostgreSQL: the tables the service builds, the XLSX read back with openpyxl and the CSV with csv, masking
by who asks, refusals, the audit trail and the period's edges; then the same in chat through the real
Telegram webhook and WeChat (safe mode), and the `stvs export` command writing a file. Time moves only
through the fake clock."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from cryptography.fernet import Fernet

from bots import bootstrap, spreadsheets
from core.chat import exports as chat_exports
from core.domain.activity import Activity
from core.domain.attendance import RecordSource, RecordStatus
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.domain.volunteer import MembershipStatus
from core.errors import NotEligible, PermissionDenied
from core.policy import Policy
from core.ports import Sheet, SheetFormat, UnitOfWork
from core.services import exports
from core.services.access import load_actor, may_see_private_data
from core.services.exports import Period, service_record_rows, sheet_of, volunteer_rows
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership
from locales import translator
from storage.database import Database
from storage.types import cipher
from tests.builders import (
    make_activity,
    make_admin,
    make_org,
    make_record,
    make_staff,
    make_volunteer,
    resident_id,
)
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import UploadedFile
from tests.fakes.telegram_updates import Person
from tests.integration.test_cli import Stvs, _runner
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import PUBLIC_URL

ZH = translator("zh_CN")
SHANGHAI = ZoneInfo("Asia/Shanghai")
BRIGADE = "江苏省科协科技志愿服务总队"
TEAM = "南京市玄武区科技志愿服务队"
OTHER = "南京市鼓楼区科技志愿服务队"
MEMBER_ID = resident_id("11010519491231002")  # 11010519491231002X
STAFF = Person(id=5_400_000_009, first_name="组织者", language_code="zh-hans")
VOLUNTEER = Person(id=5_400_000_001, first_name="志愿者", language_code="zh-hans")
WECHAT_STAFF = "oExportStaff000000000000001"
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))

RECORD_HEADERS = [
    "记录编号",
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "志愿者编号",
    "注册日期",
    "活动名称",
    "组织单位",
    "服务日期",
    "开始时间",
    "结束时间",
    "在岗时长（小时）",
    "折算系数",
    "记录时长（小时）",
    "记录状态",
    "记录方式",
    "确认/作废人",
    "确认/作废日期",
    "作废原因",
]
VOLUNTEER_HEADERS = [
    "志愿者编号",
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "所在地区",
    "注册日期",
    "所属组织",
    "成员状态",
    "加入日期",
    "志愿者状态",
    "已确认服务时长（小时）",
]


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A moment in Nanjing, 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


# ---- the world: a brigade with a team, a second team, their staff, volunteers and records -------------


@dataclass
class World:
    brigade: int
    team: int
    other: int
    staff: Actor  # staff of the team, themself a registered volunteer (王组织)
    parent_staff: Actor  # staff of the brigade above the team
    other_staff: Actor  # staff of the other team
    admin: Actor
    volunteer: Actor  # a member of the team, no role
    ids: dict[str, int]  # volunteer name → volunteer id
    phones: dict[str, str]  # volunteer name → phone
    activities: list[Activity]


async def _person(
    uow: UnitOfWork, clock: FakeClock, channel: Channel, external_id: str, name: str, phone: str
) -> tuple[int, int]:
    """A registered volunteer on a channel: (user id, volunteer id)."""
    user = await ensure_user(uow, clock, channel, external_id)
    await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
    form = RegistrationForm(name=name, phone=phone, region="江苏省南京市玄武区", birth_date=date(1985, 3, 9))
    volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
    return user.id, volunteer.id


async def _world(
    db: Database, clock: FakeClock, staff_identity: tuple[Channel, str] = (Channel.TELEGRAM, str(STAFF.id))
) -> World:
    """In November 2026, at the team's activities (Nanjing time):
    刘成员 (with a resident ID) 3.0 h confirmed on the 3rd, 2.0 h × 1.5 pending on the 10th;
    陈成员 1.5 h voided (重复记录) on the 20th, then the same 1.5 h entered by staff and confirmed;
    赵外援, a member of the other team only, 2.5 h by make-up, confirmed, on the 12th;
    and 3.0 h of 赵外援 at the other team's activity, which is none of the team's."""
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        other = await make_org(uow, clock, OTHER, parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        staff_user, _ = await _person(uow, clock, *staff_identity, "王组织", "13900000009")
        await grant_role(uow, clock, Actor.system(), staff_user, Role.ORG_STAFF, team.id)
        staff = await load_actor(uow, staff_user)
        parent_staff = await make_staff(uow, clock, brigade.id)
        other_staff = await make_staff(uow, clock, other.id)

        member, member_actor = await make_volunteer(
            uow, clock, org_id=team.id, id_number=MEMBER_ID, name="刘成员"
        )
        second, _ = await make_volunteer(uow, clock, org_id=team.id, name="陈成员")
        outsider, _ = await make_volunteer(uow, clock, org_id=other.id, name="赵外援")
        left, left_actor = await make_volunteer(uow, clock, org_id=team.id, name="钱已退")
        membership = await uow.memberships.get(left.id, team.id)
        membership.status = MembershipStatus.LEFT
        asking, asking_actor = await make_volunteer(uow, clock, name="孙申请")
        await request_membership(uow, clock, asking_actor, team.id)
        (await uow.memberships.get(asking.id, team.id)).status = MembershipStatus.PENDING

        made = [
            await make_activity(uow, clock, admin, team.id, title=title)
            for title in ("玄武湖科普讲解", "社区防诈骗讲座", "青少年科学实验")
        ]
        elsewhere = await make_activity(uow, clock, admin, other.id, title="鼓楼区科普日")
        first, second_act, _ = made
        by = staff.user_id
        await make_record(
            uow, clock, first, member.id, local(3, 9), "3.0", status=RecordStatus.CONFIRMED, decided_by=by
        )
        await make_record(uow, clock, second_act, member.id, local(10, 14), "2.0", coefficient="1.5")
        for decision in (  # voided as a duplicate, then the same hours entered by staff
            {"status": RecordStatus.VOIDED, "void_reason": "重复记录"},
            {"status": RecordStatus.CONFIRMED, "manual": True},
        ):
            await make_record(uow, clock, first, second.id, local(20, 9), "1.5", decided_by=by, **decision)
        await make_record(
            uow,
            clock,
            second_act,
            outsider.id,
            local(12, 9),
            "2.5",
            status=RecordStatus.CONFIRMED,
            source=RecordSource.MAKEUP,
            decided_by=by,
        )
        await make_record(
            uow, clock, elsewhere, outsider.id, local(12, 9), "3.0", status=RecordStatus.CONFIRMED
        )
        await uow.commit()
        people = {"刘成员": member, "陈成员": second, "赵外援": outsider, "钱已退": left, "孙申请": asking}
        return World(
            brigade=brigade.id,
            team=team.id,
            other=other.id,
            staff=staff,
            parent_staff=parent_staff,
            other_staff=other_staff,
            admin=admin,
            volunteer=member_actor,
            ids={name: v.id for name, v in people.items()},
            phones={name: v.phone for name, v in people.items()},
            activities=made,
        )


async def _records(
    db: Database, clock: FakeClock, actor: Actor, org_id: int, period: Period = NOVEMBER, **kw: Any
):
    async with db.uow() as uow:
        export = await service_record_rows(uow, clock, actor, org_id, period, **kw)
        await uow.commit()
    return export


async def _volunteers(db: Database, clock: FakeClock, actor: Actor, org_id: int, **kw: Any):
    async with db.uow() as uow:
        export = await volunteer_rows(uow, clock, actor, org_id, **kw)
        await uow.commit()
    return export


def read_xlsx(data: bytes) -> tuple[Any, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    return sheet, list(sheet.iter_rows(values_only=True))


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def by_name(rows: list[tuple[Any, ...]], column: int = 1) -> dict[str, list[tuple[Any, ...]]]:
    found: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        found.setdefault(row[column], []).append(row)
    return found


# ---- service records --------------------------------------------------------------------------------


async def test_records_xlsx_lists_the_340_elements_one_row_per_record_voided_included(db, clock) -> None:
    world = await _world(db, clock)
    export = await _records(db, clock, world.staff, world.team)
    sheet, rows = read_xlsx(spreadsheets.to_xlsx(sheet_of(export, ZH)))

    header, *body, totals = rows
    assert list(header) == RECORD_HEADERS
    assert sheet.title == "服务记录"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.column_dimensions["H"].width >= 2 * len("玄武湖科普讲解")  # CJK is two columns wide
    assert len(body) == 5  # the voided record too; not the other team's record
    assert [r[1] for r in body] == ["刘成员", "刘成员", "赵外援", "陈成员", "陈成员"]  # by time of service

    first = body[0]
    assert first[2:6] == ("居民身份证", MEMBER_ID, world.phones["刘成员"], f"KJ2026{world.ids['刘成员']:07d}")
    assert first[7:12] == ("玄武湖科普讲解", TEAM, datetime(2026, 11, 3), "09:00", "12:00")
    assert first[12:] == (3, 1, 3, "已确认", "签到签退", "王组织", datetime(2026, 12, 1), None)
    assert sheet.cell(row=2, column=13).number_format == "0.0"
    assert sheet.cell(row=2, column=10).is_date

    pending = body[1]
    assert pending[12:17] == (2, 1.5, 3, "待确认", "签到签退") and pending[17] is None
    makeup = body[2]
    assert makeup[15:17] == ("已确认", "补录")
    voided, manual = body[3], body[4]
    assert voided[15:] == ("已作废", "签到签退", "王组织", datetime(2026, 12, 1), "重复记录")
    assert manual[15:17] == ("已确认", "工作人员现场登记")
    assert all(isinstance(r[14], int | float) for r in body)  # hours are numbers, not text

    # 3-6.3 and 2-6.3: only confirmed hours count: 3.0 + 2.5 + 1.5, neither the pending nor the voided.
    assert totals[0] == "合计（已确认 3 条）"
    assert totals[12] == 7 and totals[14] == 7
    assert export.confirmed_hours == Decimal("7.0") and export.counted == 3


async def test_records_csv_has_the_bom_the_same_rows_and_plain_values(db, clock) -> None:
    world = await _world(db, clock)
    export = await _records(db, clock, world.staff, world.team)
    header, *body, totals = read_csv(spreadsheets.to_csv(sheet_of(export, ZH)))

    assert header == RECORD_HEADERS
    assert len(body) == 5
    assert body[0][9:15] == ["2026-11-03", "09:00", "12:00", "3.0", "1.00", "3.0"]
    assert body[1][12:15] == ["2.0", "1.50", "3.0"]
    assert totals[0] == "合计（已确认 3 条）" and totals[14] == "7.0"


async def test_staff_see_their_members_in_full_and_others_masked_as_may_see_private_data_says(
    db, clock
) -> None:
    world = await _world(db, clock)
    export = await _records(db, clock, world.staff, world.team)
    rows = by_name(export.rows)

    assert rows["刘成员"][0][3:5] == (MEMBER_ID, world.phones["刘成员"])
    assert rows["陈成员"][0][4] == world.phones["陈成员"]
    outsider = rows["赵外援"][0]
    assert outsider[4] == world.phones["赵外援"][:3] + "****" + world.phones["赵外援"][-4:]
    assert export.masked == 1
    async with db.uow() as uow:
        for name, found in rows.items():
            full = await may_see_private_data(uow, world.staff, world.ids[name])
            assert (found[0][4] == world.phones[name]) is full, name


async def test_parent_staff_read_the_team_masked_and_the_admin_in_full(db, clock) -> None:
    world = await _world(db, clock)

    parent = await _records(db, clock, world.parent_staff, world.team)
    assert len(parent.rows) == 5 and parent.masked == 5
    member = by_name(parent.rows)["刘成员"][0]
    assert member[3] == "1101**********002X" and "****" in member[4]

    admin = await _records(db, clock, world.admin, world.team)
    assert admin.masked == 0
    assert by_name(admin.rows)["赵外援"][0][4] == world.phones["赵外援"]


async def test_another_orgs_staff_and_a_volunteer_are_refused(db, clock) -> None:
    world = await _world(db, clock)
    for actor in (world.other_staff, world.volunteer):
        with pytest.raises(PermissionDenied) as refused:
            await _records(db, clock, actor, world.team)
        assert refused.value.key == "access.not_staff"
        with pytest.raises(PermissionDenied):
            await _volunteers(db, clock, actor, world.team)
    # Staff of the team do not read upwards either: the brigade's records are not theirs.
    with pytest.raises(PermissionDenied):
        await _records(db, clock, world.staff, world.brigade)


async def test_every_export_is_audited_with_who_what_and_how_many_rows(db, clock) -> None:
    world = await _world(db, clock)
    await _records(db, clock, world.staff, world.team, file_format="xlsx")
    await _volunteers(db, clock, world.parent_staff, world.team, file_format="csv")

    async with db.uow() as uow:
        entries = [
            e
            for e in await uow.audit.for_entity("organization", world.team)
            if e.action.startswith("export.")
        ]
        logged = [(e.action, e.actor_user_id, dict(e.details)) for e in entries]
    assert logged == [
        (
            "export.records",
            world.staff.user_id,
            {"rows": 5, "masked": 1, "start": "2026-11-01", "end": "2026-11-30", "format": "xlsx"},
        ),
        ("export.volunteers", world.parent_staff.user_id, {"rows": 3, "masked": 3, "format": "csv"}),
    ]


async def test_the_period_takes_whole_days_in_the_orgs_time_zone(db, clock) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, TEAM)
        admin = await make_admin(uow, clock)
        volunteer, _ = await make_volunteer(uow, clock, org_id=org.id)
        moments = {
            "before": local(31, 23, 59, month=10),
            "first": local(1, 0, 0),
            "last": local(30, 23, 59),
            "after": local(1, 0, 0, month=12),
        }
        for title, moment in moments.items():
            activity = await make_activity(uow, clock, admin, org.id, title=title)
            await make_record(uow, clock, activity, volunteer.id, moment, "1.0")
        await uow.commit()

    def titles(export: exports.Export) -> list[str]:
        return [row[7] for row in export.rows]

    assert titles(await _records(db, clock, admin, org.id, NOVEMBER)) == ["first", "last"]
    assert titles(await _records(db, clock, admin, org.id, Period(date(2026, 11, 30), None))) == [
        "last",
        "after",
    ]
    assert titles(await _records(db, clock, admin, org.id, Period(None, date(2026, 10, 31)))) == ["before"]
    assert len((await _records(db, clock, admin, org.id, Period())).rows) == 4
    # The service date is the local one: 00:00 on 1 November in Nanjing is 31 October in UTC.
    [first, _] = (await _records(db, clock, admin, org.id, NOVEMBER)).rows
    assert first[9] == date(2026, 11, 1) and first[10] == "00:00"


def test_named_periods_from_the_local_day() -> None:
    today = date(2026, 3, 15)
    assert Period.named(exports.PeriodName.THIS_MONTH, today) == Period(date(2026, 3, 1), date(2026, 3, 31))
    assert Period.named(exports.PeriodName.LAST_MONTH, today) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert Period.named(exports.PeriodName.LAST_MONTH, date(2026, 1, 9)) == Period(
        date(2025, 12, 1), date(2025, 12, 31)
    )
    assert Period.named(exports.PeriodName.THIS_YEAR, today) == Period(date(2026, 1, 1), date(2026, 12, 31))
    assert Period.named(exports.PeriodName.ALL, today) == Period()
    with pytest.raises(Exception) as backwards:
        Period(date(2026, 3, 2), date(2026, 3, 1))
    assert getattr(backwards.value, "key", "") == "export.period.end_before_start"


async def test_pages_of_a_big_export_join_without_gaps_or_repeats(db, clock, monkeypatch) -> None:
    world = await _world(db, clock)
    whole = await _records(db, clock, world.admin, world.team)
    members = await _volunteers(db, clock, world.admin, world.team)
    monkeypatch.setattr(exports, "PAGE", 2)  # two records share their start: the id breaks the tie
    assert (await _records(db, clock, world.admin, world.team)).rows == whole.rows
    assert (await _volunteers(db, clock, world.admin, world.team)).rows == members.rows


async def test_more_rows_than_the_limit_are_refused_and_not_audited(db, clock) -> None:
    world = await _world(db, clock)
    with pytest.raises(NotEligible) as refused:
        await _records(db, clock, world.staff, world.team, limit=4)
    assert refused.value.key == "export.too_many" and refused.value.params == {"limit": 4}
    assert len((await _records(db, clock, world.staff, world.team, limit=5)).rows) == 5


# ---- volunteer lists --------------------------------------------------------------------------------


async def test_volunteer_list_holds_current_members_with_the_hours_the_org_confirmed(db, clock) -> None:
    world = await _world(db, clock)
    export = await _volunteers(db, clock, world.staff, world.team)
    sheet, (header, *body, totals) = read_xlsx(spreadsheets.to_xlsx(sheet_of(export, ZH)))

    assert list(header) == VOLUNTEER_HEADERS and sheet.title == "志愿者名册"
    rows = by_name(body)
    assert sorted(rows) == ["刘成员", "孙申请", "陈成员"]  # not who left, nor another team's member
    member = rows["刘成员"][0]
    assert member[2:8] == (
        "居民身份证",
        MEMBER_ID,
        world.phones["刘成员"],
        "北京市海淀区",
        datetime(2026, 12, 1),
        TEAM,
    )
    assert member[8:] == ("在册", datetime(2026, 12, 1), "正常", 3)  # the pending 3.0 h is not counted
    assert rows["陈成员"][0][11] == 1.5
    assert rows["孙申请"][0][8] == "待审核" and rows["孙申请"][0][11] == 0
    assert totals[0] == "合计（3 人）" and totals[11] == 4.5
    assert export.masked == 0


async def test_volunteer_list_csv_for_parent_staff_is_masked(db, clock) -> None:
    world = await _world(db, clock)
    export = await _volunteers(db, clock, world.parent_staff, world.team)
    header, *body, totals = read_csv(spreadsheets.to_csv(sheet_of(export, ZH)))
    assert header == VOLUNTEER_HEADERS
    member = next(row for row in body if row[1] == "刘成员")
    assert member[3] == "1101**********002X" and member[4] == "138****" + world.phones["刘成员"][-4:]
    assert totals[0] == "合计（3 人）" and totals[11] == "4.5"


# ---- the files themselves ----------------------------------------------------------------------------


def test_text_that_looks_like_a_formula_stays_text() -> None:
    sheet = Sheet("测试", ("活动名称", "时长"), [('=HYPERLINK("http://evil.example")', Decimal("1.0"))])
    _, (_, row) = read_xlsx(spreadsheets.to_xlsx(sheet))
    assert row == ('=HYPERLINK("http://evil.example")', 1)
    [_, line] = read_csv(spreadsheets.to_csv(sheet))
    assert line == ['\'=HYPERLINK("http://evil.example")', "1.0"]


def test_sheet_names_excel_refuses_are_made_acceptable() -> None:
    data = spreadsheets.render(Sheet("记录/2026:11月" + "很长" * 20, ("a",), []), SheetFormat.XLSX)
    sheet, rows = read_xlsx(data)
    assert sheet.title.startswith("记录 2026 11月") and len(sheet.title) <= 31
    assert rows == [("a",)]


def test_english_headers_and_labels() -> None:
    export = exports.Export(
        exports.ExportKind.RECORDS,
        1,
        "Team",
        Period(),
        exports.RECORD_COLUMNS,
        [
            (
                1,
                "Li",
                "resident_id",
                "",
                "",
                "",
                None,
                "",
                "",
                None,
                "",
                "",
                None,
                None,
                None,
                "voided",
                "makeup",
                "",
                None,
                "x",
            )
        ],
        (None,) * len(exports.RECORD_COLUMNS),
        "export.totals.records",
        0,
        Decimal("0.0"),
        0,
    )
    sheet = sheet_of(export, translator("en"))
    assert sheet.headers[:4] == ("Record no.", "Name", "ID type", "ID number")
    assert sheet.rows[0][2] == "Resident ID card" and sheet.rows[0][15:17] == ("voided", "Make-up request")
    assert sheet.totals is not None and sheet.totals[0] == "Total (0 confirmed)"


# ---- in chat: Telegram and WeChat (safe mode) through the real app -----------------------------------


async def test_telegram_staff_export_last_months_records_as_excel(db, clock, chat, fake_telegram) -> None:
    world = await _world(db, clock)
    staff = chat(STAFF)

    text = await staff.say("/organizer")
    assert "组织者工具" in text
    text = await staff.press("导出")
    assert text.startswith("导出：请选择要导出的内容。") and "民函〔2012〕340号" in text
    text = await staff.press("服务记录")  # one org: no question which
    assert text.startswith(f"导出“{TEAM}”的服务记录：请选择时间范围（按服务日期）。")
    text = await staff.press("上月")  # it is 1 December 2026 in Nanjing
    assert text.startswith(f"导出“{TEAM}”的服务记录：请选择文件格式。")
    text = await staff.press("Excel")
    assert "其中 1 行的手机号和证件号只显示部分数字" in text
    assert "本次导出已记入审计日志" in text

    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok]
    assert sent.params["chat_id"] == STAFF.id
    assert sent.result["caption"] == (
        f"“{TEAM}”服务记录（2026-11-01 至 2026-11-30）：共 5 条，其中已确认 3 条、7.0 小时。"
        "待确认和已作废的记录也列出，但不计入合计。"
    )
    document = sent.params["document"]
    assert isinstance(document, UploadedFile)
    assert document.filename == f"records-{world.team}-20261101-20261130.xlsx"
    _, (header, *body, totals) = read_xlsx(document.data)
    assert list(header) == RECORD_HEADERS and len(body) == 5
    assert "已作废" in [row[15] for row in body] and totals[14] == 7
    async with db.uow() as uow:
        actions = [e.action for e in await uow.audit.for_entity("organization", world.team)]
    assert actions.count("export.records") == 1


async def test_telegram_too_many_rows_for_excel_are_refused_and_csv_offered(
    db, clock, chat, fake_telegram, monkeypatch
) -> None:
    await _world(db, clock)
    monkeypatch.setattr(chat_exports, "CHAT_MAX_ROWS", {SheetFormat.XLSX: 4, SheetFormat.CSV: 10})
    staff = chat(STAFF)
    await staff.say("/export")
    await staff.press("服务记录")
    await staff.press("上月")
    text = await staff.press("Excel")
    assert "要导出的行数超过 4，在聊天中生成不了这么大的文件。请选择较短的时间范围" in text
    assert "CSV 文件生成得快，最多可导出 10 行：可以改用 CSV。" in text
    assert fake_telegram.calls("sendDocument") == []
    text = await staff.press("改用 CSV")
    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok]
    assert sent.params["document"].filename.endswith("-20261101-20261130.csv")
    assert len(read_csv(sent.params["document"].data)) == 1 + 5 + 1


async def test_telegram_volunteer_without_a_role_is_told_why(db, clock, chat) -> None:
    world = await _world(db, clock)
    async with db.uow() as uow:
        user_id, _ = await _person(uow, clock, Channel.TELEGRAM, str(VOLUNTEER.id), "周志愿", "13900000001")
        await request_membership(uow, clock, await load_actor(uow, user_id), world.team)
        await uow.commit()
    volunteer = chat(VOLUNTEER)
    assert "只有该组织的工作人员可以进行此操作。" in await volunteer.say("/export")
    text = await volunteer.send(volunteer.updates.callback(f"ex:r.{world.team}.all.xlsx", person=VOLUNTEER))
    assert "只有该组织的工作人员可以进行此操作。" in text


async def test_telegram_parent_staff_choose_the_org_and_a_forged_org_is_refused(
    db, clock, chat, fake_telegram
) -> None:
    world = await _world(db, clock)
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(VOLUNTEER.id))
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, world.brigade)
        await uow.commit()
    parent = chat(VOLUNTEER)

    await parent.say("/export")
    text = await parent.press("志愿者名册")
    assert text.startswith("导出志愿者名册：请选择组织。")
    buttons = [b["text"] for m in parent.last for row in m["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons[:3] == [BRIGADE, TEAM, OTHER]
    text = await parent.press(TEAM)
    assert text.startswith(f"导出“{TEAM}”的志愿者名册：请选择文件格式。")
    text = await parent.press("CSV")
    assert "其中 3 行的手机号和证件号只显示部分数字" in text

    sent = len(fake_telegram.calls("sendDocument"))
    team_staff = chat(STAFF)  # staff of the team only: the other team is not theirs to pick
    text = await team_staff.send(team_staff.updates.callback(f"ex:v.{world.other}.all.csv", person=STAFF))
    assert text.startswith("导出志愿者名册：请选择组织。") and OTHER not in text
    assert len(fake_telegram.calls("sendDocument")) == sent


async def test_wechat_staff_export_the_volunteer_list_as_csv_by_numbers(
    db, clock, wechat, messenger, app_client
) -> None:
    world = await _world(db, clock, staff_identity=(Channel.WECHAT, WECHAT_STAFF))
    user = wechat(WECHAT_STAFF)

    await user.say("/organizer")
    text = await user.pick("导出")
    assert "回复 1：服务记录" in text and "回复 2：志愿者名册" in text
    text = await user.pick("志愿者名册")
    assert text.startswith(f"导出“{TEAM}”的志愿者名册：请选择文件格式。")
    text = await user.pick("CSV")
    found = re.search(rf"下载文件“(volunteers-{world.team}-all\.csv)”：{PUBLIC_URL}(/media/\S+)", text)
    assert found is not None, text
    assert f"“{TEAM}”志愿者名册：共 3 人，本组织已确认的服务时长合计 4.5 小时。" in text

    response = await app_client.get(found.group(2))
    assert response.status == 200
    header, *body, totals = read_csv(await response.read())
    assert header == VOLUNTEER_HEADERS
    assert sorted(row[1] for row in body) == ["刘成员", "孙申请", "陈成员"]
    assert next(row for row in body if row[1] == "刘成员")[4] == world.phones["刘成员"]
    assert totals[11] == "4.5"


# ---- the command line -----------------------------------------------------------------------------


@pytest.fixture
def stvs_export(
    blank_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Stvs:
    """`stvs` on each database, with the data key and the fake clock the seeded world was made with."""
    run = _runner(blank_db_url, tmp_path, monkeypatch, capsys)
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("STVS_DATA_KEY", key)
    cipher.configure(key)
    monkeypatch.setattr(bootstrap, "clock", FakeClock)
    assert run("db upgrade").code == 0
    return run


def test_cli_exports_records_and_the_volunteer_list_in_full(
    stvs_export: Stvs, blank_db_url: str, tmp_path: Path
) -> None:
    async def seed() -> World:
        db = Database(blank_db_url)
        try:
            return await _world(db, FakeClock())
        finally:
            await db.dispose()

    async def audited(org_id: int) -> list[tuple[str, int | None, int]]:
        db = Database(blank_db_url)
        try:
            async with db.uow() as uow:
                entries = await uow.audit.for_entity("organization", org_id)
                return [
                    (e.action, e.actor_user_id, e.details["rows"])
                    for e in entries
                    if e.action.startswith("export.")
                ]
        finally:
            await db.dispose()

    world = asyncio.run(seed())
    out = tmp_path / "records.xlsx"
    run = stvs_export(f"export records --org {TEAM} --from 2026-11-01 --to 2026-11-30 --out {out}")
    assert run.code == 0, run.err
    assert f"已将“{TEAM}”的 5 条服务记录导出到 {out}（已确认 3 条，7.0 小时）。" in run.out
    assert "文件含完整的手机号和证件号" in run.out
    _, (header, *body, totals) = read_xlsx(out.read_bytes())
    assert list(header) == RECORD_HEADERS and len(body) == 5 and totals[14] == 7
    assert by_name(body)["赵外援"][0][4] == world.phones["赵外援"]  # the platform sees in full

    narrow = stvs_export(
        f"export records --org {world.team} --from 2026-11-11 --to 2026-11-12 --out {tmp_path / 'r.csv'}"
    )
    assert narrow.code == 0, narrow.err
    [_, line, _] = read_csv((tmp_path / "r.csv").read_bytes())
    assert line[1] == "赵外援" and line[16] == "补录"

    members = tmp_path / "members.csv"
    run = stvs_export(f"--lang en export volunteers --org {world.team} --out {members}")
    assert run.code == 0, run.err
    assert f'Exported the volunteer list of "{TEAM}" (3 people) to {members}.' in run.out
    header, *body, _ = read_csv(members.read_bytes())
    assert header[:2] == ["Volunteer no.", "Name"] and len(body) == 3
    assert asyncio.run(audited(world.team)) == [
        ("export.records", None, 5),
        ("export.records", None, 1),
        ("export.volunteers", None, 3),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("records --org 2 --from 2026-13-01 --out x.xlsx", "--from 的日期“2026-13-01”无效"),
        (
            "records --org 2 --from 2026-11-30 --to 2026-11-01 --out x.xlsx",
            "结束日期 2026-11-01 早于开始日期 2026-11-30",
        ),
        ("records --org 2 --format pdf --out x.pdf", "未知的文件格式“pdf”，可选：xlsx, csv"),
        ("volunteers --org 没有这个组织 --out x.csv", "没有编号或名称为“没有这个组织”的组织"),
        ("volunteers --out x.csv", "缺少参数"),
    ],
)
def test_cli_export_bad_input_is_one_line(stvs_export: Stvs, args: str, message: str, tmp_path: Path) -> None:
    run = stvs_export(f"export {args}")
    assert run.code == 2 and run.out == ""
    assert message in run.error
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_export_help_says_it_sees_full_data(stvs_export: Stvs) -> None:
    run = stvs_export("export --help")
    assert run.code == 0 and "平台管理员" in run.out and "records" in run.out
