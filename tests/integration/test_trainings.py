"""Trainings and the training certificate end to end (CVST 2-7.4, 3-6.2.1, 4-5.1.3): a training is an
activity with a training kind, attended like any other; its confirmed hours are training, not service
(no service hours, no star, not on the service certificate), are listed as trainings in /hours and earn
the training certificate (科技志愿培训证明), verifiable at /verify/<number>. Real Telegram Update JSON is
posted to /telegram/webhook and real WeChat XML (safe mode) to /wechat of one real app; time moves only
through the fake clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import prcoords
import pytest
from pypdf import PdfReader

from core.domain.activity import ActivityStatus
from core.domain.attendance import RecordStatus
from core.domain.certificate import CertificateKind
from core.domain.codes import Channel, TrainingKind
from core.domain.people import Actor, ConsentKind, Role
from core.errors import Conflict
from core.policy import Policy
from core.ports import ActivityQuery
from core.services.access import load_actor
from core.services.activities import create_activity, update_activity
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_api import FakeTelegramAPI, UploadedFile
from tests.fakes.telegram_updates import Person
from tests.integration.test_telegram_webhook import Chat
from tests.integration.two_channels import *  # noqa: F403  the two-channel app's fixtures, as its __all__ lists them
from tests.integration.two_channels import PUBLIC_URL

ORG = "南京市玄武区科技志愿服务队"
SERVICE = "玄武湖科普讲解"
TRAINING = "科技志愿者安全培训"
VENUE = (32.0415, 118.7781)  # WGS-84
VOLUNTEER = Person(id=5_400_000_001, first_name="志愿者", language_code="zh-hans")
STAFF = Person(id=5_400_000_009, first_name="组织者", language_code="zh-hans")
WECHAT_OPENID = "oTrainings000000000000000001"
NUMBER = re.compile(r"编号：(STVS-\d{4}-[0-9A-Z]{8})")


# ---- the app: Telegram and WeChat (safe mode) on at once; one star at 5 hours ---------------------


@pytest.fixture
def settings_changes() -> dict[str, str]:
    """One star at 5 hours: 3 service hours and 3 training hours make a star only if training counted."""
    return {"star_thresholds": "5,300,600,1000,1500"}


# ---- the world: a service tomorrow, a safety training three days later, a volunteer on both ----------


@dataclass
class World:
    service: int
    training: int
    starts: dict[int, datetime]  # activity id → start
    volunteer_id: int
    user_id: int


async def _world(db: Database, clock: FakeClock, channel: Channel, external_id: str, name: str) -> World:
    """Both 09:00–12:00 Nanjing time at VENUE; the org's staff on Telegram; the volunteer confirmed on
    both (on the training only when on WeChat: one activity to check in at, whatever is sent)."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        admin = await make_admin(uow, clock)
        starts: dict[int, datetime] = {}
        ids = []
        for days, title, kind in ((1, SERVICE, None), (4, TRAINING, TrainingKind.SAFETY)):
            start = clock.now() + timedelta(days=days)
            activity = await make_activity(
                uow,
                clock,
                admin,
                org.id,
                title=title,
                training_kind=kind,
                latitude=VENUE[0],
                longitude=VENUE[1],
                starts_at=start,
                ends_at=start + timedelta(hours=3),
            )
            starts[activity.id] = start
            ids.append(activity.id)
        staff = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
        user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = RegistrationForm(
            name=name, phone="13900001234", region="江苏省南京市玄武区", birth_date=date(1990, 5, 17)
        )
        volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
        actor = await load_actor(uow, user.id)
        for activity_id in ids if channel is Channel.TELEGRAM else ids[1:]:
            await sign_up(uow, clock, actor, activity_id)
        await uow.commit()
    return World(ids[0], ids[1], starts, volunteer.id, user.id)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / 111_195, point[1]


async def _attend_on_telegram(volunteer: Chat, clock: FakeClock, start: datetime) -> str:
    """Checked in half an hour early and out at the end, 50 m from the venue: 3.0 hours. What the
    check-out said."""
    at_venue = north_of(VENUE, 50)
    clock.set(start - timedelta(minutes=30))
    assert "签到成功" in await volunteer.send(volunteer.updates.location(*at_venue, person=volunteer.person))
    clock.set(start + timedelta(hours=3))
    text = await volunteer.send(volunteer.updates.location(*at_venue, person=volunteer.person))
    assert "签退成功" in text
    return text


async def _confirm(staff: Chat, title: str) -> str:
    """The staff member confirms the activity's hours from its card; the card as shown."""
    await staff.say("/organizer")
    await staff.press("本组织活动")
    card = await staff.press(title)
    await staff.press("工时确认")
    assert "已确认 1 条服务记录" in await staff.press("全部确认")
    return card


async def _served_and_trained(db: Database, clock: FakeClock, volunteer: Chat, staff: Chat) -> World:
    """The volunteer on Telegram served 3.0 hours and completed a 3.0-hour safety training, confirmed."""
    world = await _world(db, clock, Channel.TELEGRAM, str(VOLUNTEER.id), "李志愿")
    text = await _attend_on_telegram(volunteer, clock, world.starts[world.service])
    assert "本次服务时长：在岗 3.0 小时" in text
    text = await _attend_on_telegram(volunteer, clock, world.starts[world.training])
    assert "本次培训时长：在岗 3.0 小时 × 系数 1 = 3.0 小时，待组织方确认后计入培训记录" in text
    assert "培训：" not in await _confirm(staff, SERVICE)
    assert "培训：安全培训" in await _confirm(staff, TRAINING)
    clock.advance(days=1)
    return world


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def _documents(fake_telegram: FakeTelegramAPI) -> list[tuple[str, bytes]]:
    """(caption, PDF bytes) of every document sent, oldest first."""
    found = []
    for call in fake_telegram.calls("sendDocument"):
        if call.ok:
            document = call.params["document"]
            assert isinstance(document, UploadedFile)
            found.append((call.result["caption"], document.data))
    return found


# ---- 1. hours: a training is listed as a training, not as service ------------------------------------


async def test_training_hours_are_not_service_hours_and_appear_as_trainings(db, clock, chat) -> None:
    volunteer = chat(VOLUNTEER)
    world = await _served_and_trained(db, clock, volunteer, chat(STAFF))

    text = await volunteer.say("/hours")
    assert "已确认：3.0 小时" in text and "待确认：0.0 小时" in text
    assert "星级：暂无" in text and "再服务 2 小时可达一星（累计 5 小时）。" in text  # 6 h would be a star
    assert f"✔ 2026-12-02 {SERVICE}：3.0 小时（已确认）" in text
    assert f"{TRAINING}：3.0 小时（已确认）" not in text  # not among the service lines
    assert "🎓 已完成的培训（1 次，不计入服务时长）：" in text
    assert f"✔ 2026-12-05 {TRAINING}（安全培训）：3.0 小时" in text
    assert text.index(SERVICE) < text.index("已完成的培训")  # service first, trainings below

    async with db.uow() as uow:
        assert await uow.records.confirmed_hours(world.volunteer_id) == Decimal("3.0")
        records = await uow.records.for_volunteer(world.volunteer_id)
        assert [r.status for r in records] == [RecordStatus.CONFIRMED, RecordStatus.CONFIRMED]
        keys = [n.message_key for n in await uow.notices.for_user(world.user_id)]
    assert "notice.record_confirmed" in keys and "trainings.notice.confirmed" in keys
    assert "notice.star_up" not in keys


async def test_a_training_hours_make_no_star_when_confirmed(db, clock, chat) -> None:
    """Only the training is confirmed: no service hours at all, whatever the training's length."""
    world = await _world(db, clock, Channel.TELEGRAM, str(VOLUNTEER.id), "李志愿")
    volunteer, staff = chat(VOLUNTEER), chat(STAFF)
    await _attend_on_telegram(volunteer, clock, world.starts[world.training])
    await _confirm(staff, TRAINING)

    text = await volunteer.say("/hours")
    assert "已确认：0.0 小时" in text and "还没有服务记录" in text
    assert f"✔ 2026-12-05 {TRAINING}（安全培训）：3.0 小时" in text


# ---- 2. certificates: which one, what each says, and verification ---------------------------------


async def test_certificate_asks_which_and_each_holds_only_its_own_hours(
    db, clock, chat, fake_telegram, app_client
) -> None:
    volunteer = chat(VOLUNTEER)
    world = await _served_and_trained(db, clock, volunteer, chat(STAFF))

    text = await volunteer.say("/certificate")
    assert text.startswith("要开具哪一种证明？")
    assert _documents(fake_telegram) == []  # nothing issued before the volunteer picks

    text = await volunteer.press("服务证明")
    assert "服务证明已开具（免费，CVST 4 5.5）。" in text and "已确认时长：3.0 小时" in text
    service_number = NUMBER.search(text).group(1)
    [(caption, data)] = _documents(fake_telegram)
    assert caption == f"志愿服务记录证明 {service_number}"
    pdf = _pdf_text(data)
    assert "志愿服务记录证明" in pdf and SERVICE in pdf and "3.0 小时" in pdf
    assert TRAINING not in pdf and "培训" not in pdf

    await volunteer.say("/certificate")
    text = await volunteer.press("培训证明")
    assert "培训证明已开具（免费，CVST 2 7.4）。" in text
    assert "已完成培训：1 次，共 3.0 小时" in text
    training_number = NUMBER.search(text).group(1)
    assert training_number != service_number
    assert f"任何人可在此核验：{PUBLIC_URL}/verify/{training_number}" in text
    (_, _), (caption, data) = _documents(fake_telegram)
    assert caption == f"科技志愿培训证明 {training_number}"
    pdf = _pdf_text(data)
    assert "科技志愿培训证明" in pdf and training_number in pdf
    assert TRAINING in pdf and "安全培训" in pdf and "李志愿" in pdf and "3.0 小时" in pdf
    assert SERVICE not in pdf and "CVST 2-7.4" in pdf

    await volunteer.say("/certificate")
    again = await volunteer.press("培训证明")  # nothing changed: the same certificate again
    assert NUMBER.search(again).group(1) == training_number

    page = await app_client.get(f"/verify/{training_number}")
    assert page.status == 200
    html = await page.text()
    assert "科技志愿培训证明核验" in html and "证书有效" in html
    assert "<dt>证明类型</dt><dd>科技志愿培训证明</dd>" in html
    assert TRAINING in html and "安全培训" in html and "李*愿" in html and "李志愿" not in html
    service = await (await app_client.get(f"/verify/{service_number}")).text()
    assert "<dt>证明类型</dt><dd>志愿服务记录证明</dd>" in service and TRAINING not in service

    async with db.uow() as uow:
        kinds = {c.number: c.kind for c in await uow.certificates.for_volunteer(world.volunteer_id)}
    assert kinds == {service_number: CertificateKind.SERVICE, training_number: CertificateKind.TRAINING}


async def test_revoked_training_certificate_says_so_on_its_verify_page(db, clock, chat, app_client) -> None:
    from core.services.certificates import revoke_certificate

    volunteer = chat(VOLUNTEER)
    await _served_and_trained(db, clock, volunteer, chat(STAFF))
    await volunteer.say("/certificate")
    number = NUMBER.search(await volunteer.press("培训证明")).group(1)
    async with db.uow() as uow:
        await revoke_certificate(uow, clock, await make_admin(uow, clock), number, "培训签到有误")
        await uow.commit()

    page = await app_client.get(f"/verify/{number}")
    assert page.status == 404
    html = await page.text()
    assert "证书已撤销" in html and "不再作为培训的证明" in html and "培训签到有误" in html
    assert TRAINING not in html


# ---- 3. WeChat (safe mode): the same, with the PDF behind a link --------------------------------


async def test_wechat_volunteer_sees_the_training_and_gets_its_certificate_by_link(
    db, clock, chat, wechat, messenger, app_client
) -> None:
    world = await _world(db, clock, Channel.WECHAT, WECHAT_OPENID, "周到")
    user, staff = wechat(WECHAT_OPENID), chat(STAFF)
    start = world.starts[world.training]
    gcj = prcoords.wgs_gcj(prcoords.Coords(*north_of(VENUE, 40)))  # what WeChat sends
    clock.set(start - timedelta(minutes=30))
    assert "签到成功" in await user.location(gcj.lat, gcj.lon)
    clock.set(start + timedelta(hours=3))
    assert "签退成功" in await user.location(gcj.lat, gcj.lon)
    await _confirm(staff, TRAINING)

    text = await user.say("/hours")
    assert "已确认：0.0 小时" in text
    assert f"✔ 2026-12-05 {TRAINING}（安全培训）：3.0 小时" in text

    text = await user.say("/certificate")
    assert text.startswith("要开具哪一种证明？") and "服务证明" in user.options()
    text = await user.pick("培训证明")
    assert "培训证明已开具（免费，CVST 2 7.4）。" in text
    number = NUMBER.search(text).group(1)
    link = re.search(rf"下载文件“{number}\.pdf”：(\S+)", text)
    assert link is not None, text
    download = await app_client.get(urlsplit(link.group(1)).path)
    assert download.status == 200
    pdf = _pdf_text(await download.read())
    assert "科技志愿培训证明" in pdf and TRAINING in pdf and "安全培训" in pdf and number in pdf

    html = await (await app_client.get(f"/verify/{number}")).text()
    assert "<dt>证明类型</dt><dd>科技志愿培训证明</dd>" in html and "周*" in html


# ---- 4. organizers: publishing, editing and the template ----------------------------------------


async def _org_with_staff(db: Database, clock: FakeClock) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, ORG)
        staff = await ensure_user(uow, clock, Channel.TELEGRAM, str(STAFF.id), language="zh_CN")
        await grant_role(uow, clock, Actor.system(), staff.id, Role.ORG_STAFF, org.id)
        await uow.commit()
    return org.id


async def _org_activities(db: Database, org_id: int) -> list[Any]:
    async with db.uow() as uow:
        found = await uow.activities.search(
            ActivityQuery(statuses=frozenset(ActivityStatus), org_ids=(org_id,))
        )
        return [(a.id, a.title, a.status, a.training_kind) for a in found]


async def test_organizer_publishes_a_training_through_the_chat_form(db, clock, chat) -> None:
    org_id = await _org_with_staff(db, clock)
    staff, volunteer = chat(STAFF), chat(VOLUNTEER)
    await staff.say("/organizer")
    assert "活动名称" in await staff.press("发布培训")
    await staff.say("新志愿者岗位培训")
    await staff.press("科普教育类")
    await staff.press("科技教育")
    await staff.press("线下")
    await staff.say("2026-12-10 09:00")
    await staff.say("11:30")
    await staff.press("其他地点")
    await staff.say("玄武区科技馆，南京市玄武区玄武巷 1 号")
    await staff.say("32.0415,118.7781")
    await staff.say("30")
    for answer in ("熟悉讲解岗位职责与流程", "岗位职责、讲解流程、安全须知", "新注册的科技志愿者", "午餐"):
        await staff.say(answer)
    text = await staff.say("无")
    assert "是否为志愿者培训" in text
    buttons = [b["text"] for row in staff.last[-1]["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["不是培训", "通用培训", "专业培训", "岗位培训", "安全培训"]
    assert "请点击上方的按钮选择" in await staff.say("培训吧")  # a button is asked for
    await staff.press("岗位培训")
    await staff.press("低")
    text = await staff.press("否")
    assert "请确认活动方案" in text and "名称：新志愿者岗位培训" in text and "培训：岗位培训" in text
    assert "已发布" in await staff.press("立即发布")

    [(activity_id, _, status, kind)] = await _org_activities(db, org_id)
    assert status is ActivityStatus.PUBLISHED and kind is TrainingKind.POST
    text = await volunteer.say(f"/start act-{activity_id}")
    assert "新志愿者岗位培训" in text and "培训：岗位培训" in text


async def test_an_activity_published_as_usual_is_no_training(db, clock, chat) -> None:
    """The usual form does not ask: a service activity stays a service activity."""
    org_id = await _org_with_staff(db, clock)
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("发布新活动")
    await staff.say("湿地科普讲解")
    await staff.press("科普教育类")
    await staff.press("场馆讲解")
    await staff.press("线下")
    await staff.say("2026-12-10 09:00")
    await staff.say("11:30")
    await staff.press("其他地点")
    await staff.say("玄武湖公园，南京市玄武区")
    await staff.say("32.0415,118.7781")
    for answer in ("20", "湿地科普", "讲解湿地生态", "游客", "午餐", "无"):
        text = await staff.say(answer)
    assert "是否为志愿者培训" not in text
    await staff.press("低")
    text = await staff.press("否")
    assert "培训：" not in text
    await staff.press("立即发布")
    [(_, _, _, kind)] = await _org_activities(db, org_id)
    assert kind is None


async def test_a_draft_is_made_a_training_by_editing_it(db, clock, chat) -> None:
    org_id = await _org_with_staff(db, clock)
    async with db.uow() as uow:
        await create_activity(
            uow, clock, await make_admin(uow, clock), activity_draft(org_id, clock, title="科普骨干培训")
        )
        await uow.commit()
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    assert "培训：" not in await staff.press("科普骨干培训")
    await staff.press("修改")
    text = await staff.press("是否为培训")
    assert "是否为志愿者培训" in text
    text = await staff.press("专业培训")
    assert "已修改" in text and "培训：专业培训" in text
    [(_, _, status, kind)] = await _org_activities(db, org_id)
    assert status is ActivityStatus.DRAFT and kind is TrainingKind.PROFESSIONAL

    await staff.press("修改")  # and back
    await staff.press("是否为培训")
    assert "培训：" not in await staff.press("不是培训")
    assert (await _org_activities(db, org_id))[0][3] is None


async def test_a_published_service_activity_offers_no_training_edit(db, clock, chat) -> None:
    """What volunteers signed up for stays what it was: a published activity is not made a training."""
    org_id = await _org_with_staff(db, clock)
    async with db.uow() as uow:
        await make_activity(uow, clock, await make_admin(uow, clock), org_id, title="科普讲座")
        await uow.commit()
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("本组织活动")
    await staff.press("科普讲座")
    await staff.press("修改")
    buttons = [b["text"] for row in staff.last[-1]["reply_markup"]["inline_keyboard"] for b in row]
    assert "是否为培训" not in buttons and "名额" in buttons


async def test_recorded_hours_fix_whether_it_is_a_training(db, clock, chat) -> None:
    world = await _world(db, clock, Channel.TELEGRAM, str(VOLUNTEER.id), "李志愿")
    await _attend_on_telegram(chat(VOLUNTEER), clock, world.starts[world.training])
    async with db.uow() as uow:
        admin = await make_admin(uow, clock)
        with pytest.raises(Conflict) as refused:
            await update_activity(uow, clock, admin, world.training, {"training_kind": None})
        assert refused.value.key == "trainings.kind_locked"
        # Another kind of training is refused too; the same kind is no change.
        with pytest.raises(Conflict):
            await update_activity(uow, clock, admin, world.training, {"training_kind": TrainingKind.GENERAL})
        await update_activity(uow, clock, admin, world.training, {"training_kind": TrainingKind.SAFETY})


async def test_the_template_takes_a_training_line(db, clock, chat) -> None:
    org_id = await _org_with_staff(db, clock)
    staff = chat(STAFF)
    await staff.say("/organizer")
    await staff.press("用模板创建活动")
    explanation, template = (m["text"] for m in staff.last)
    assert "是否为培训" in explanation and "岗位培训" in explanation
    assert "是否为培训" not in template  # a service activity unless the line is added

    text = await staff.say(template + "\n是否为培训：培训吧")
    assert "是否为培训：“培训吧”不是可选的值" in text
    text = await staff.say(
        template.replace("社区防诈骗科普讲座", "应急救护安全培训") + "\n是否为培训：安全培训"
    )
    assert "请确认活动方案" in text and "培训：安全培训" in text
    await staff.press("立即发布")
    [(_, title, _, kind)] = await _org_activities(db, org_id)
    assert title == "应急救护安全培训" and kind is TrainingKind.SAFETY

    await staff.say("/organizer")
    await staff.press("用模板创建活动")
    await staff.say(staff.last[-1]["text"].replace("社区防诈骗科普讲座", "社区科普讲座"))
    await staff.press("立即发布")
    kinds = {title: kind for _, title, _, kind in await _org_activities(db, org_id)}
    assert kinds["社区科普讲座"] is None
