"""Who may do what: staff act on their own org, read the orgs below it, review their children;
platform admins do everything."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.domain.activity import ActivityStatus
from core.domain.codes import Channel, OrgKind
from core.domain.organization import OrgStatus
from core.domain.people import Actor, Role
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.ports import UnitOfWork
from core.services.access import load_actor
from core.services.activities import cancel_activity, create_activity, publish_activity, update_activity
from core.services.organizations import apply_for_org, create_org, review_org, summarize_org
from core.services.users import ensure_user, grant_role
from storage.database import Database
from tests.builders import activity_draft, make_activity, make_admin, make_org, make_staff, org_form
from tests.fakes.clock import FakeClock


@dataclass
class Tree:
    """Brigade P with team A (and A's sub-team A1); unrelated team B. Staff for each; one admin."""

    p: int
    a: int
    a1: int
    b: int
    staff_p: Actor
    staff_a: Actor
    staff_a1: Actor
    staff_b: Actor
    admin: Actor
    draft_a: int  # a draft activity of A
    draft_a1: int  # a draft activity of A1
    published_b: int  # a published activity of B


@pytest.fixture
async def tree(db: Database, clock: FakeClock) -> Tree:
    async with db.uow() as uow:
        p = await make_org(uow, clock, "北京市科协科技志愿服务总队")
        assert p.id is not None
        a = await make_org(uow, clock, "海淀区科普志愿服务队", parent_id=p.id)
        assert a.id is not None
        a1 = await make_org(uow, clock, "中关村街道科普志愿服务队", parent_id=a.id)
        b = await make_org(uow, clock, "上海市徐汇区科普志愿服务队")
        assert a1.id is not None and b.id is not None
        staff_a = await make_staff(uow, clock, a.id)
        staff_a1 = await make_staff(uow, clock, a1.id)
        staff_b = await make_staff(uow, clock, b.id)
        draft_a = await create_activity(uow, clock, staff_a, activity_draft(a.id, clock))
        draft_a1 = await create_activity(uow, clock, staff_a1, activity_draft(a1.id, clock))
        published_b = await make_activity(uow, clock, staff_b, b.id)
        result = Tree(
            p=p.id,
            a=a.id,
            a1=a1.id,
            b=b.id,
            staff_p=await make_staff(uow, clock, p.id),
            staff_a=staff_a,
            staff_a1=staff_a1,
            staff_b=staff_b,
            admin=await make_admin(uow, clock),
            draft_a=draft_a.id or 0,
            draft_a1=draft_a1.id or 0,
            published_b=published_b.id or 0,
        )
        await uow.commit()
    return result


async def _create_in_b(uow: UnitOfWork, clock: FakeClock, actor: Actor, t: Tree) -> object:
    return await create_activity(uow, clock, actor, activity_draft(t.b, clock))


async def _publish_a(uow: UnitOfWork, clock: FakeClock, actor: Actor, t: Tree) -> object:
    return await publish_activity(uow, clock, actor, t.draft_a)


async def _cancel_b(uow: UnitOfWork, clock: FakeClock, actor: Actor, t: Tree) -> object:
    return await cancel_activity(uow, clock, actor, t.published_b, "天气原因")


async def _update_b(uow: UnitOfWork, clock: FakeClock, actor: Actor, t: Tree) -> object:
    return await update_activity(uow, clock, actor, t.published_b, {"capacity": 20})


async def test_staff_of_one_org_cannot_touch_another_orgs_activities(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    for action in (_create_in_b, _cancel_b, _update_b):
        async with db.uow() as uow:
            with pytest.raises(PermissionDenied):
                await action(uow, clock, tree.staff_a, tree)


async def test_staff_of_one_org_cannot_publish_another_orgs_activity(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await _publish_a(uow, clock, tree.staff_b, tree)
        assert (await uow.activities.get(tree.draft_a)).status is ActivityStatus.DRAFT  # type: ignore[union-attr]


async def test_staff_above_or_below_cannot_write_an_orgs_activities(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    # 1-6.1: a parent reads its sub-orgs; it does not run their activities, nor does a child run its parent's.
    for actor in (tree.staff_p, tree.staff_a1):
        async with db.uow() as uow:
            with pytest.raises(PermissionDenied):
                await create_activity(uow, clock, actor, activity_draft(tree.a, clock))
            with pytest.raises(PermissionDenied):
                await publish_activity(uow, clock, actor, tree.draft_a)
            with pytest.raises(PermissionDenied):
                await cancel_activity(uow, clock, actor, tree.draft_a, "不办了")


async def test_staff_run_their_own_orgs_activities(db: Database, clock: FakeClock, tree: Tree) -> None:
    async with db.uow() as uow:
        published = await publish_activity(uow, clock, tree.staff_a, tree.draft_a)
        assert published.status is ActivityStatus.PUBLISHED and published.published_at == clock.now()
        updated = await update_activity(uow, clock, tree.staff_a, tree.draft_a, {"capacity": 30})
        assert updated.capacity == 30
        cancelled = await cancel_activity(uow, clock, tree.staff_a, tree.draft_a, "场地冲突")
        assert cancelled.status is ActivityStatus.CANCELLED and cancelled.status_reason == "场地冲突"
        await uow.commit()
    async with db.uow() as uow:
        entries = await uow.audit.for_entity("activity", tree.draft_a)
        assert [e.action for e in entries] == [
            "activity.create",
            "activity.publish",
            "activity.update",
            "activity.cancel",
        ]
        assert all(e.actor_user_id == tree.staff_a.user_id for e in entries)


async def test_admin_may_do_everything(db: Database, clock: FakeClock, tree: Tree) -> None:
    async with db.uow() as uow:
        created = await create_activity(uow, clock, tree.admin, activity_draft(tree.b, clock))
        assert created.id is not None
        await publish_activity(uow, clock, tree.admin, created.id)
        await publish_activity(uow, clock, tree.admin, tree.draft_a1)
        await update_activity(uow, clock, tree.admin, tree.published_b, {"capacity": 3})
        await cancel_activity(uow, clock, tree.admin, tree.published_b, "平台下架")
        for org_id in (tree.p, tree.a, tree.a1, tree.b):
            assert (await summarize_org(uow, tree.admin, org_id)).org.id == org_id
        applied = await apply_for_org(
            uow, clock, tree.admin, org_form("国家级科普志愿服务队", unit_full_name=True, parent_id=None)
        )
        assert applied.id is not None
        assert (
            await review_org(uow, clock, tree.admin, applied.id, approve=True)
        ).status is OrgStatus.APPROVED
        await uow.commit()


async def test_staff_of_a_parent_may_read_a_childs_summary(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    async with db.uow() as uow:
        # Any depth: the brigade reads its grandchild too.
        for reader, org_id in ((tree.staff_p, tree.a), (tree.staff_p, tree.a1), (tree.staff_a, tree.a1)):
            assert (await summarize_org(uow, reader, org_id)).org.id == org_id


async def test_staff_cannot_read_the_summary_of_a_parent_or_an_unrelated_org(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    cases = ((tree.staff_a1, tree.a), (tree.staff_a, tree.p), (tree.staff_b, tree.a), (tree.staff_a, tree.b))
    async with db.uow() as uow:
        for reader, org_id in cases:
            with pytest.raises(PermissionDenied):
                await summarize_org(uow, reader, org_id)


async def test_staff_review_only_applications_under_their_own_org(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    # 1-5.4: reviewed by the parent org (归属管理单位), not a grandparent, sibling or stranger.
    async with db.uow() as uow:
        application = await apply_for_org(
            uow, clock, tree.staff_a1, org_form("中关村二小科普小队", parent_id=tree.a)
        )
        assert application.id is not None
        for outsider in (tree.staff_p, tree.staff_a1, tree.staff_b):
            with pytest.raises(PermissionDenied):
                await review_org(uow, clock, outsider, application.id, approve=True)
        approved = await review_org(uow, clock, tree.staff_a, application.id, approve=True)
        assert approved.status is OrgStatus.APPROVED and approved.reviewed_by == tree.staff_a.user_id


async def test_top_level_orgs_are_reviewed_and_created_by_admins_only(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await create_org(
                uow, clock, tree.staff_p, org_form("天津市科协科技志愿服务总队", kind=OrgKind.BRIGADE)
            )
        with pytest.raises(InvalidInput) as caught:
            await apply_for_org(uow, clock, tree.staff_p, org_form("天津市科普志愿服务队", parent_id=None))
        assert caught.value.key == "org.apply.parent_required"
        with pytest.raises(PermissionDenied):
            await review_org(uow, clock, tree.staff_p, tree.p, approve=False, reason="x")


async def test_only_admins_may_claim_a_unit_full_name(db: Database, clock: FakeClock, tree: Tree) -> None:
    # 1-5.2: a unit's full name may hold 中国 and the like; only the platform vouches for that.
    async with db.uow() as uow:
        with pytest.raises(PermissionDenied):
            await apply_for_org(
                uow,
                clock,
                tree.staff_p,
                org_form("中国农业大学科技志愿服务队", parent_id=tree.p, unit_full_name=True),
            )


async def test_only_admins_grant_roles(db: Database, clock: FakeClock, tree: Tree) -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, "newcomer")
        assert user.id is not None
        with pytest.raises(PermissionDenied):
            await grant_role(uow, clock, tree.staff_p, user.id, Role.ORG_STAFF, tree.a)
        with pytest.raises(InvalidInput):
            await grant_role(uow, clock, tree.admin, user.id, Role.ORG_STAFF, None)
        with pytest.raises(InvalidInput):
            await grant_role(uow, clock, tree.admin, user.id, Role.PLATFORM_ADMIN, tree.a)
        with pytest.raises(NotFound):
            await grant_role(uow, clock, tree.admin, user.id, Role.ORG_STAFF, 999_999)
        first = await grant_role(uow, clock, tree.admin, user.id, Role.ORG_STAFF, tree.a)
        again = await grant_role(uow, clock, tree.admin, user.id, Role.ORG_STAFF, tree.a)
        assert first.id == again.id and first.granted_by == tree.admin.user_id
        actor = await load_actor(uow, user.id)
        assert actor.staff_of == {tree.a} and not actor.admin
        entries = await uow.audit.for_entity("user", user.id)
        assert [e.action for e in entries] == ["role.grant"]


async def test_anonymous_and_plain_users_have_no_staff_rights(
    db: Database, clock: FakeClock, tree: Tree
) -> None:
    async with db.uow() as uow:
        user = await ensure_user(uow, clock, Channel.WECHAT, "passer-by")
        plain = await load_actor(uow, user.id)
        for actor in (Actor.anonymous(), plain):
            with pytest.raises(PermissionDenied):
                await create_activity(uow, clock, actor, activity_draft(tree.a, clock))
            with pytest.raises(PermissionDenied):
                await summarize_org(uow, actor, tree.a)
