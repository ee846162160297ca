"""The statistics report (3-8.2, 1-6.1.1) against a hand-computed fixture, on both databases: per
activity and per period, the parent org rolling up its teams; in chat through the real Telegram webhook
(text, PNG charts, the XLSX read back with openpyxl) and WeChat (a typed range, refused with an example).
The charts' CJK font is checked to be registered and to hold every glyph the labels use."""

from __future__ import annotations

import io
import struct
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from matplotlib.ft2font import FT2Font

from bots import charts as png_charts
from bots import spreadsheets
from core.domain.attendance import RecordStatus
from core.domain.codes import Channel, TrainingKind
from core.domain.dialog import Feedback
from core.domain.people import Actor, Role
from core.domain.signup import Signup, SignupStatus
from core.domain.survey import SurveyKind, SurveyResponse
from core.errors import PermissionDenied
from core.ports import BarChart
from core.services.access import load_actor
from core.services.exports import Period
from core.services.statistics import activity_report, period_report
from core.services.users import ensure_user, grant_role
from locales import translator
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_record, make_volunteer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import app_client, chat, messenger, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "messenger", "mode", "settings", "signer", "wechat"]

BRIGADE = "南京市科技志愿服务总队"
TEAM = "南京市玄武区科技志愿服务队"
PARENT_STAFF = Person(id=5_700_000_001, first_name="总队", language_code="zh-hans")
TEAM_WECHAT = "oStatisticsTeamStaff00000001"
NOW = datetime(2026, 12, 20, 2, 0, tzinfo=UTC)  # 20 December, 10:00 in Nanjing
# Two beneficiary answers to activity A (process, manner, attitude, expertise, skill):
ANSWERS = ({"process": 5, "manner": 4, "attitude": 5, "expertise": 3, "skill": 3},
           {"process": 4, "manner": 4, "attitude": 5, "expertise": 2, "skill": 3})  # fmt: skip


async def _fixture(db: Database, clock: FakeClock) -> dict:
    """Activity A of the team on 5 December: 5 sign-ups, of which 1 cancelled (not counted), 3 attended
    with confirmed records of 3.0, 3.0 and 2.0 hours (one more pending, not counted), 1 absent; two
    beneficiary answers; two complaints (one answered, one open and escalated). Activity B of the brigade
    on 10 December: 1 attended, 1.5 hours. Hand-computed: the team 4 sign-ups, 3 attended, 8.0 hours;
    the brigade rolls up 5, 4, 9.5."""
    out: dict = {}
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        a_start = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)
        b_start = datetime(2026, 12, 10, 1, 0, tzinfo=UTC)
        a = await make_activity(uow, clock, admin, team.id, title="社区防诈骗讲座", starts_at=a_start,
                                ends_at=a_start + timedelta(hours=3))  # fmt: skip
        b = await make_activity(uow, clock, admin, brigade.id, title="科技馆导览", starts_at=b_start,
                                ends_at=b_start + timedelta(hours=2))  # fmt: skip
        statuses = [SignupStatus.ATTENDED] * 3 + [SignupStatus.ABSENT, SignupStatus.CANCELLED]
        hours = ["3.0", "3.0", "2.0"]
        for index, status in enumerate(statuses):
            volunteer, _ = await make_volunteer(uow, clock, org_id=team.id)
            await uow.signups.add(Signup(a.id, volunteer.id, status, clock.now()))
            if index < 3:
                await make_record(uow, clock, a, volunteer.id, a_start, hours[index],
                                  status=RecordStatus.CONFIRMED, decided_by=admin.user_id)  # fmt: skip
            if index == 3:  # absent, yet a pending make-up: not confirmed, not counted
                await make_record(uow, clock, a, volunteer.id, a_start, "3.0")
        volunteer, _ = await make_volunteer(uow, clock, org_id=brigade.id)
        await uow.signups.add(Signup(b.id, volunteer.id, SignupStatus.ATTENDED, clock.now()))
        await make_record(uow, clock, b, volunteer.id, b_start, "1.5", status=RecordStatus.CONFIRMED,
                          decided_by=admin.user_id)  # fmt: skip
        # A training in the same month, attended and recorded: a training's hours are not service (2-7.4).
        t_start = datetime(2026, 12, 12, 1, 0, tzinfo=UTC)
        training = await make_activity(uow, clock, admin, team.id, title="急救培训", starts_at=t_start,
                                       ends_at=t_start + timedelta(hours=2), training_kind=TrainingKind.GENERAL)  # fmt: skip
        trainee, _ = await make_volunteer(uow, clock, org_id=team.id)
        await uow.signups.add(Signup(training.id, trainee.id, SignupStatus.ATTENDED, clock.now()))
        await make_record(uow, clock, training, trainee.id, t_start, "2.0", status=RecordStatus.CONFIRMED,
                          decided_by=admin.user_id)  # fmt: skip
        for n, answers in enumerate(ANSWERS):
            await uow.surveys.add(SurveyResponse(a.id, SurveyKind.BENEFICIARY, dict(answers),
                                                 a_start + timedelta(hours=4 + n), comment="希望多举办" if n else None))  # fmt: skip
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "complainer")
        filed = a_start + timedelta(hours=5)
        await uow.feedback.add(Feedback(user.id, "讲解太快", filed, team.id, reply="已改进", replied_by=admin.user_id,
                                        replied_at=filed, kind="complaint", activity_id=a.id))  # fmt: skip
        await uow.feedback.add(Feedback(user.id, "没有座位", filed, team.id, kind="complaint", activity_id=a.id,
                                        escalated_at=filed + timedelta(hours=73), escalated_org_id=brigade.id))  # fmt: skip
        await uow.feedback.add(Feedback(user.id, "一个意见", filed, team.id))  # an opinion: not a complaint
        for key, person, org, channel in (("parent_staff", str(PARENT_STAFF.id), brigade, Channel.TELEGRAM),
                                          ("team_staff", TEAM_WECHAT, team, Channel.WECHAT)):  # fmt: skip
            staff = await ensure_user(uow, clock, channel, person, language="zh_CN")
            await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
            out[key] = await load_actor(uow, staff.id)
        await uow.commit()
    out.update(brigade=brigade.id, team=team.id, a=a.id, b=b.id)
    clock.set(NOW)
    return out


async def _upcoming(db: Database, clock: FakeClock, org_id: int) -> int:
    """Activity C of the brigade on 28 December, after NOW: 3 volunteers signed up, none attended yet."""
    async with db.uow() as uow:
        admin = await make_admin(uow, clock)
        c_start = datetime(2026, 12, 28, 1, 0, tzinfo=UTC)
        c = await make_activity(uow, clock, admin, org_id, title="青少年编程体验", starts_at=c_start,
                                ends_at=c_start + timedelta(hours=2))  # fmt: skip
        for _ in range(3):
            volunteer, _ = await make_volunteer(uow, clock, org_id=org_id)
            await uow.signups.add(Signup(c.id, volunteer.id, SignupStatus.CONFIRMED, clock.now()))
        await uow.commit()
    assert c.id is not None
    return c.id


async def test_report_numbers_match_the_hand_computed_fixture(db, clock) -> None:
    world = await _fixture(db, clock)
    december = Period(date(2026, 12, 1), date(2026, 12, 31))
    async with db.uow() as uow:
        team = await period_report(uow, clock, world["team_staff"], world["team"], december)
        brigade = await period_report(uow, clock, world["parent_staff"], world["brigade"], december)
        single = await activity_report(uow, clock, world["parent_staff"], world["a"])
        with pytest.raises(PermissionDenied):  # the team's staff do not read the brigade
            await period_report(uow, clock, world["team_staff"], world["brigade"], december)

    assert (team.signups, team.attended, team.hours) == (4, 3, Decimal("8.0"))
    assert single.answered and not team.not_ended  # answers to judge by; every activity is over
    assert (brigade.signups, brigade.attended, brigade.hours) == (5, 4, Decimal("9.5"))
    assert [a.activity_id for a in brigade.activities] == [world["a"], world["b"]]
    assert team.attendance_rate == 0.75
    averages = {q.question: q.average for q in single.questions}
    assert averages == {"process": 4.5, "manner": 4.0, "attitude": 5.0, "expertise": 2.5, "skill": 3.0}
    assert [q.question for q in single.improvements] == ["expertise", "skill"]  # under 3.5
    assert single.distribution == (0, 1, 3, 3, 3)  # ratings 1 … 5 over both answers
    assert (single.signups, single.attended, single.hours) == (4, 3, Decimal("8.0"))
    c = brigade.complaints
    assert (c.total, c.answered, c.open, c.escalated) == (2, 1, 1, 1)
    assert set(single.comments) == {"希望多举办", "讲解太快", "没有座位"}  # survey comments and complaints
    months = dict(brigade.monthly_hours)
    assert months == {date(2026, 12, 1): Decimal("9.5")}


async def test_the_report_in_telegram_with_charts_and_the_xlsx(db, clock, chat, fake_telegram) -> None:
    await _fixture(db, clock)
    staff = chat(PARENT_STAFF)
    await staff.say("/organizer")
    text = await staff.press("统计报告")
    assert f"“{BRIGADE}”的统计报告（含下级组织）" in text
    text = await staff.press("今年")
    for line in (
        f"📊 统计报告：{BRIGADE}（含下级组织）",
        "时间：2026-01-01 至 2026-12-31",
        "活动：2 个",
        "报名：5 人次；出勤：4 人次（出勤率 80%）",
        "服务时长：9.5 小时（已确认）",
        "服务对象满意度（2 份问卷，满分 5 分）：",
        "· 专业水平 2.50 分",
        "服务对象评分分布：5 分 3 次、4 分 3 次、3 分 3 次、2 分 1 次、1 分 0 次",
        "投诉：共 2 件，已答复 1 件，待处理 1 件，其中上报上级 1 件",
        "· “专业水平”平均 2.50 分，低于 3.5 分，需要改进",
        "· 意见：希望多举办",
    ):
        assert line in text, line
    photos = [c for c in fake_telegram.calls("sendPhoto") if c.ok]
    assert len(photos) == 2  # hours per month over the year, and the ratings
    for call in photos:
        data = call.params["photo"].data
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (960, 540) and len(data) > 10_000

    await staff.press("下载 Excel")
    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok]
    book = openpyxl.load_workbook(io.BytesIO(sent.params["document"].data))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["报名人次"] == 5 and summary["出勤人次"] == 4 and summary["服务时长（小时）"] == 9.5
    assert summary["投诉总数"] == 2 and summary["已上报上级"] == 1
    ratings = {row[1]: row[3] for row in book["满意度"].iter_rows(min_row=2, values_only=True)}
    assert ratings["服务过程"] == 4.5 and ratings["专业水平"] == 2.5
    assert [row[1] for row in book["评分分布"].iter_rows(min_row=2, values_only=True)] == [0, 1, 3, 3, 3]
    months = {row[0]: row[1] for row in book["每月时长"].iter_rows(min_row=2, values_only=True)}
    assert months["2026-12"] == 9.5 and months["2026-01"] == 0


async def test_the_attendance_rate_counts_only_the_activities_that_have_ended(
    db, clock, chat, fake_telegram
) -> None:
    """Sign-ups for an activity still to come are no absences: the rate is 4 of the 5 sign-ups of the
    ended activities A and B (80%), not 4 of all 8 (50%); the chat text and the XLSX say so alike."""
    world = await _fixture(db, clock)
    c = await _upcoming(db, clock, world["brigade"])
    december = Period(date(2026, 12, 1), date(2026, 12, 31))
    async with db.uow() as uow:
        brigade = await period_report(uow, clock, world["parent_staff"], world["brigade"], december)
        upcoming = await activity_report(uow, clock, world["parent_staff"], c)
    assert (brigade.signups, brigade.attended) == (8, 4)
    assert (brigade.ended_signups, brigade.ended_attended, brigade.not_ended) == (5, 4, 1)
    assert brigade.attendance_rate == 0.8
    assert upcoming.signups == 3 and upcoming.attendance_rate is None

    staff = chat(PARENT_STAFF)
    await staff.say("/report")
    text = await staff.press("本月")
    assert "报名：8 人次；出勤：4 人次" in text
    assert (
        "出勤率 80%：只计已结束的 2 个活动（报名 5 人次，出勤 4 人次）；另有 1 个活动尚未结束，不计入" in text
    )
    assert "出勤率 50%" not in text and "出勤率 44%" not in text
    assert f"#{c} 12-28 青少年编程体验：报名 3，尚未结束" in text

    await staff.press("下载 Excel")
    [sent] = [call for call in fake_telegram.calls("sendDocument") if call.ok]
    book = openpyxl.load_workbook(io.BytesIO(sent.params["document"].data))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["报名人次"] == 8 and summary["出勤人次"] == 4
    assert summary["已结束的活动数"] == 2 and summary["已结束活动的报名人次"] == 5
    assert summary["已结束活动的出勤人次"] == 4 and summary["出勤率（%，只计已结束的活动）"] == 80
    assert summary["统计时间"] == "2026-12-20 10:00"
    status = {row[0]: row[3] for row in book["活动"].iter_rows(min_row=2, values_only=True)}
    assert status == {world["a"]: "已结束", world["b"]: "已结束", c: "未结束", "合计": None}

    text = await staff.say(f"/report act-{c}")
    assert "报名：3 人次；出勤：0 人次" in text and "出勤率：活动还没有结束，结束后才计算" in text


async def test_without_survey_answers_the_report_says_so_and_how_to_get_them(
    db, clock, chat, fake_telegram
) -> None:
    """Activity B has no answers: no judgement of its averages, but how to collect answers."""
    world = await _fixture(db, clock)
    async with db.uow() as uow:
        single = await activity_report(uow, clock, world["parent_staff"], world["b"])
    assert not single.answered and single.improvements == ()
    staff = chat(PARENT_STAFF)
    text = await staff.say(f"/report act-{world['b']}")
    assert "各项平均分均不低于" not in text
    assert "还没有人填写满意度调查，暂时无法给出改进建议" in text
    assert "在活动卡片上选择“📋 满意度调查”" in text
    await staff.press("下载 Excel")
    [sent] = [call for call in fake_telegram.calls("sendDocument") if call.ok]
    book = openpyxl.load_workbook(io.BytesIO(sent.params["document"].data))
    summary = {row[0]: row[1] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert summary["需改进（平均分低于 3.5）"] == "暂无问卷回答"


async def test_wechat_typed_range_is_checked_and_the_report_follows(db, clock, wechat) -> None:
    world = await _fixture(db, clock)
    user = wechat(TEAM_WECHAT)
    await user.say("/report")
    await user.pick("自定义时间段")
    assert "例如：2026-01-01 至 2026-03-31" in user.last
    text = await user.say("2026-12-31 至 2026-12-01")
    assert "结束日期 2026-12-01 早于开始日期 2026-12-31" in text and "例如：" in text
    text = await user.say("2026-02-30 至 2026-03-01")
    assert "日期不存在" in text
    text = await user.say("2026-12-01 至 2026-12-31")
    assert f"统计报告：{TEAM}" in text and "报名：4 人次；出勤：3 人次（出勤率 75%）" in text
    assert world["team"]


def test_the_cjk_font_is_registered_and_holds_every_glyph_of_the_labels() -> None:
    from matplotlib import font_manager

    png_charts.PngCharts()
    assert "Noto Sans SC" in {f.name for f in font_manager.fontManager.ttflist}
    t = translator("zh_CN")
    labels = [t("statistics.chart.hours", name=BRIGADE), t("statistics.chart.distribution", name=TEAM),
              t("statistics.chart.hours_axis"), t("statistics.chart.count_axis"),
              *(t("statistics.chart.month", year=2026, month=m) for m in range(1, 13)),
              *(t("statistics.chart.rating", rating=r) for r in range(1, 6))]  # fmt: skip
    font = FT2Font(str(png_charts.font_path()))
    missing = {ch for text in labels for ch in text if not ch.isspace() and font.get_char_index(ord(ch)) == 0}
    assert missing == set()


def test_a_chart_draws_chinese_labels_without_missing_glyph_warnings() -> None:
    chart = BarChart("每月服务时长", ("1月", "2月", "3月"), (3.0, 0.0, 9.5), "小时")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph … missing from font(s)"
        data = png_charts.PngCharts().bar_chart(chart)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (960, 540)


def test_the_workbook_holds_one_sheet_per_table() -> None:
    from core.ports import Sheet

    data = spreadsheets.workbook([Sheet("概况", ("项目", "数值"), [("报名人次", 5)]),
                                  Sheet("活动", ("编号", "时长"), [(1, Decimal("9.5"))])])  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["概况", "活动"] and book["活动"]["B2"].value == 9.5
