"""Button payloads are stored (queued notices' choices, the options a dialog last showed): every action
reads back what it writes, and the payloads written before the actions were typed still read."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any

import pytest

from core.chat.routes import build_routes
from core.domain import actions
from core.domain.actions import Action, action_classes, parse
from core.domain.codes import ServiceContentGroup
from core.domain.people import ConsentKind


def _sample(kind: type) -> Any:
    if kind is bool:
        return True
    if kind is int:
        return 12
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return next(iter(kind))
    return "time"


def _samples(cls: type[Action]) -> list[Action]:
    """The action with every field given, and with each optional tail left out."""
    if cls is actions.Register:
        return [actions.Register(), actions.Register(actions.ActivityCard(12))]
    kinds = actions._field_kinds(cls)
    full = [_sample(kind) for kind, _ in kinds]
    required = sum(1 for _, optional in kinds if not optional)
    return [cls(*full[:n]) for n in range(required, len(kinds) + 1)]


EVERY = [a for cls in action_classes() for a in _samples(cls)]


@pytest.mark.parametrize("action", EVERY, ids=lambda a: a.pack())
def test_every_action_reads_back_what_it_packs(action: Action) -> None:
    assert parse(action.pack()) == action
    assert type(action).parse(action.pack()) == action


def test_every_action_class_is_routed_and_every_route_is_an_action() -> None:
    assert set(build_routes().buttons) == set(action_classes())


@pytest.mark.parametrize("action", EVERY, ids=lambda a: a.pack())
def test_a_payload_is_read_by_one_action_class_only(action: Action) -> None:
    payload = action.pack()
    prefix, _, arg = payload.partition(":")
    readers = [
        cls
        for cls in action_classes()
        if cls.prefix == prefix and arg.startswith(cls.tag) and cls._from_arg(arg[len(cls.tag) :]) is not None
    ]
    assert readers == [type(action)]


def test_prefixes_shared_only_by_distinct_tags_and_never_like_a_form_answer() -> None:
    by_prefix: dict[str, list[type[Action]]] = {}
    for cls in action_classes():
        assert cls.prefix and ":" not in cls.prefix and not cls.prefix.startswith("f."), cls
        by_prefix.setdefault(cls.prefix, []).append(cls)
    for prefix, classes in by_prefix.items():
        tags = [cls.tag for cls in classes]
        assert len(set(tags)) == len(tags), prefix
        for cls in classes:
            # Under a tagged prefix, the untagged action is the bare prefix: it has no fields.
            if not cls.tag and len(classes) > 1:
                assert not dataclasses.fields(cls), prefix
            assert not any(t != cls.tag and cls.tag and t.startswith(cls.tag) for t in tags), prefix


# Payloads as the code wrote them before the actions were typed (its f-strings, and the tests' own
# crafted callbacks): rows of notices.choices and dialogs.offered hold such strings.
STORED = {
    "menu": actions.Menu(),
    "help": actions.Help(),
    "again": actions.ResumeForm(),
    "reg": actions.Register(),
    "reg:a:42": actions.Register(actions.ActivityCard(42)),
    "find": actions.Find(),
    "find.g": actions.FindGroups(),
    "find.g:b": actions.FindGroups(ServiceContentGroup.B),
    "find.l:all:0": actions.FindList("all", 0),
    "find.l:wk:0": actions.FindList("wk", 0),
    "find.l:on:0": actions.FindList("on", 0),
    "find.l:near:8": actions.FindList("near", 8),
    "find.l:c-b2:16": actions.FindList("c-b2", 16),
    "find.near": actions.FindNear(),
    "a:7": actions.ActivityCard(7),
    "a.s:7": actions.SignUp(7),
    "a.si:7": actions.SignUpInsured(7),
    "a.w:7": actions.JoinWaitlist(7),
    "a.wi:7": actions.JoinWaitlistInsured(7),
    "a.qr:7": actions.ActivityQr(7),
    "a.sqr:7": actions.SurveyQr(7),
    "s.c:31": actions.AskCancelSignup(31),
    "s.cc:31": actions.CancelSignup(31),
    "my": actions.MyActivities(),
    "prof": actions.Profile(),
    "prof.lang": actions.ChooseLanguage(),
    "prof.lang:zh_CN": actions.ChooseLanguage("zh_CN"),
    "prof.lang:en": actions.ChooseLanguage("en"),
    "prof.ed": actions.EditProfile(),
    "prof.ed:phone": actions.EditProfile("phone"),
    "prof.consents": actions.Consents(),
    "prof.wd:location": actions.WithdrawConsent(ConsentKind.LOCATION),
    "prof.gr:location": actions.ExplainConsent(ConsentKind.LOCATION),
    "prof.gra:location": actions.GrantConsent(ConsentKind.LOCATION),
    "prof.link": actions.LinkAccount(),
    "settings": actions.MessageSettings(),
    "settings:on": actions.MessageSettings("on"),
    "settings:off": actions.MessageSettings("off"),
    "pv.data": actions.MyData(),
    "pv.leave": actions.AskLeave(),
    "pv.leave.y": actions.Leave(),
    "orgapp": actions.FoundOrg(),
    "fb": actions.Feedback(),
    "cp": actions.Complain(),
    "cp:a7": actions.ComplainAboutActivity(7),
    "cp:a7.x": actions.ComplainAboutActivity(7, "x"),
    "cp:a7.v": actions.ComplainAboutActivity(7, "v"),
    "cp:o3": actions.ComplainAboutOrg(3),
    "cp:p": actions.ComplainAboutPlatform(),
    "cp:n": actions.ComplainByNumber(),
    "fbl": actions.FeedbackList(),
    "fbl.o:5": actions.FeedbackItem(5),
    "fbl.r:5": actions.ReplyFeedback(5),
    "org": actions.OrganizerMenu(),
    "oa.new": actions.NewActivity(),
    "oa.new:trn": actions.NewActivity("trn"),
    "oa.tpl": actions.ActivityTemplate(),
    "oa.list:0": actions.StaffActivities(0),
    "oa.list:8": actions.StaffActivities(8),
    "oa:7": actions.StaffCard(7),
    "oa.pub:7": actions.Publish(7),
    "oa.sl:7": actions.SignupList(7),
    "oa.exp:7": actions.ExportSignups(7),
    "oa.cx:7": actions.AskCancelActivity(7),
    "oa.ed:7": actions.AskEditActivity(7),
    "oa.ef:7.time": actions.EditActivity(7, "time"),
    "oa.ef:7.online_url": actions.EditActivity(7, "online_url"),
    "oa.bc:7": actions.BroadcastPreview(7),
    "oa.bcs:7": actions.BroadcastSend(7),
    "oa.bcp:7:2": actions.BroadcastRefresh(7, 2),
    "oa.bcx:7:2": actions.BroadcastStop(7, 2),
    "oa.att:7": actions.Roster(7),
    "oa.mk:31.0": actions.Mark(31, False),
    "oa.mk:31.1": actions.Mark(31, True),
    "oa.code:7": actions.CheckinCode(7),
    "bf.y:31": actions.ConfirmPresence(31),
    "bf.n:31": actions.Decline(31),
    "bf.nn:31": actions.DeclineWithoutReason(31),
    "ci": actions.CheckinMenu(),
    "ci.a:31": actions.AskProof(31),
    "hours": actions.MyHours(),
    "cert": actions.Certificate(),
    "cert:s": actions.Certificate("s"),
    "cert:t": actions.Certificate("t"),
    "mk.new": actions.NewMakeup(),
    "mk.act:7": actions.MakeupActivity(7),
    "mk.l": actions.OpenMakeups(),
    "mk.o:9": actions.ShowMakeup(9),
    "mk.ph:9": actions.MakeupPhoto(9),
    "mk.a:9": actions.ApproveMakeup(9),
    "mk.p:9": actions.PartialMakeup(9),
    "mk.r:9": actions.RejectMakeup(9),
    "rc:7": actions.ReviewRecords(7),
    "rc.c:11": actions.ConfirmRecord(11),
    "rc.all:7": actions.ConfirmAllRecords(7),
    "rc.v:11": actions.VoidRecord(11),
    "rp:7": actions.OpenReport(7),
    "rp.e:7": actions.ReviseReport(7),
    "rp.l": actions.MissingReports(),
    "ev:7": actions.EvaluateAttendees(7),
    "ev.v:7.4": actions.Evaluate(7, 4),
    "myev": actions.MyEvaluations(),
    "sv.l:7": actions.SurveyLinks(7),
    "stats:7": actions.SurveyStats(7),
    "vsurvey:7": actions.VolunteerSurvey(7),
    "st": actions.Statistics(),
    "st:a7": actions.ActivityStatistics(7),
    "st:o3": actions.OrgStatistics(3),
    "st:o3.tm": actions.OrgStatistics(3, "tm"),
    "st:o3.r": actions.OrgStatistics(3, "r"),
    "st:o3.a": actions.OrgStatistics(3, "a"),
    "st:o3.p20260101.20260331": actions.OrgStatistics(3, "p20260101.20260331"),
    "stx:a7": actions.ActivityStatisticsFile(7),
    "stx:o3.p20260101.20260331": actions.OrgStatisticsFile(3, "p20260101.20260331"),
    "ex": actions.Export(),
    "ex:r": actions.Export("r"),
    "ex:v.3": actions.Export("v", 3),
    "ex:r.3.this_month": actions.Export("r", 3, "this_month"),
    "ex:r.3.all.xlsx": actions.Export("r", 3, "all", "xlsx"),
    "ex:v.3.all.csv": actions.Export("v", 3, "all", "csv"),
    "ov": actions.Overview(),
    "ov:3": actions.Overview(3),
    "rev": actions.Reviews(),
    "rev.o:3": actions.ReviewOrg(3),
    "rev.oa:3": actions.ApproveOrg(3),
    "rev.or:3": actions.RejectOrg(3),
    "rev.m:4-3": actions.ReviewMember(4, 3),
    "rev.ma:4-3": actions.ApproveMember(4, 3),
    "rev.mr:4-3": actions.RejectMember(4, 3),
    "need": actions.NewNeed(),
    "needs": actions.Needs(),
    "nd.o:6": actions.ShowNeed(6),
    "nd.a:6": actions.ApproveNeed(6),
    "nd.r:6": actions.RejectNeed(6),
    "nd.t:6-3": actions.TakeNeed(6, 3),
    "nd.c:6": actions.CloseNeed(6),
    "nd.plan:6": actions.PlanNeed(6),
    "mt.a:7": actions.MatchActivity(7),
    "mt.n:6": actions.MatchNeed(6),
    "mt.i:7.4": actions.Invite(7, 4),
    "mt.call:7": actions.CallVolunteers(7),
    "mt.no:7": actions.NotInterested(7),
    "q": actions.Qualifications(),
    "q.r:4:doctor": actions.RecordQualification(4, "doctor"),
    "q.w:4:doctor": actions.WithdrawQualification(4, "doctor"),
}


@pytest.mark.parametrize(("payload", "action"), list(STORED.items()), ids=list(STORED))
def test_payloads_stored_before_the_actions_were_typed_still_read(payload: str, action: Action) -> None:
    assert parse(payload) == action
    assert action.pack() == payload


def test_every_prefix_has_a_stored_example() -> None:
    assert {type(a) for a in STORED.values()} == set(action_classes())


@pytest.mark.parametrize(
    "payload",
    ["a:x", "a", "a:", "a:12.3", "oa.mk:31.2", "cp:x", "cp:a", "st:z3", "oa.list", "prof.wd:nosuch", "f.yes"],
)
def test_payloads_that_do_not_read_are_none(payload: str) -> None:
    assert parse(payload) is None


def test_a_payload_over_telegrams_64_bytes_is_refused_when_packed() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        actions.RecordQualification(4, "x" * 60).pack()
