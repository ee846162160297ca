"""3-6.1.3.1: a qualification goes on record when staff have seen the certificate; an activity that
needs it then takes the volunteer. The service on both databases, then the journey in Telegram (zh,
en) and WeChat (numbered options)."""

from __future__ import annotations

import pytest

from core.domain.codes import Channel, Qualification
from core.domain.people import Actor, Role
from core.errors import InvalidInput, NotEligible, NotFound, PermissionDenied
from core.services.signups import sign_up
from core.services.users import ensure_user, grant_role
from core.services.volunteers import record_qualification
from storage.database import Database
from tests.builders import make_activity, make_admin, make_org, make_staff, make_volunteer
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_updates import Person
from tests.integration import test_telegram_webhook as telegram
from tests.integration.test_telegram_webhook import VOLUNTEER_ZH, _register

chat = telegram.chat
updates = telegram.updates

DOCTOR = Qualification.MEDICAL_PRACTITIONER.value


async def test_staff_record_a_qualification_and_the_refused_sign_up_then_goes_through(
    db: Database, clock: FakeClock
) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        other = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        clinic = await make_activity(uow, clock, admin, org.id, required_qualifications=[DOCTOR])
        volunteer, actor = await make_volunteer(uow, clock)
        staff = await make_staff(uow, clock, other.id)  # staff of another org: they saw the certificate
        await uow.commit()
    assert volunteer.id is not None and clinic.id is not None

    async with db.uow() as uow:
        with pytest.raises(NotEligible) as refused:
            await sign_up(uow, clock, actor, clinic.id)
        assert refused.value.key == "signup.qualification_missing"
        with pytest.raises(PermissionDenied):  # a volunteer cannot vouch for themselves
            await record_qualification(uow, clock, actor, volunteer.id, DOCTOR, held=True)
        with pytest.raises(InvalidInput):
            await record_qualification(uow, clock, staff, volunteer.id, "wizard", held=True)
        with pytest.raises(NotFound):
            await record_qualification(uow, clock, staff, 10**6, DOCTOR, held=True)
        await record_qualification(uow, clock, staff, volunteer.id, DOCTOR, held=True)
        await record_qualification(uow, clock, staff, volunteer.id, DOCTOR, held=True)  # pressed twice
        await uow.commit()

    async with db.uow() as uow:
        stored = await uow.volunteers.get(volunteer.id)
        assert stored is not None and stored.qualifications == [DOCTOR]
        entries = await uow.audit.for_entity("volunteer", volunteer.id)
        recorded = [e for e in entries if e.action == "volunteer.qualification.record"]
        assert len(recorded) == 1 and recorded[0].actor_user_id == staff.user_id
        assert recorded[0].details["qualification"] == DOCTOR
        notices = await uow.notices.for_user(actor.user_id)
        assert [n.message_key for n in notices] == ["notice.qualification.recorded"]
        signup = await sign_up(uow, clock, actor, clinic.id)
        assert signup.status.value == "confirmed"
        await uow.commit()

    async with db.uow() as uow:  # it lapses: taken off, and the volunteer is told again
        await record_qualification(uow, clock, staff, volunteer.id, DOCTOR, held=False)
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.volunteers.get(volunteer.id)
        assert stored is not None and stored.qualifications == []
        notices = await uow.notices.for_user(actor.user_id)
        assert [n.message_key for n in notices][-1] == "notice.qualification.withdrawn"


STAFF_ZH = Person(id=5_000_000_019, first_name="组织者", language_code="zh-hans")


async def _telegram_staff(db: Database, clock: FakeClock, person: Person, language: str) -> None:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市鼓楼区科技志愿服务队")
        user = await ensure_user(uow, clock, Channel.TELEGRAM, str(person.id), language=language)
        assert user.id is not None and org.id is not None
        await grant_role(uow, clock, Actor.system(), user.id, Role.ORG_STAFF, org.id)
        await uow.commit()


async def _number_of(db: Database, person: Person) -> str:
    async with db.uow() as uow:
        user = await uow.users.by_identity(Channel.TELEGRAM, str(person.id))
        assert user is not None and user.id is not None
        volunteer = await uow.volunteers.by_user(user.id)
        assert volunteer is not None and volunteer.volunteer_number is not None
        return volunteer.volunteer_number


async def _clinic(db: Database, clock: FakeClock) -> int:
    async with db.uow() as uow:
        org = await make_org(uow, clock, "南京市玄武区科技志愿服务队")
        admin = await make_admin(uow, clock)
        clinic = await make_activity(
            uow, clock, admin, org.id, title="社区义诊", required_qualifications=[DOCTOR]
        )
        await uow.commit()
    assert clinic.id is not None
    return clinic.id


async def test_in_telegram_an_organizer_records_what_the_refusal_asked_for(db, clock, chat) -> None:
    clinic_id = await _clinic(db, clock)
    volunteer = chat(VOLUNTEER_ZH)
    await _register(volunteer, "13812345678")
    await volunteer.send(volunteer.updates.start(f"act-{clinic_id}", person=VOLUNTEER_ZH))
    refusal = await volunteer.press("我要报名")
    assert "执业医师" in refusal and "志愿者编号" in refusal
    number = await _number_of(db, VOLUNTEER_ZH)
    assert number in await volunteer.say("/profile")

    await _telegram_staff(db, clock, STAFF_ZH, "zh_CN")
    staff = chat(STAFF_ZH)
    await staff.say("/organizer")
    assert "例如：KJ20260000123" in await staff.press("登记资质")
    assert "没有找到编号为 KJ0000 的在册志愿者" in await staff.say("KJ0000")
    card = await staff.say(number.lower())  # typed as it comes
    assert "志愿者：张三" in card and "138****5678" in card and "已登记资质：-" in card
    assert "已为 张三 登记资质：执业医师。" in await staff.press("＋ 执业医师")
    assert "已登记资质：执业医师" in staff.text
    assert any(
        "✓ 执业医师" in b["text"] for row in staff.last[-1]["reply_markup"]["inline_keyboard"] for b in row
    )

    assert "资质（经组织核验）：执业医师" in await volunteer.say("/profile")
    await volunteer.send(volunteer.updates.start(f"act-{clinic_id}", person=VOLUNTEER_ZH))
    assert "报名成功" in await volunteer.press("我要报名")

    await staff.press("✓ 执业医师")
    assert "已撤销 张三 的资质：执业医师。" in staff.text and "已登记资质：-" in staff.text


async def test_a_volunteer_cannot_open_the_qualification_tool(db, clock, chat) -> None:
    await _clinic(db, clock)
    volunteer = chat(VOLUNTEER_ZH)
    await _register(volunteer, "13812345678")
    number = await _number_of(db, VOLUNTEER_ZH)
    assert "只有该组织的工作人员可以进行此操作。" in await volunteer.say("/qualification")
    # Typed after the refusal, the number is not taken as a lookup.
    assert "志愿者：" not in await volunteer.say(number)
