"""Forged buttons and deep links: a Telegram callback or a WeChat message carrying someone else's ids (a
sign-up of another volunteer, a record, make-up request, activity, need or complaint of another org, an
activity that does not exist) is refused the way a stale button is: one refusal that says why, a button
back to the menu, nothing written, no question left waiting, and the dialog still usable (/cancel). The
real webhooks, with crafted callback_query payloads and crafted QR scenes and typed commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.domain.activity import ActivityStatus
from core.domain.attendance import MakeupStatus, RecordStatus
from core.domain.codes import Channel
from core.domain.people import Actor, ConsentKind, Role
from core.domain.signup import SignupStatus
from core.policy import Policy
from core.services.access import load_actor
from core.services.activities import create_activity
from core.services.feedback import file_complaint
from core.services.needs import submit_need
from core.services.records import request_makeup
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership
from locales import translator
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_org, make_record, need_form
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.test_telegram_webhook import Chat
from tests.integration.two_channels import app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]  # the fixtures, imported

STAFF_A = Person(id=5_100_000_001, first_name="甲队组织者")
STAFF_B = Person(id=5_100_000_002, first_name="乙队组织者")
VOLUNTEER_V = Person(id=5_100_000_003, first_name="志愿者甲")
VOLUNTEER_W = Person(id=5_100_000_004, first_name="志愿者乙")
STAFF_B_WECHAT = "o_forged_staff_b"
VOLUNTEER_W_WECHAT = "o_forged_volunteer_w"
POLICY = Policy()
zh = translator("zh_CN")
MENU = zh("chat.button.menu")


@dataclass(frozen=True)
class Situation:
    """Org A's activities, people and records; staff of sibling org B; volunteer W of B."""

    draft: int
    upcoming: int
    past: int
    signup_v: int  # V's sign-up for the upcoming activity
    record: int  # V's pending record of the past activity
    makeup: int  # V's pending make-up request
    need: int  # addressed to A
    complaint: int  # about A's upcoming activity


async def _person(uow: Any, clock: FakeClock, channel: Channel, external_id: str) -> int:
    user = await ensure_user(uow, clock, channel, external_id)
    assert user.id is not None
    return user.id


async def _volunteer(
    uow: Any, clock: FakeClock, channel: Channel, external_id: str, org_id: int, n: int
) -> Actor:
    user_id = await _person(uow, clock, channel, external_id)
    await give_consent(uow, clock, user_id, ConsentKind.PRIVACY_NOTICE, policy=POLICY)
    form = RegistrationForm(
        name="张李王"[n - 1] + "志愿", phone=f"1391234567{n}", region="江苏省南京市鼓楼区"
    )
    await register_volunteer(uow, clock, user_id, form, policy=POLICY)
    actor = await load_actor(uow, user_id)
    await request_membership(uow, clock, actor, org_id)
    return actor


async def _situation(db: Database, clock: FakeClock) -> Situation:
    now = clock.now()
    clock.set(now - timedelta(days=10))
    async with db.uow() as uow:
        p = await make_org(uow, clock, "江苏省科协科技志愿服务总队")
        a = await make_org(uow, clock, "南京市鼓楼区科普志愿服务队", parent_id=p.id)
        b = await make_org(uow, clock, "南京市玄武区科普志愿服务队", parent_id=p.id)
        assert a.id is not None and b.id is not None
        for external_id, channel, org_id in (
            (str(STAFF_A.id), Channel.TELEGRAM, a.id),
            (str(STAFF_B.id), Channel.TELEGRAM, b.id),
            (STAFF_B_WECHAT, Channel.WECHAT, b.id),
        ):
            user_id = await _person(uow, clock, channel, external_id)
            await grant_role(uow, clock, Actor.system(), user_id, Role.ORG_STAFF, org_id)
        staff_a = await load_actor(uow, await _person(uow, clock, Channel.TELEGRAM, str(STAFF_A.id)))
        v = await _volunteer(uow, clock, Channel.TELEGRAM, str(VOLUNTEER_V.id), a.id, 1)
        await _volunteer(uow, clock, Channel.TELEGRAM, str(VOLUNTEER_W.id), b.id, 2)
        await _volunteer(uow, clock, Channel.WECHAT, VOLUNTEER_W_WECHAT, b.id, 3)
        hours = timedelta(hours=3)
        past = await make_activity(
            uow,
            clock,
            staff_a,
            a.id,
            title="防诈骗讲座",
            starts_at=now - timedelta(days=3),
            ends_at=now - timedelta(days=3) + hours,
        )
        past2 = await make_activity(
            uow,
            clock,
            staff_a,
            a.id,
            title="科普展",
            starts_at=now - timedelta(days=2),
            ends_at=now - timedelta(days=2) + hours,
        )
        assert past.id is not None and past2.id is not None and v.volunteer_id is not None
        await sign_up(uow, clock, v, past.id)
        await sign_up(uow, clock, v, past2.id)
        clock.set(now)
        upcoming = await make_activity(uow, clock, staff_a, a.id, title="青少年科学实验")
        draft = await create_activity(uow, clock, staff_a, activity_draft(a.id, clock, title="草稿活动"))
        assert upcoming.id is not None and draft.id is not None
        signup = await sign_up(uow, clock, v, upcoming.id)
        record = await make_record(uow, clock, past, v.volunteer_id, past.starts_at)
        makeup = await request_makeup(
            uow, clock, POLICY, v, past2.id, past2.starts_at, past2.ends_at, "定位失败"
        )
        requester = await _person(uow, clock, Channel.WECHAT, "o_forged_requester")
        await give_consent(uow, clock, requester, ConsentKind.PRIVACY_NOTICE, policy=POLICY)
        need = await submit_need(
            uow,
            clock,
            requester,
            need_form(a.id),
        )
        complaint = await file_complaint(
            uow, clock, POLICY, v.user_id or 0, "讲座迟到", activity_id=upcoming.id
        )
        situation = Situation(
            draft=draft.id,
            upcoming=upcoming.id,
            past=past.id,
            signup_v=signup.id or 0,
            record=record.id or 0,
            makeup=makeup.id or 0,
            need=need.id or 0,
            complaint=complaint.id or 0,
        )
        await uow.commit()
    return situation


async def _nothing_changed(db: Database, s: Situation) -> None:
    async with db.uow() as uow:
        for activity_id, status in (
            (s.draft, ActivityStatus.DRAFT),
            (s.upcoming, ActivityStatus.PUBLISHED),
        ):
            activity = await uow.activities.get(activity_id)
            assert activity is not None and activity.status is status
        signup = await uow.signups.get(s.signup_v)
        assert signup is not None and signup.status is SignupStatus.CONFIRMED
        record = await uow.records.get(s.record)
        assert record is not None and record.status is RecordStatus.PENDING
        makeup = await uow.makeups.get(s.makeup)
        assert makeup is not None and makeup.status is MakeupStatus.PENDING
        need = await uow.needs.get(s.need)
        assert need is not None and need.status.value == "submitted"
        complaint = await uow.feedback.get(s.complaint)
        assert complaint is not None and complaint.open
        assert await uow.attendances.for_activity(s.upcoming) == []
        # No call for volunteers, edit or cancellation was made in A's name.
        done = [e.action for e in await uow.audit.for_entity("activity", s.upcoming)]
        assert done == ["activity.create", "activity.publish"], done


# The buttons that, pressed by the right person, ask a question (a reason, hours, a reply, a new value).
ASKS = ("rc.v:", "mk.p:", "mk.r:", "oa.cx:", "oa.ef:", "fbl.r:", "nd.r:")


async def _press_forged(chat: Chat, payload: str, refusal_key: str) -> None:
    """One crafted press: refused with why, a way back to the menu, and no question left waiting."""
    text = await chat.send(chat.updates.callback(payload, person=chat.person))
    assert zh(refusal_key) in text, f"{payload}: {text!r}"
    buttons = [
        b["text"]
        for m in chat.last
        for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    ]
    assert MENU in buttons, f"{payload}: {buttons}"
    if not payload.startswith(ASKS):
        return
    # A text now is no answer to any question (a reason, a reply): the dialog has no step open.
    follow = await chat.say("不同意，理由：无")
    assert zh("chat.not_understood") in follow, f"after {payload}: {follow!r}"


async def test_staff_of_another_org_pressing_forged_staff_buttons_are_refused(db, clock, chat) -> None:
    s = await _situation(db, clock)
    staff_b = chat(STAFF_B)
    await staff_b.say("/cancel")  # staff, not a volunteer: out of the registration /start offers
    not_staff = "access.not_staff"
    cases = [
        (f"rc.c:{s.record}", not_staff),  # approve hours of A's activity
        (f"rc.all:{s.past}", not_staff),
        (f"rc.v:{s.record}", not_staff),  # void a record: the reason is never asked
        (f"rc:{s.past}", not_staff),
        (f"mk.o:{s.makeup}", not_staff),  # a make-up decision of another org
        (f"mk.a:{s.makeup}", not_staff),
        (f"mk.p:{s.makeup}", not_staff),
        (f"mk.r:{s.makeup}", not_staff),
        (f"mk.ph:{s.makeup}", not_staff),
        (f"oa:{s.upcoming}", not_staff),
        (f"oa.pub:{s.draft}", not_staff),
        (f"oa.cx:{s.upcoming}", not_staff),  # cancel: the reason is never asked
        (f"oa.ed:{s.upcoming}", not_staff),
        (f"oa.ef:{s.upcoming}.time", not_staff),
        (f"oa.sl:{s.upcoming}", not_staff),  # the sign-up list with phone numbers
        (f"oa.exp:{s.upcoming}", not_staff),
        (f"oa.att:{s.upcoming}", not_staff),
        (f"oa.mk:{s.signup_v}.0", not_staff),  # mark V absent
        (f"oa.mk:{s.signup_v}.1", not_staff),  # check V in
        (f"oa.code:{s.upcoming}", not_staff),
        (f"oa.bc:{s.upcoming}", not_staff),
        (f"oa.bcs:{s.upcoming}", not_staff),  # the call for volunteers
        (f"stats:{s.upcoming}", not_staff),
        (f"rp:{s.past}", not_staff),
        (f"a.sqr:{s.upcoming}", "chat.qr.not_staff"),
        (f"fbl.o:{s.complaint}", not_staff),
        (f"fbl.r:{s.complaint}", not_staff),  # answer a complaint about A
        (f"nd.o:{s.need}", "need.not_reviewer"),
        (f"nd.a:{s.need}", "need.not_reviewer"),  # approve a need addressed to A
        (f"nd.r:{s.need}", "need.not_reviewer"),
        (f"s.cc:{s.signup_v}", "signup.not_yours"),  # cancel V's sign-up
    ]
    for payload, key in cases:
        await _press_forged(staff_b, payload, key)
    await _nothing_changed(db, s)
    assert zh("chat.cancelled") in await staff_b.say("/cancel")


async def test_volunteers_pressing_forged_buttons_are_refused(db, clock, chat) -> None:
    s = await _situation(db, clock)
    w = chat(VOLUNTEER_W)  # another volunteer, of org B
    v = chat(VOLUNTEER_V)  # the volunteer whose sign-up, record and make-up these are
    await w.say("/start")
    await v.say("/start")
    for payload, key in [
        (f"s.cc:{s.signup_v}", "signup.not_yours"),  # cancel another person's sign-up
        (f"bf.y:{s.signup_v}", "signup.not_yours"),  # confirm another person's briefing
        (f"bf.nn:{s.signup_v}", "signup.not_yours"),
        (f"rc.c:{s.record}", "access.not_staff"),
        (f"mk.a:{s.makeup}", "access.not_staff"),
        (f"oa.pub:{s.draft}", "access.not_staff"),
    ]:
        await _press_forged(w, payload, key)
    # The one whose hours they are may not approve them, nor their own make-up: only staff.
    for payload in (f"rc.c:{s.record}", f"rc.v:{s.record}", f"mk.a:{s.makeup}", f"mk.r:{s.makeup}"):
        await _press_forged(v, payload, "access.not_staff")
    # Stale-looking (another's) ask-to-cancel buttons say the sign-up is not found, as an old one does.
    text = await w.send(w.updates.callback(f"s.c:{s.signup_v}", person=w.person))
    assert zh("signup.not_found") in text
    await _nothing_changed(db, s)


async def test_forged_ids_out_of_range_and_deep_links_to_nothing_are_answered(db, clock, chat) -> None:
    s = await _situation(db, clock)
    w = chat(VOLUNTEER_W)
    await w.say("/start")
    # Ids no row has: the stale-button answer, or "not found"; never an error.
    text = await w.send(w.updates.callback("rc.c:99999999999", person=w.person))
    assert zh("chat.button_expired") in text
    for payload, key in (("mk.a:987654", "makeup.not_found"), ("oa.pub:987654", "activity.not_found")):
        text = await w.send(w.updates.callback(payload, person=w.person))
        assert zh(key) in text, (payload, text)
    text = await w.say("/start survey-987654")  # a survey deep link for an activity that does not exist
    assert zh("activity.not_found") in text
    text = await w.say(f"/start vsurvey-{s.past}")  # the volunteers' survey of an activity W was not at
    assert "没有参加" in text or zh("survey.not_participant", title="防诈骗讲座") in text
    assert zh("chat.cancelled") in await w.say("/cancel")
    await _nothing_changed(db, s)


async def test_forged_wechat_scans_and_commands_are_refused(db, clock, wechat) -> None:
    s = await _situation(db, clock)
    w = wechat(VOLUNTEER_W_WECHAT)
    assert zh("activity.not_found") in await w.scan("survey-987654")
    assert "防诈骗讲座" in await w.scan(f"vsurvey-{s.past}")  # refused: W did not take part
    assert zh("survey.not_participant", title="防诈骗讲座") in w.last
    assert zh("activity.not_found") in await w.say("/start act-987654")
    staff_b = wechat(STAFF_B_WECHAT)
    assert zh("chat.qr.not_staff") in await staff_b.say(f"/qr act-{s.upcoming}")
    assert zh("access.not_staff") in await staff_b.say(f"/stats act-{s.upcoming}")
    assert zh("chat.cancelled") in await staff_b.say("/cancel")
    await _nothing_changed(db, s)
