"""Creating an activity from a filled-in template message (3-6.1.5): every question of the step-by-step
form as one line, every answer read by that form's own step, every problem reported at once, and the
form's own summary and publish / draft / cancel step at the end."""

from __future__ import annotations

from dataclasses import fields

from core.chat.messages import Say
from core.domain.activity import Activity, ActivityStatus, Base
from core.domain.codes import ActivityMode, BaseKind, RiskLevel, ServiceContent
from core.ports import ActivityQuery
from tests.chat.people import org_with_staff

ORG = "南京市鼓楼区科技志愿服务队"
# Every question the step-by-step form asks an org's only staff member at a place without a base.
FORM_FIELDS = (
    "活动名称",
    "服务内容",
    "活动方式",
    "开始时间",
    "结束时间",
    "地点",
    "签到位置",
    "线上链接",
    "招募人数",
    "活动目的",
    "活动内容",
    "服务对象",
    "志愿者保障",
    "培训要求",
    "风险等级",
    "风险说明",
    "野外作业或需保险",
    "应急预案",
)
FILLED_IN = """活动名称：老年人智能手机课堂
服务内容: d3
 活动方式 ： 线上线下结合

开始时间：2026-12-10 09:00
结束时间:11:30
地点（名称，地址；线下活动必填）：鼓楼区社区服务中心，南京市鼓楼区中山路 1 号
签到位置：32.0603，118.7969
线上链接：https://meeting.example.cn/456
招募人数：12
活动目的：帮助老人使用健康码和挂号
活动内容：讲解 40 分钟
手把手练习 60 分钟
服务对象：社区老人约 40 人
志愿者保障：午餐、志愿者马甲
培训要求（选填）：智能手机教学培训
风险等级：中
风险说明：老人行动不便，注意防跌倒
野外作业或需保险：是
应急预案：现场配急救箱，最近医院为鼓楼医院"""


def _query(org_id: int) -> ActivityQuery:
    return ActivityQuery(statuses=frozenset(ActivityStatus), org_ids=(org_id,))


async def _activities(db, org_id: int) -> list[Activity]:
    """The org's activities as read now, kept readable after the session."""
    async with db.uow() as uow:
        found = await uow.activities.search(_query(org_id))
        return [Activity(**{f.name: getattr(a, f.name) for f in fields(Activity)}) for a in found]


async def _template(staff, menu_button: str = "用模板创建活动") -> str:
    await staff.text("/organizer")
    await staff.press(menu_button)
    assert len(staff.last) == 2 and all(isinstance(r, Say) and not r.choices for r in staff.last)
    return staff.last[-1].text


def _fill(template: str, changes: dict[str, str | None]) -> str:
    """The template with the values of some fields changed (None: the line deleted)."""
    lines = []
    for line in template.splitlines():
        head = line.split("：", 1)[0]
        name = head.split("（", 1)[0]
        if name not in changes:
            lines.append(line)
        elif changes[name] is not None:
            lines.append(f"{head}：{changes[name]}")
    return "\n".join(lines)


def _problems(staff) -> list[str]:
    (reply,) = staff.last
    assert not reply.choices
    return [line for line in reply.text.splitlines() if line.startswith("· ")]


async def test_template_has_a_line_with_an_example_for_every_question_of_the_form(
    db, clock, chat_user
) -> None:
    await org_with_staff(db, clock, "3101", ORG)
    staff = chat_user("3101")
    template = await _template(staff)
    explanation = staff.last[0].text
    lines = template.splitlines()
    assert [line.split("：")[0].split("（")[0] for line in lines] == list(FORM_FIELDS)
    assert all(line.split("：", 1)[1].strip() for line in lines)  # an example on every line
    assert "开始时间：2026-12-08 09:00" in lines  # a week ahead, in the expected format
    assert "活动方式（线下/线上/线上线下结合）：线下" in lines
    assert "风险等级（低/中/高）：低" in lines
    assert "野外作业或需保险（是/否；选填，默认否）：否" in lines
    assert "培训要求（选填）：无" in lines
    assert "服务内容（填名称或编号，见上）：科普讲座" in lines
    # 3-5.2: the twenty kinds, by name or code
    assert "d3 科技助老" in explanation and "e4 赛会活动" in explanation and "/cancel" in explanation
    async with db.uow() as uow:
        user = await uow.users.by_identity(staff.channel, "3101")
        assert (await uow.dialogs.for_user(user.id, clock.now())).flow == "activity_template"


async def test_the_template_sent_back_unchanged_is_a_valid_plan(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "3102", ORG)
    staff = chat_user("3102")
    await staff.text(await _template(staff))
    assert "请确认活动方案" in staff.texts() and "社区防诈骗科普讲座" in staff.texts()
    await staff.press("保存为草稿")
    (activity,) = await _activities(db, org_id)
    assert activity.status is ActivityStatus.DRAFT and activity.online_url == ""  # offline: link unasked


async def test_filled_in_template_is_summarised_then_published_with_every_field_as_given(
    db, clock, chat_user
) -> None:
    org_id = await org_with_staff(db, clock, "3103", ORG)
    staff = chat_user("3103")
    await _template(staff)
    await staff.text(FILLED_IN)
    summary = staff.texts()
    assert "名称：老年人智能手机课堂" in summary and "科技助老（线上线下结合）" in summary
    assert "2026-12-10 09:00 – 11:30" in summary and "名额：12" in summary and "风险：中" in summary
    assert staff.buttons() == ["立即发布", "保存为草稿", "取消"]  # the step-by-step form's last step
    await staff.press("立即发布")
    assert "已发布" in staff.texts()
    (activity,) = await _activities(db, org_id)
    assert activity.status is ActivityStatus.PUBLISHED
    assert activity.title == "老年人智能手机课堂"
    assert activity.service_content is ServiceContent.ELDERLY_TECH_HELP
    assert activity.mode is ActivityMode.HYBRID
    assert activity.starts_at.isoformat() == "2026-12-10T01:00:00+00:00"  # 09:00 in Asia/Shanghai
    assert activity.ends_at.isoformat() == "2026-12-10T03:30:00+00:00"
    assert (activity.place_name, activity.address) == ("鼓楼区社区服务中心", "南京市鼓楼区中山路 1 号")
    assert (activity.latitude, activity.longitude) == (32.0603, 118.7969)
    assert activity.online_url == "https://meeting.example.cn/456"
    assert activity.capacity == 12
    assert activity.purpose == "帮助老人使用健康码和挂号"
    assert activity.content == "讲解 40 分钟\n手把手练习 60 分钟"  # a line without a colon continues
    assert activity.beneficiaries == "社区老人约 40 人"
    assert activity.guarantees == "午餐、志愿者马甲"
    assert activity.required_training == "智能手机教学培训"
    assert activity.risk_level is RiskLevel.MEDIUM and activity.risks == "老人行动不便，注意防跌倒"
    assert activity.field_work is True and activity.needs_insurance  # 4-5.1.4 b
    assert activity.emergency_plan == "现场配急救箱，最近医院为鼓楼医院"
    assert activity.organizing_unit == ORG


async def test_every_problem_is_listed_at_once_nothing_is_written_and_a_corrected_resend_works(
    db, clock, chat_user
) -> None:
    org_id = await org_with_staff(db, clock, "3104", ORG)
    staff = chat_user("3104")
    template = await _template(staff)
    wrong = _fill(
        template,
        {
            "活动名称": None,
            "活动方式": "步行",
            "开始时间": "明天上午",
            "招募人数": "很多",
            "签到位置": "95,200",
        },
    )
    await staff.text(wrong + "\n地址：南京市鼓楼区")
    unknown, *problems = _problems(staff)
    assert unknown.startswith("· “地址”：没有这个字段。（字段名应为：活动名称、服务内容、活动方式、")
    assert problems == [
        "· 活动名称：没有填写。（例如：社区防诈骗科普讲座）",
        "· 活动方式：“步行”不是可选的值。（可填：线下、线上、线上线下结合）",
        "· 开始时间：时间格式不对，请按 2026-12-08 09:00 的格式输入。",  # the form's example is the template's
        "· 签到位置：坐标超出范围（纬度 -90~90，经度 -180~180）。（例如：32.0603,118.7969）",
        "· 招募人数：请输入 1 到 10000 之间的整数，例如：20",
    ]
    assert "6 处需要修改" in staff.texts() and "再发给我" in staff.texts()
    assert await _activities(db, org_id) == []
    await staff.text(_fill(wrong, {"活动方式": "线下", "开始时间": "2026-12-09 14:00", "结束时间": "16:00"}))
    # still waiting: what is left is reported again
    assert [p.split("：")[0] for p in _problems(staff)] == ["· 活动名称", "· 签到位置", "· 招募人数"]
    fixed = _fill(
        template,
        {"活动名称": "科普讲座进社区", "开始时间": "2026-12-09 14:00", "结束时间": "16:00", "招募人数": "8"},
    )
    await staff.text(fixed)
    assert "科普讲座进社区" in staff.texts()
    await staff.press("保存为草稿")
    (activity,) = await _activities(db, org_id)
    assert (activity.title, activity.capacity, activity.status) == ("科普讲座进社区", 8, ActivityStatus.DRAFT)


async def test_an_unknown_field_is_named_and_nothing_else_is_wrong(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "3105", ORG)
    staff = chat_user("3105")
    template = await _template(staff)
    await staff.text(template + "\n志愿者待遇（备注）：午餐")
    (problem,) = _problems(staff)
    assert problem.startswith("· “志愿者待遇”：没有这个字段。（字段名应为：活动名称、")
    assert "、志愿者保障、" in problem
    assert await _activities(db, org_id) == []


async def test_a_missing_required_field_is_reported_with_an_example(db, clock, chat_user) -> None:
    await org_with_staff(db, clock, "3106", ORG)
    staff = chat_user("3106")
    template = await _template(staff)
    await staff.text(_fill(template, {"招募人数": None, "活动目的": ""}))
    assert _problems(staff) == [
        "· 招募人数：没有填写。（例如：20）",
        "· 活动目的：没有填写。（例如：帮助社区老人识别电信诈骗）",
    ]


async def test_emergency_plan_and_risks_are_asked_only_where_4_5_1_1_requires_them(
    db, clock, chat_user
) -> None:
    org_id = await org_with_staff(db, clock, "3107", ORG)
    staff = chat_user("3107")
    template = await _template(staff)
    # e4 needs insurance (4-5.1.4 b), so an emergency plan; a high risk needs its risks stated.
    await staff.text(
        _fill(template, {"服务内容": "赛会活动", "风险等级": "高", "风险说明": None, "应急预案": None})
    )
    assert _problems(staff) == [
        "· 风险说明：没有填写。（例如：人员密集，注意秩序）",
        "· 应急预案：没有填写。（例如：现场配急救箱，最近医院为市第一医院）",
    ]
    # A low-risk talk needs neither: the lines left out are not asked for.
    await staff.text(_fill(template, {"风险说明": None, "应急预案": None, "野外作业或需保险": None}))
    await staff.press("立即发布")
    (activity,) = await _activities(db, org_id)
    assert activity.status is ActivityStatus.PUBLISHED
    assert (activity.risks, activity.emergency_plan, activity.field_work) == ("", "", False)


async def test_english_template_in_english_read_in_english(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "3108", ORG)
    staff = chat_user("3108")
    await staff.text("/language")
    await staff.press("English")
    template = await _template(staff, "Create from a template")
    assert "Start: 2026-12-08 09:00" in template and "Mode (Offline/Online/Hybrid): Offline" in template
    filled = (
        template.replace("Anti-fraud science talk in the community", "Online science night")
        .replace("Mode (Offline/Online/Hybrid): Offline", "Mode: online")
        .replace("https://meeting.example.cn/123", "https://meeting.example.cn/789")
    )
    await staff.text(filled.replace("Risk level (Low/Medium/High): Low", "Risk level: Severe"))
    (problem,) = [line for line in staff.texts().splitlines() if line.startswith("• ")]
    assert problem == '• Risk level: "Severe" is not one of the choices. (one of: Low, Medium, High)'
    await staff.text(filled.replace("Training (optional): none", "培训要求：无"))  # either language
    assert "Please check the plan" in staff.texts() and "Online science night" in staff.texts()
    await staff.press("Publish now")
    (activity,) = await _activities(db, org_id)
    assert activity.status is ActivityStatus.PUBLISHED and activity.mode is ActivityMode.ONLINE
    assert activity.online_url == "https://meeting.example.cn/789"
    assert (activity.place_name, activity.latitude) == ("", None)  # online: no place asked


async def test_cancel_while_the_template_is_awaited(db, clock, chat_user) -> None:
    org_id = await org_with_staff(db, clock, "3109", ORG)
    staff = chat_user("3109")
    template = await _template(staff)
    await staff.text("/cancel")
    assert "已取消" in staff.texts()
    await staff.text(template)
    assert "请确认活动方案" not in staff.texts()  # no longer waiting: not read as a template
    assert await _activities(db, org_id) == []


async def test_two_orgs_and_a_base_are_named_in_the_template(db, clock, chat_user) -> None:
    """5-4: an activity at a registered base takes its place and check-in point."""
    first = await org_with_staff(db, clock, "3110", ORG)
    second = await org_with_staff(db, clock, "3110", "南京市江宁区科技志愿服务队")
    async with db.uow() as uow:
        await uow.bases.add(
            Base(name="江宁科技馆", kind=BaseKind.MUSEUM, org_id=second, latitude=31.95, longitude=118.84)
        )
        await uow.commit()
    staff = chat_user("3110")
    template = await _template(staff)
    assert f"组织可填：{ORG}、南京市江宁区科技志愿服务队" in staff.last[0].text
    assert "服务阵地可填：江宁科技馆" in staff.last[0].text
    assert template.startswith(f"组织（填组织名称，见上）：{ORG}\n")
    assert "服务阵地（选填，见上；不填则使用下面的地点）：\n" in template
    filled = _fill(
        template,
        {"组织": "南京市江宁区科技志愿服务队", "服务阵地": "江宁科技馆", "地点": None, "签到位置": None},
    )
    await staff.text(filled)
    await staff.press("立即发布")
    assert await _activities(db, first) == []
    (activity,) = await _activities(db, second)
    assert (activity.place_name, activity.latitude, activity.longitude) == ("江宁科技馆", 31.95, 118.84)
