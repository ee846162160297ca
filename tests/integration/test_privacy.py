"""PIPL arts. 45 and 47 in chat, through both real endpoints: a volunteer downloads everything kept
about them as a file, then leaves; their profile is erased, their coming sign-up cancelled (the
waitlist moves up), their chat account unlinked, and their records of service stay (4-5.4)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

from core.domain.attendance import RecordStatus
from core.domain.codes import Channel
from core.domain.people import ConsentKind
from core.domain.signup import SignupStatus
from core.domain.volunteer import VolunteerStatus
from core.policy import Policy
from core.services.access import load_actor
from core.services.needs import submit_need
from core.services.signups import sign_up
from core.services.users import ensure_user
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer
from storage.database import Database
from tests.builders import make_activity, make_org, make_record, make_staff, make_volunteer, need_form
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration.two_channels import PUBLIC_URL, app_client, chat, mode, settings, signer, wechat

__all__ = ["app_client", "chat", "mode", "settings", "signer", "wechat"]  # the real app with both channels

VOLUNTEER = Person(id=5_600_000_001, first_name="志愿者", language_code="zh-hans")
PHONE = "13912340001"


async def _world(db: Database, clock: FakeClock, channel: Channel, external_id: str) -> dict[str, int]:
    """A volunteer on ``channel`` with one confirmed record of a past activity and a place at a
    coming one that is full, with another volunteer waiting for it."""
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        staff = await make_staff(uow, clock, org.id or 0)
        user = await ensure_user(uow, clock, channel, external_id, language="zh_CN")
        assert user.id is not None
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        await give_consent(uow, clock, user.id, ConsentKind.LOCATION, policy=Policy())
        form = RegistrationForm(name="张三", phone=PHONE, region="江苏省南京市玄武区")
        volunteer = await register_volunteer(uow, clock, user.id, form, policy=Policy())
        actor = await load_actor(uow, user.id)
        past = await make_activity(uow, clock, staff, org.id or 0, title="家庭用电安全科普")
        record = await make_record(
            uow,
            clock,
            past,
            volunteer.id or 0,
            past.starts_at,
            status=RecordStatus.CONFIRMED,
            decided_by=staff.user_id,
        )
        coming = await make_activity(
            uow,
            clock,
            staff,
            org.id or 0,
            title="青少年科学实验开放日",
            capacity=1,
            starts_at=clock.now() + timedelta(days=10),
            ends_at=clock.now() + timedelta(days=10, hours=2),
        )
        signup = await sign_up(uow, clock, actor, coming.id or 0)
        _, other = await make_volunteer(uow, clock, name="王五")
        waiting = await sign_up(uow, clock, other, coming.id or 0, join_waitlist=True)
        await uow.commit()
    assert waiting.status is SignupStatus.WAITLISTED
    return {
        "user": user.id,
        "volunteer": volunteer.id or 0,
        "signup": signup.id or 0,
        "waiting": waiting.id or 0,
        "record": record.id or 0,
    }


async def _check_left(db: Database, channel: Channel, external_id: str, ids: dict[str, int]) -> None:
    async with db.uow() as uow:
        volunteer = await uow.volunteers.get(ids["volunteer"])
        assert volunteer is not None and volunteer.status is VolunteerStatus.CLEARED
        assert (volunteer.name, volunteer.phone, volunteer.region) == ("已注销", "", "")
        assert volunteer.id_number is None and volunteer.birth_date is None and volunteer.volunteer_number
        assert await uow.identities.get(channel, external_id) is None
        assert all(not c.active for c in await uow.consents.for_user(ids["user"]))
        signup = await uow.signups.get(ids["signup"])
        waiting = await uow.signups.get(ids["waiting"])
        assert signup is not None and signup.status is SignupStatus.CANCELLED
        assert waiting is not None and waiting.status is SignupStatus.CONFIRMED  # the waitlist moved up
        [record] = await uow.records.for_volunteer(ids["volunteer"])  # 4-5.4: kept, without the person
        assert record.id == ids["record"] and record.credited_hours == Decimal("3.0")
        assert [n for n in await uow.notices.for_user(ids["user"]) if n.pending] == []
        entries = await uow.audit.for_entity("user", ids["user"])
        assert [e.action for e in entries][-1] == "privacy.leave"
        assert PHONE not in json.dumps([e.details for e in entries], ensure_ascii=False)


async def test_telegram_my_data_as_a_file_then_leave(db, clock, chat, fake_telegram) -> None:
    ids = await _world(db, clock, Channel.TELEGRAM, str(VOLUNTEER.id))
    volunteer = chat(VOLUNTEER)

    await volunteer.say("/profile")
    text = await volunteer.press("我的数据与注销")
    assert "全部信息" in text and "个人信息保护法第45条" in text
    [sent] = [c for c in fake_telegram.calls("sendDocument") if c.ok and c.params["chat_id"] == VOLUNTEER.id]
    assert re.fullmatch(r"个人数据-\d{4}-\d{2}-\d{2}\.json", sent.params["document"].filename)
    data = json.loads(sent.params["document"].data)
    assert data["volunteer"]["name"] == "张三" and data["volunteer"]["phone"] == PHONE  # art. 45: in full
    assert [s["status"] for s in data["signups"]] == ["confirmed"]
    assert [r["credited_hours"] for r in data["service_records"]] == ["3.0"]
    assert {c["kind"] for c in data["consents"]} == {"privacy_notice", "location"}
    assert [(i["channel"], i["external_id"]) for i in data["channel_identities"]] == [
        ("telegram", str(VOLUNTEER.id))
    ]

    text = await volunteer.press("注销账号")
    assert "1 条服务记录" in text and "不可撤销" in text and "4-5.4" in text
    text = await volunteer.press("确认注销")
    assert "已注销" in text and "已取消 1 个报名" in text and "1 条服务记录匿名保留" in text
    await _check_left(db, Channel.TELEGRAM, str(VOLUNTEER.id), ids)

    # Writing again starts afresh: a new person, asked to register.
    text = await volunteer.say("/start")
    assert "张三" not in text and ("注册" in text or "语言" in text or "Language" in text)


async def test_wechat_my_data_by_link_then_leave(db, clock, wechat, app_client) -> None:
    openid = "o_privacy_wechat_1"
    ids = await _world(db, clock, Channel.WECHAT, openid)
    user = wechat(openid)

    text = await user.say("/mydata")
    found = re.search(rf"{re.escape(PUBLIC_URL)}(/media/\S+)", text)
    assert found, text
    response = await app_client.get(found.group(1))
    assert response.status == 200
    data = json.loads(await response.read())
    assert data["volunteer"]["phone"] == PHONE and data["service_records"][0]["status"] == "confirmed"

    text = await user.pick("注销账号")
    assert "1 条服务记录" in text
    text = await user.pick("确认注销")
    assert "已注销" in text
    await _check_left(db, Channel.WECHAT, openid, ids)


async def test_leaving_needs_no_registration_and_erases_a_requesters_phone(db, clock, chat) -> None:
    """A beneficiary who sent a need and never registered may leave too: the need stays, its phone
    and name do not."""
    person = Person(id=5_600_000_009, first_name="需求方", language_code="zh-hans")
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(person.id), language="zh_CN")
        assert user.id is not None
        await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=Policy())
        form = need_form(
            requester="玄武区某村委会",
            description="果树病虫害防治指导",
            service_objects=("concrete_needs",),
            place="玄武区红山街道",
        )
        need = await submit_need(uow, clock, user.id, form)
        await uow.commit()
    need_id = need.id or 0
    requester = chat(person)
    text = await requester.say("/leave")
    assert "0 条服务记录" in text
    await requester.press("确认注销")
    async with db.uow() as uow:
        need = await uow.needs.get(need_id)
        assert need is not None and need.phone == "" and need.requester == "已注销"
        assert await uow.identities.get(Channel.TELEGRAM, str(person.id)) is None
