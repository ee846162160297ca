"""Complaints (1-6.1.2 d, 2-8.2, 5-5.4.1, 1-8) on both databases, through the real Telegram webhook and
the real WeChat endpoint (safe mode): filed from an activity's card, the end of its survey or the menu,
told to the responsible org's staff, escalated once to the org above when unanswered past the response
time (the fake clock moves past it), answered there, and the sender told at every step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.domain.signup import Signup, SignupStatus
from core.policy import Policy
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from locales import translator
from scheduler.jobs import run_job
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.test_telegram_webhook import Chat
from tests.integration.two_channels import app_client, chat, messenger, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "messenger", "mode", "settings", "signer", "wechat"]

BRIGADE = "南京市科技志愿服务总队"
TEAM = "南京市玄武区科技志愿服务队"
OTHER = "南京市鼓楼区科技志愿服务队"
TITLE = "玄武湖科普讲解"
TEAM_STAFF = Person(id=5_500_000_001, first_name="队员", language_code="zh-hans")
PARENT_STAFF = Person(id=5_500_000_002, first_name="总队", language_code="zh-hans")
OTHER_STAFF = Person(id=5_500_000_003, first_name="鼓楼", language_code="zh-hans")
SENDER = Person(id=5_500_000_004, first_name="投诉人", language_code="zh-hans")
BENEFICIARY = Person(id=5_500_000_005, first_name="居民", language_code="zh-hans")
SERVED_NAME = "周志愿"
WECHAT_SENDER = "oComplaintSender000000000001"
T = translator("zh_CN")


@dataclass
class World:
    activity_id: int
    brigade: int
    team: int
    users: dict[str, int]


async def _user(uow: Any, clock: FakeClock, channel: Channel, external_id: str) -> int:
    user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
    return user.id


async def _volunteer(
    uow: Any, clock: FakeClock, channel: Channel, external_id: str, name: str, phone: str
) -> int:
    user_id = await _user(uow, clock, channel, external_id)
    await give_consent(uow, clock, user_id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
    form = RegistrationForm(name=name, phone=phone, region="江苏省南京市", birth_date=date(1990, 1, 1))
    volunteer = await register_volunteer(uow, clock, user_id, form, policy=Policy())
    return volunteer.id


async def _world(db: Database, clock: FakeClock) -> World:
    """A team under a brigade, and another team; the team's activity tomorrow 09:00–12:00 with one
    volunteer (周志愿) confirmed; staff of each org and a registered sender on Telegram."""
    starts = clock.now() + timedelta(days=1)
    users: dict[str, int] = {}
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        team = await make_org(uow, clock, TEAM, parent_id=brigade.id)
        other = await make_org(uow, clock, OTHER, parent_id=brigade.id)
        admin = await make_admin(uow, clock)
        activity = await make_activity(
            uow, clock, admin, team.id, title=TITLE, starts_at=starts, ends_at=starts + timedelta(hours=3)
        )
        for key, person, org in (
            ("team", TEAM_STAFF, team),
            ("parent", PARENT_STAFF, brigade),
            ("other", OTHER_STAFF, other),
        ):
            users[key] = await _user(uow, clock, Channel.TELEGRAM, str(person.id))
            await grant_role(uow, clock, Actor.system(), users[key], Role.ORG_STAFF, org.id)
        await _volunteer(uow, clock, Channel.TELEGRAM, str(SENDER.id), "吴投诉", "13900002221")
        users["sender"] = (await uow.users.by_identity(Channel.TELEGRAM, str(SENDER.id))).id
        served = await _volunteer(uow, clock, Channel.TELEGRAM, "served-1", SERVED_NAME, "13900002222")
        await uow.signups.add(Signup(activity.id, served, SignupStatus.CONFIRMED, clock.now()))
        await uow.commit()
    return World(activity.id, brigade.id, team.id, users)


async def _notices(db: Database, user_id: int) -> list[SimpleNamespace]:
    async with db.uow() as uow:
        return [
            SimpleNamespace(key=n.key, message_key=n.message_key, params=dict(n.params), choices=n.choices)
            for n in await uow.notices.for_user(user_id)
        ]


async def _feedback(db: Database, number: int) -> SimpleNamespace:
    async with db.uow() as uow:
        item = await uow.feedback.get(number)
        assert item is not None
        return SimpleNamespace(**{k: v for k, v in vars(item).items() if not k.startswith("_")})


def _number(text: str) -> int:
    marker = "编号 "
    return int(text.split(marker, 1)[1].split("，", 1)[0])


async def _complain_from_the_card(sender: Chat, world: World, text: str) -> int:
    card = await sender.say(f"/start act-{world.activity_id}")
    assert TITLE in card
    prompt = await sender.press("投诉")
    assert f"投诉活动“{TITLE}”：是关于活动本身，还是关于参加活动的某位志愿者？" in prompt
    prompt = await sender.press("关于活动本身")
    assert f"投诉对象：{TITLE}" in prompt and "例如：" in prompt
    answer = await sender.say(text)
    assert f"已转交“{TEAM}”处理" in answer and "72 小时内未答复的，将上报其上级组织" in answer
    return _number(answer)


async def test_a_complaint_from_the_card_reaches_the_organizing_orgs_staff_only(db, clock, chat) -> None:
    world = await _world(db, clock)
    sender = chat(SENDER)
    await sender.say(f"/start act-{world.activity_id}")
    assert "投诉" not in " ".join(
        b["text"] for m in sender.last for r in m["reply_markup"]["inline_keyboard"] for b in r
    )

    clock.advance(days=1, hours=1)  # the activity has begun: the card offers 投诉
    number = await _complain_from_the_card(sender, world, "活动推迟了一小时开始，现场没有人说明原因")

    item = await _feedback(db, number)
    assert (item.kind, item.activity_id, item.org_id, item.volunteer_id) == (
        "complaint",
        world.activity_id,
        world.team,
        None,
    )
    assert item.user_id == world.users["sender"] and item.escalated_at is None and item.replied_at is None
    [told] = await _notices(db, world.users["team"])
    assert (
        told.key == f"complaint:{number}:{world.users['team']}" and told.message_key == "notice.complaint_new"
    )
    text = T(told.message_key, **told.params)
    assert (
        f"收到一条投诉（编号 {number}，{TEAM}）" in text
        and "活动推迟了一小时开始" in text
        and "72 小时" in text
    )
    assert told.choices == [["complaint.button.open", f"fbl.o:{number}"]]
    assert await _notices(db, world.users["parent"]) == []  # not yet: only when it escalates
    assert await _notices(db, world.users["other"]) == []

    other = chat(OTHER_STAFF)
    assert "没有待回复" in await other.say("/feedbacklist")


async def test_unanswered_past_the_response_time_it_escalates_once_and_the_parent_answers(
    db, clock, chat
) -> None:
    world = await _world(db, clock)
    clock.advance(days=1, hours=1)
    sender = chat(SENDER)
    number = await _complain_from_the_card(sender, world, "讲解员态度很差，不回答居民的问题")
    filed = clock.now()

    clock.set(filed + timedelta(hours=71, minutes=59))
    assert await run_job("complaints-escalate", db.uow, clock, Policy()) == 0
    assert (await _feedback(db, number)).escalated_at is None

    clock.set(filed + timedelta(hours=72, minutes=1))  # 1-8: past the 72 hours, up to the brigade
    assert await run_job("complaints-escalate", db.uow, clock, Policy()) == 1
    item = await _feedback(db, number)
    assert item.escalated_at == clock.now() and item.escalated_org_id == world.brigade
    [up] = await _notices(db, world.users["parent"])
    assert up.message_key == "notice.complaint_escalated_staff"
    assert f"在“{TEAM}”超过 72 小时未答复" in T(up.message_key, **up.params)
    told = [
        n for n in await _notices(db, world.users["sender"]) if n.message_key.startswith("notice.complaint")
    ]
    assert [n.message_key for n in told] == ["notice.complaint_escalated"]
    assert f"已上报给上级组织“{BRIGADE}”" in T(told[0].message_key, **told[0].params)

    clock.advance(hours=1)  # once only: a later run finds nothing, and nobody is told twice
    assert await run_job("complaints-escalate", db.uow, clock, Policy()) == 0
    assert len(await _notices(db, world.users["parent"])) == 1

    parent = chat(PARENT_STAFF)
    listing = await parent.say("/feedbacklist")
    assert "待回复的意见反馈" in listing
    card = await parent.press("【投诉】")
    assert f"投诉对象：活动“{TITLE}”" in card and f"上报：{BRIGADE}" in card and "逾期未答复" in card
    await parent.press("回复")
    done = await parent.say("已核实并批评教育相关志愿者，感谢监督。")
    assert f"已回复反馈 #{number}" in done
    item = await _feedback(db, number)
    assert item.reply == "已核实并批评教育相关志愿者，感谢监督。" and item.replied_at == clock.now()
    answered = [
        n for n in await _notices(db, world.users["sender"]) if n.message_key == "notice.complaint_answered"
    ]
    assert len(answered) == 1 and "感谢监督" in T("notice.complaint_answered", **answered[0].params)

    clock.advance(hours=100)  # answered: never escalated again
    assert await run_job("complaints-escalate", db.uow, clock, Policy()) == 0


async def test_a_beneficiary_complains_about_a_volunteer_at_the_end_of_the_survey(db, clock, chat) -> None:
    world = await _world(db, clock)
    clock.advance(days=1, hours=4)  # the activity has ended
    beneficiary = chat(BENEFICIARY)
    await beneficiary.say(f"/start survey-{world.activity_id}")
    for _ in range(5):
        await beneficiary.press("3")
    thanks = await beneficiary.press("跳过")
    assert "投诉" in [
        b["text"] for m in beneficiary.last for r in m["reply_markup"]["inline_keyboard"] for b in r
    ]
    await beneficiary.press("投诉")
    asked = await beneficiary.press("关于某位志愿者")
    assert "请输入这位志愿者的姓名" in asked and "例如：李明" in asked
    refused = await beneficiary.say("王不在")
    assert "活动的参加者中没有名为“王不在”的志愿者" in refused and "请核对姓名后重新输入" in refused
    asked = await beneficiary.say(SERVED_NAME)
    assert f"投诉对象：志愿者 {SERVED_NAME}（活动“{TITLE}”）" in asked
    empty = await beneficiary.say("   ")
    assert "请写下您的投诉内容" in empty
    answer = await beneficiary.say("讲解时一直玩手机")
    number = _number(answer)
    assert thanks  # the survey was answered first
    item = await _feedback(db, number)
    async with db.uow() as uow:
        served = await uow.volunteers.read(item.volunteer_id)
    assert served.name == SERVED_NAME and item.activity_id == world.activity_id and item.org_id == world.team


async def test_wechat_complaint_from_the_menu_about_an_activity_by_its_number(db, clock, wechat) -> None:
    world = await _world(db, clock)
    clock.advance(days=1, hours=4)
    async with db.uow() as uow:
        await _volunteer(uow, clock, Channel.WECHAT, WECHAT_SENDER, "郑投诉", "13900002223")
        await uow.commit()
    user = wechat(WECHAT_SENDER)
    prompt = await user.say("/feedback")
    assert "我要投诉" in user.options()
    assert "例如" in prompt
    await user.pick("我要投诉")
    assert "关于某个活动（输入编号）" in user.options() and "其他（由平台处理）" in user.options()
    await user.pick("关于某个活动")
    refused = await user.say("第十二个")
    assert "没有找到编号为“第十二个”的活动" in refused and "例如：12" in refused
    await user.say(str(world.activity_id))
    await user.pick("关于活动本身")
    answer = await user.say("现场没有饮用水")
    number = _number(answer)
    assert f"已转交“{TEAM}”处理" in answer
    item = await _feedback(db, number)
    assert (item.kind, item.activity_id, item.org_id) == ("complaint", world.activity_id, world.team)
