"""Organizations (CVST 1): naming, application and review (1-5.3, 1-5.4), hierarchy and summary (1-6.1)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from core.domain.codes import Channel, OrgKind
from core.domain.organization import OrgStatus
from core.domain.people import Actor
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.services.access import load_actor
from core.services.activities import cancel_activity, create_activity
from core.services.organizations import apply_for_org, deactivate_org, review_org, summarize_org
from core.services.users import ensure_user
from core.services.volunteers import request_membership
from storage.database import Database
from storage.tables import audit_log, organizations
from tests.builders import activity_draft, make_activity, make_org, make_staff, make_volunteer, org_form
from tests.fakes.clock import FakeClock

BRIGADE = "北京市科协科技志愿服务总队"


async def _brigade_with_staff(db: Database, clock: FakeClock) -> tuple[int, Actor]:
    async with db.uow() as uow:
        brigade = await make_org(uow, clock, BRIGADE)
        assert brigade.id is not None
        staff = await make_staff(uow, clock, brigade.id)
        await uow.commit()
    return brigade.id, staff


async def test_registered_volunteer_may_apply_to_found_an_org(db: Database, clock: FakeClock) -> None:
    # 1-5.3.3 c: registered volunteers may apply to found an org; 1-5.3: the application's fields.
    brigade_id, _ = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        _, founder = await make_volunteer(uow, clock)
        form = org_form(
            " 清华大学 科普志愿服务队 ", parent_id=brigade_id, member_count=35, join_requires_approval=True
        )
        org = await apply_for_org(uow, clock, founder, form)
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.orgs.get(org.id or 0)
        assert stored is not None
        assert stored.name == "清华大学 科普志愿服务队"
        assert stored.status is OrgStatus.APPLIED and not stored.active
        assert stored.applied_by == founder.user_id and stored.parent_id == brigade_id
        assert (stored.service_field, stored.service_items, stored.member_count) == ("科学普及", ["c2"], 35)
        assert (stored.leader_name, stored.leader_contact) == ("王队长", "13800000000")
        entries = await uow.audit.for_entity("org", stored.id or 0)
        assert [(e.action, e.actor_user_id) for e in entries] == [("org.apply", founder.user_id)]


async def test_a_user_who_is_not_registered_cannot_apply(db: Database, clock: FakeClock) -> None:
    brigade_id, _ = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.TELEGRAM, "stranger")
        with pytest.raises(PermissionDenied) as caught:
            await apply_for_org(
                uow,
                clock,
                await load_actor(uow, user.id),
                org_form("某某科普志愿服务队", parent_id=brigade_id),
            )
    assert caught.value.key == "org.apply.register_first"


@pytest.mark.parametrize("word", ["中国", "全球"])  # each word: tests/unit/test_organization_naming.py
async def test_application_with_a_forbidden_word_is_refused_and_names_it(
    db: Database, clock: FakeClock, word: str
) -> None:
    # 1-5.2 note 2
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as caught:
            await apply_for_org(
                uow, clock, staff, org_form(f"海淀{word}科普志愿服务队", parent_id=brigade_id)
            )
    assert (caught.value.key, caught.value.params) == ("org.name.forbidden_word", {"word": word})


@pytest.mark.parametrize(
    ("changes", "error", "key"),
    [
        ({"name": BRIGADE, "kind": OrgKind.BRIGADE}, Conflict, "org.name.taken"),
        ({"service_items": ("z9",)}, InvalidInput, "org.service_item.unknown"),
        ({"member_count": -1}, InvalidInput, "org.member_count"),
        ({"leader_name": " "}, InvalidInput, "org.leader.missing"),
        ({"leader_contact": ""}, InvalidInput, "org.leader.missing"),
        ({"parent_id": 999_999}, NotFound, "org.parent.not_found"),
    ],
)
async def test_incomplete_or_clashing_application_is_refused(
    db: Database, clock: FakeClock, changes: dict[str, object], error: type[Exception], key: str
) -> None:
    brigade_id, staff = await _brigade_with_staff(db, clock)
    form = replace(org_form("海淀区科普志愿服务队", parent_id=brigade_id), **changes)
    async with db.uow() as uow:
        with pytest.raises(error) as caught:
            await apply_for_org(uow, clock, staff, form)
    assert caught.value.key == key


async def test_parent_must_be_approved_before_children_apply_under_it(db: Database, clock: FakeClock) -> None:
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        pending = await apply_for_org(
            uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id)
        )
        with pytest.raises(NotFound):
            await apply_for_org(uow, clock, staff, org_form("中关村科普志愿服务队", parent_id=pending.id))


async def test_parent_staff_approve_an_application(db: Database, clock: FakeClock) -> None:
    # 1-5.4: the parent org (归属管理单位) reviews.
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        org = await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        await uow.commit()
    clock.advance(days=2)
    async with db.uow() as uow:
        approved = await review_org(uow, clock, staff, org.id or 0, approve=True)
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.orgs.get(org.id or 0)
        assert stored is not None and stored.active
        assert (stored.reviewed_by, stored.reviewed_at, stored.status_reason) == (
            staff.user_id,
            clock.now(),
            None,
        )
        entries = await uow.audit.for_entity("org", org.id or 0)
        assert [e.action for e in entries] == ["org.apply", "org.approve"]
    assert approved.status is OrgStatus.APPROVED


async def test_rejection_needs_a_reason_which_is_kept(db: Database, clock: FakeClock) -> None:
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        org = await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        await uow.commit()
    async with db.uow() as uow:
        with pytest.raises(InvalidInput) as caught:
            await review_org(uow, clock, staff, org.id or 0, approve=False, reason="  ")
        assert caught.value.key == "org.review.reason_required"
        await review_org(uow, clock, staff, org.id or 0, approve=False, reason="服务项目与队伍专业不符")
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.orgs.get(org.id or 0)
        assert stored is not None
        assert (stored.status, stored.status_reason) == (OrgStatus.REJECTED, "服务项目与队伍专业不符")
        entries = await uow.audit.for_entity("org", org.id or 0)
        assert [(e.action, e.reason) for e in entries] == [
            ("org.apply", None),
            ("org.reject", "服务项目与队伍专业不符"),
        ]
        # A decided application is not decided again, and a rejected org runs nothing.
        with pytest.raises(Conflict):
            await review_org(uow, clock, staff, org.id or 0, approve=True)
        with pytest.raises(NotFound):
            await create_activity(uow, clock, Actor.system(), activity_draft(org.id or 0, clock))


async def test_a_rejected_application_leaves_its_name_free_to_apply_again(
    db: Database, clock: FakeClock
) -> None:
    """1-5.4: rejected for what it lacked (the reason says what), the team applies again under the same
    name; the rejected application stays on record. A name in use or under review stays taken."""
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        first = await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        await review_org(uow, clock, staff, first.id or 0, approve=False, reason="请补充负责人联系方式")
        await uow.commit()
    async with db.uow() as uow:
        again = await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        with pytest.raises(Conflict) as caught:  # the new application is under review
            await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        assert caught.value.key == "org.name.taken"
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.orgs.by_name("海淀区科普志愿服务队")
        assert found is not None and found.id == again.id and found.status is OrgStatus.APPLIED
        rejected = await uow.orgs.get(first.id or 0)
        assert rejected is not None and rejected.status is OrgStatus.REJECTED


async def test_review_of_a_missing_org_is_not_found(db: Database, clock: FakeClock) -> None:
    _, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        with pytest.raises(NotFound):
            await review_org(uow, clock, staff, 424242, approve=True)


async def test_deactivated_org_keeps_its_records(db: Database, clock: FakeClock) -> None:
    # 1-6.5: never hard-deleted.
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        team = await make_org(uow, clock, "海淀区科普志愿服务队", parent_id=brigade_id)
        with pytest.raises(InvalidInput):
            await deactivate_org(uow, clock, staff, team.id or 0, " ")
        await deactivate_org(uow, clock, staff, team.id or 0, "队伍合并")
        await uow.commit()
    async with db.uow() as uow:
        stored = await uow.orgs.get(team.id or 0)
        assert stored is not None and (stored.status, stored.status_reason) == (
            OrgStatus.DEACTIVATED,
            "队伍合并",
        )
        assert await uow.session.scalar(select(func.count()).select_from(organizations)) == 2


async def test_summary_counts_everything_below_at_any_depth(db: Database, clock: FakeClock) -> None:
    # 1-6.1: brigade → teams (any depth); a parent sees counts of its sub-orgs, volunteers, activities.
    async with db.uow() as uow:
        root = await make_org(uow, clock, BRIGADE)
        assert root.id is not None
        mid = await make_org(uow, clock, "海淀区科普志愿服务队", parent_id=root.id)
        other_mid = await make_org(uow, clock, "朝阳区科普志愿服务队", parent_id=root.id)
        assert mid.id is not None and other_mid.id is not None
        leaf = await make_org(uow, clock, "中关村街道科普志愿服务队", parent_id=mid.id)
        assert leaf.id is not None
        elsewhere = await make_org(uow, clock, "上海市科协科技志愿服务总队")
        assert elsewhere.id is not None
        staff_root = await make_staff(uow, clock, root.id)
        staff_mid = await make_staff(uow, clock, mid.id)
        # Applications and refused applications are not sub-orgs yet.
        pending = await apply_for_org(uow, clock, staff_mid, org_form("中关村二小科普小队", parent_id=mid.id))
        refused = await apply_for_org(uow, clock, staff_mid, org_form("中关村三小科普小队", parent_id=mid.id))
        await review_org(uow, clock, staff_mid, refused.id or 0, approve=False, reason="重复申请")
        assert pending.id is not None
        # Volunteers: two in the leaf, one in mid and leaf (counted once), one elsewhere, one pending.
        for org_ids in ((leaf.id,), (leaf.id,), (mid.id, leaf.id), (elsewhere.id,), (other_mid.id,)):
            _, actor = await make_volunteer(uow, clock, org_id=org_ids[0])
            for more in org_ids[1:]:
                await request_membership(uow, clock, actor, more)
        # Activities: one per level, one elsewhere; a draft and a cancelled one do not count.
        for org_id in (root.id, mid.id, leaf.id, elsewhere.id):
            await make_activity(uow, clock, Actor.system(), org_id)
        await create_activity(uow, clock, Actor.system(), activity_draft(mid.id, clock))
        cancelled = await make_activity(uow, clock, Actor.system(), leaf.id)
        await cancel_activity(uow, clock, Actor.system(), cancelled.id or 0, "场地取消")
        await uow.commit()

    async with db.uow() as uow:
        top = await summarize_org(uow, staff_root, root.id)
        middle = await summarize_org(uow, staff_root, mid.id)
        bottom = await summarize_org(uow, staff_mid, leaf.id)
        assert (top.sub_orgs, top.volunteers, top.activities) == (3, 4, 3)
        assert (middle.sub_orgs, middle.volunteers, middle.activities) == (1, 3, 2)
        assert (bottom.sub_orgs, bottom.volunteers, bottom.activities) == (0, 3, 1)


async def test_org_audit_trail_is_append_only(db: Database, clock: FakeClock) -> None:
    # 1-6.5: corrections leave an audit trail; nothing is removed from it.
    brigade_id, staff = await _brigade_with_staff(db, clock)
    async with db.uow() as uow:
        org = await apply_for_org(uow, clock, staff, org_form("海淀区科普志愿服务队", parent_id=brigade_id))
        await review_org(uow, clock, staff, org.id or 0, approve=True)
        activity = await make_activity(uow, clock, await make_staff(uow, clock, org.id or 0), org.id or 0)
        await cancel_activity(uow, clock, Actor.system(), activity.id or 0, "取消")
        await uow.commit()
    async with db.uow() as uow:
        before = await uow.session.scalar(select(func.count()).select_from(audit_log))
        actions = (await uow.session.scalars(select(audit_log.c.action).order_by(audit_log.c.id))).all()
    assert before == len(actions)
    for expected in (
        "org.create",
        "role.grant",
        "org.apply",
        "org.approve",
        "activity.create",
        "activity.publish",
        "activity.cancel",
    ):
        assert expected in actions


async def test_the_founder_becomes_staff_of_the_approved_org(db, clock) -> None:
    """1-5.3.3 c: a volunteer who founds an org runs it once the parent approves."""
    from core.domain.people import Role
    from core.services.access import load_actor
    from core.services.organizations import apply_for_org, review_org
    from tests.builders import make_org, make_staff, make_volunteer, org_form

    async with db.uow() as uow:
        parent = await make_org(uow, clock, "南京市科技志愿服务队")
        reviewer = await make_staff(uow, clock, parent.id)
        volunteer, founder = await make_volunteer(uow, clock)
        org = await apply_for_org(
            uow, clock, founder, org_form("南京市青年科普志愿服务队", parent_id=parent.id)
        )
        await review_org(uow, clock, reviewer, org.id, approve=True)
        grants = await uow.grants.active_for_user(volunteer.user_id)
        assert [(g.role, g.org_id) for g in grants] == [(Role.ORG_STAFF, org.id)]
        assert org.id in (await load_actor(uow, volunteer.user_id)).staff_of
