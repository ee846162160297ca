"""What a button does, as a typed value. A button's payload is stored (``notices.choices`` of notices
still queued, ``dialogs.offered`` of the options last shown), so the wire format is fixed: a prefix,
then, when there are fields, ``:`` and the fields joined by the action's separator (``oa:12``,
``oa.ef:12.time``, ``find.l:wk:0``, ``rev.m:7-3``). A few prefixes carry several kinds of action told
apart by a tag letter before the fields (``cp:a12.x``, ``cp:o3``, ``st:a12``). Trailing fields left
out are None. Renaming a prefix here breaks every button already sent: add, never rename.

The step answers of a form (``f.yes``, ``f.12``) are not actions: they mean something only to the
question that offered them (the forms of the conversation)."""

from __future__ import annotations

import dataclasses
import types
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, TypeVar, get_type_hints

from core.domain.codes import ServiceContentGroup
from core.domain.people import ConsentKind

PAYLOAD_MAX_BYTES = 64  # Telegram callback data and deep-link payload limits

A = TypeVar("A", bound="Action")

# Every action class by its prefix, in the order declared.
_BY_PREFIX: dict[str, list[type[Action]]] = {}


@dataclass(frozen=True)
class Action:
    prefix: ClassVar[str] = ""
    tag: ClassVar[str] = ""
    sep: ClassVar[str] = "."

    def __init_subclass__(cls, prefix: str = "", tag: str = "", sep: str = ".", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.prefix, cls.tag, cls.sep = prefix, tag, sep
        _BY_PREFIX.setdefault(prefix, []).append(cls)

    def pack(self) -> str:
        """The payload; ValueError if it would not fit Telegram's callback data (64 bytes)."""
        values = [getattr(self, name) for name in _field_names(type(self))]
        while values and values[-1] is None:
            values.pop()
        parts = [_text(v) for v in values]
        if any(not p for p in parts) or any(self.sep in p for p in parts[:-1]):
            raise ValueError(f"{self!r}: a field is missing, empty or holds {self.sep!r}")
        arg = self.tag + self.sep.join(parts)
        payload = f"{self.prefix}:{arg}" if arg else self.prefix
        if len(payload.encode()) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"payload over {PAYLOAD_MAX_BYTES} bytes: {payload!r}")
        return payload

    @classmethod
    def parse(cls: type[A], payload: str) -> A | None:
        """This action from a payload; None when the payload is another action's, or not an action."""
        action = parse(payload)
        return action if type(action) is cls else None

    @classmethod
    def _from_arg(cls: type[A], arg: str) -> A | None:
        kinds = _field_kinds(cls)
        parts = arg.split(cls.sep, len(kinds) - 1) if arg and kinds else ([arg] if arg else [])
        required = sum(1 for _, optional in kinds if not optional)
        if not required <= len(parts) <= len(kinds):
            return None
        values = [_value(kind, part) for (kind, _), part in zip(kinds, parts, strict=False)]
        return None if None in values else cls(*values)


def parse(payload: str) -> Action | None:
    """The action a payload stands for; None for a step answer, an unknown prefix or fields that do
    not read (a forged or hand-made payload)."""
    prefix, _, arg = payload.partition(":")
    classes = _BY_PREFIX.get(prefix, [])
    tagged = any(cls.tag for cls in classes)
    for cls in classes:
        # Under a prefix with tags, the untagged action is the prefix alone.
        if (cls.tag and arg.startswith(cls.tag)) or not (cls.tag or (tagged and arg)):
            action = cls._from_arg(arg[len(cls.tag) :])
            if action is not None:
                return action
    return None


def known_prefix(payload: str) -> bool:
    """Whether a payload that does not parse still names one of our actions: its fields are wrong."""
    return payload.partition(":")[0] in _BY_PREFIX


def action_classes() -> list[type[Action]]:
    return [cls for classes in _BY_PREFIX.values() for cls in classes]


_KINDS: dict[type, list[tuple[type, bool]]] = {}
_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    """The fields' names, in order; read once per class (every button written packs one)."""
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _field_kinds(cls: type) -> list[tuple[type, bool]]:
    """(type, optional) of each field, in order."""
    if cls not in _KINDS:
        hints = get_type_hints(cls)
        kinds = []
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            if isinstance(hint, types.UnionType):
                kinds.append((next(a for a in hint.__args__ if a is not type(None)), True))
            else:
                kinds.append((hint, False))
        _KINDS[cls] = kinds
    return _KINDS[cls]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, StrEnum):
        return value.value
    return str(value)


def _value(kind: type, text: str) -> Any:
    if kind is bool:
        return {"1": True, "0": False}.get(text)
    if kind is int:
        return int(text) if text.isascii() and text.isdigit() else None
    if issubclass(kind, StrEnum):
        return kind._value2member_map_.get(text)
    return text or None


# ---- the menu, finding and signing up (activities.py, volunteer.py) -----------------------------


class Menu(Action, prefix="menu"):
    pass


class Help(Action, prefix="help"):
    pass


class ResumeForm(Action, prefix="again"):
    """继续填写, under the help shown inside a form: its open question asked again."""


@dataclass(frozen=True)
class Register(Action, prefix="reg"):
    """``reg:a:12``: after registering, the button to go on with (the payload pressed before)."""

    after: Action | None = None

    def pack(self) -> str:
        payload = f"reg:{self.after.pack()}" if self.after is not None else "reg"
        if len(payload.encode()) > PAYLOAD_MAX_BYTES:
            raise ValueError(f"payload over {PAYLOAD_MAX_BYTES} bytes: {payload!r}")
        return payload

    @classmethod
    def _from_arg(cls: type[A], arg: str) -> A | None:
        after = parse(arg) if arg else None
        return None if arg and after is None else cls(after)  # type: ignore[call-arg]


class Find(Action, prefix="find"):
    pass


@dataclass(frozen=True)
class FindGroups(Action, prefix="find.g"):
    group: ServiceContentGroup | None = None


@dataclass(frozen=True)
class FindList(Action, prefix="find.l", sep=":"):
    """``kind``: ``all``, ``wk`` (next 7 days), ``on`` (online), ``near``, or ``c-<service content>``."""

    kind: str
    offset: int


class FindNear(Action, prefix="find.near"):
    pass


@dataclass(frozen=True)
class ActivityCard(Action, prefix="a"):
    activity_id: int


@dataclass(frozen=True)
class SignUp(Action, prefix="a.s"):
    activity_id: int


@dataclass(frozen=True)
class SignUpInsured(Action, prefix="a.si"):
    activity_id: int


@dataclass(frozen=True)
class JoinWaitlist(Action, prefix="a.w"):
    activity_id: int


@dataclass(frozen=True)
class JoinWaitlistInsured(Action, prefix="a.wi"):
    activity_id: int


@dataclass(frozen=True)
class AskCancelSignup(Action, prefix="s.c"):
    signup_id: int


@dataclass(frozen=True)
class CancelSignup(Action, prefix="s.cc"):
    signup_id: int


class MyActivities(Action, prefix="my"):
    pass


# ---- the volunteer's own data (volunteer.py, linking.py, privacy.py) ---------------------------


class Profile(Action, prefix="prof"):
    pass


@dataclass(frozen=True)
class ChooseLanguage(Action, prefix="prof.lang"):
    language: str | None = None


@dataclass(frozen=True)
class EditProfile(Action, prefix="prof.ed"):
    field: str | None = None


class Consents(Action, prefix="prof.consents"):
    pass


@dataclass(frozen=True)
class WithdrawConsent(Action, prefix="prof.wd"):
    kind: ConsentKind


@dataclass(frozen=True)
class ExplainConsent(Action, prefix="prof.gr"):
    kind: ConsentKind


@dataclass(frozen=True)
class GrantConsent(Action, prefix="prof.gra"):
    kind: ConsentKind


class LinkAccount(Action, prefix="prof.link"):
    pass


@dataclass(frozen=True)
class MessageSettings(Action, prefix="settings"):
    """``switch``: ``on`` or ``off`` (recruitment calls)."""

    switch: str | None = None


class MyData(Action, prefix="pv.data"):
    pass


class AskLeave(Action, prefix="pv.leave"):
    pass


class Leave(Action, prefix="pv.leave.y"):
    pass


class FoundOrg(Action, prefix="orgapp"):
    pass


# ---- feedback and complaints (feedback.py) ------------------------------------------------------


class Feedback(Action, prefix="fb"):
    pass


class Complain(Action, prefix="cp"):
    """What is the complaint about: the question."""


@dataclass(frozen=True)
class ComplainAboutActivity(Action, prefix="cp", tag="a"):
    """``cp:a12`` asks whether about the activity or a volunteer at it; ``about``: ``x`` the activity
    itself, ``v`` a volunteer at it."""

    activity_id: int
    about: str | None = None


@dataclass(frozen=True)
class ComplainAboutOrg(Action, prefix="cp", tag="o"):
    org_id: int


class ComplainAboutPlatform(Action, prefix="cp", tag="p"):
    pass


class ComplainByNumber(Action, prefix="cp", tag="n"):
    pass


class FeedbackList(Action, prefix="fbl"):
    pass


@dataclass(frozen=True)
class FeedbackItem(Action, prefix="fbl.o"):
    feedback_id: int


@dataclass(frozen=True)
class ReplyFeedback(Action, prefix="fbl.r"):
    feedback_id: int


# ---- the organizer (organizer.py, activity_form.py, staff_activities.py, activity_editing.py …) --


class OrganizerMenu(Action, prefix="org"):
    pass


@dataclass(frozen=True)
class NewActivity(Action, prefix="oa.new"):
    """``as_kind``: AS_TRAINING for a training (2-7.4)."""

    AS_TRAINING: ClassVar[str] = "trn"

    as_kind: str | None = None


class ActivityTemplate(Action, prefix="oa.tpl"):
    pass


@dataclass(frozen=True)
class StaffActivities(Action, prefix="oa.list"):
    offset: int


@dataclass(frozen=True)
class StaffCard(Action, prefix="oa"):
    activity_id: int


@dataclass(frozen=True)
class Publish(Action, prefix="oa.pub"):
    activity_id: int


@dataclass(frozen=True)
class SignupList(Action, prefix="oa.sl"):
    activity_id: int


@dataclass(frozen=True)
class ExportSignups(Action, prefix="oa.exp"):
    activity_id: int


@dataclass(frozen=True)
class AskCancelActivity(Action, prefix="oa.cx"):
    activity_id: int


@dataclass(frozen=True)
class AskEditActivity(Action, prefix="oa.ed"):
    activity_id: int


@dataclass(frozen=True)
class EditActivity(Action, prefix="oa.ef"):
    """``group``: what is changed, a key of core.chat.activity_editing.EDIT_GROUPS."""

    activity_id: int
    group: str


@dataclass(frozen=True)
class ActivityQr(Action, prefix="a.qr"):
    activity_id: int


@dataclass(frozen=True)
class SurveyQr(Action, prefix="a.sqr"):
    activity_id: int


@dataclass(frozen=True)
class BroadcastPreview(Action, prefix="oa.bc"):
    activity_id: int


@dataclass(frozen=True)
class BroadcastSend(Action, prefix="oa.bcs"):
    activity_id: int


@dataclass(frozen=True)
class BroadcastRefresh(Action, prefix="oa.bcp", sep=":"):
    activity_id: int
    number: int


@dataclass(frozen=True)
class BroadcastStop(Action, prefix="oa.bcx", sep=":"):
    activity_id: int
    number: int


# ---- attendance, hours and records (attendance.py, briefing.py, reports.py) ---------------------


@dataclass(frozen=True)
class Roster(Action, prefix="oa.att"):
    activity_id: int


@dataclass(frozen=True)
class Mark(Action, prefix="oa.mk"):
    signup_id: int
    present: bool


@dataclass(frozen=True)
class CheckinCode(Action, prefix="oa.code"):
    activity_id: int


@dataclass(frozen=True)
class ConfirmPresence(Action, prefix="bf.y"):
    signup_id: int


@dataclass(frozen=True)
class Decline(Action, prefix="bf.n"):
    signup_id: int


@dataclass(frozen=True)
class DeclineWithoutReason(Action, prefix="bf.nn"):
    signup_id: int


class CheckinMenu(Action, prefix="ci"):
    pass


@dataclass(frozen=True)
class AskProof(Action, prefix="ci.a"):
    signup_id: int


class MyHours(Action, prefix="hours"):
    pass


@dataclass(frozen=True)
class Certificate(Action, prefix="cert"):
    """``kind``: ``s`` the service certificate, ``t`` the training certificate."""

    kind: str | None = None


class NewMakeup(Action, prefix="mk.new"):
    pass


@dataclass(frozen=True)
class MakeupActivity(Action, prefix="mk.act"):
    activity_id: int


class OpenMakeups(Action, prefix="mk.l"):
    pass


@dataclass(frozen=True)
class ShowMakeup(Action, prefix="mk.o"):
    request_id: int


@dataclass(frozen=True)
class MakeupPhoto(Action, prefix="mk.ph"):
    request_id: int


@dataclass(frozen=True)
class ApproveMakeup(Action, prefix="mk.a"):
    request_id: int


@dataclass(frozen=True)
class PartialMakeup(Action, prefix="mk.p"):
    request_id: int


@dataclass(frozen=True)
class RejectMakeup(Action, prefix="mk.r"):
    request_id: int


@dataclass(frozen=True)
class ReviewRecords(Action, prefix="rc"):
    activity_id: int


@dataclass(frozen=True)
class ConfirmRecord(Action, prefix="rc.c"):
    record_id: int


@dataclass(frozen=True)
class ConfirmAllRecords(Action, prefix="rc.all"):
    activity_id: int


@dataclass(frozen=True)
class VoidRecord(Action, prefix="rc.v"):
    record_id: int


@dataclass(frozen=True)
class OpenReport(Action, prefix="rp"):
    activity_id: int


@dataclass(frozen=True)
class ReviseReport(Action, prefix="rp.e"):
    activity_id: int


class MissingReports(Action, prefix="rp.l"):
    pass


# ---- evaluations, surveys, statistics, exports -------------------------------------------------


@dataclass(frozen=True)
class EvaluateAttendees(Action, prefix="ev"):
    activity_id: int


@dataclass(frozen=True)
class Evaluate(Action, prefix="ev.v"):
    activity_id: int
    volunteer_id: int


class MyEvaluations(Action, prefix="myev"):
    pass


@dataclass(frozen=True)
class SurveyLinks(Action, prefix="sv.l"):
    activity_id: int


@dataclass(frozen=True)
class SurveyStats(Action, prefix="stats"):
    activity_id: int


@dataclass(frozen=True)
class VolunteerSurvey(Action, prefix="vsurvey"):
    activity_id: int


class Statistics(Action, prefix="st"):
    """Which org's report (or the only one's periods)."""


@dataclass(frozen=True)
class ActivityStatistics(Action, prefix="st", tag="a"):
    activity_id: int


@dataclass(frozen=True)
class OrgStatistics(Action, prefix="st", tag="o"):
    """``period``: ``tm``/``lm``/``ty`` (named), ``p20260101.20260331`` (a range), ``r`` (ask for a
    range) or ``a`` (pick an activity); None asks for the period."""

    org_id: int
    period: str | None = None


@dataclass(frozen=True)
class ActivityStatisticsFile(Action, prefix="stx", tag="a"):
    activity_id: int


@dataclass(frozen=True)
class OrgStatisticsFile(Action, prefix="stx", tag="o"):
    org_id: int
    period: str


@dataclass(frozen=True)
class Export(Action, prefix="ex"):
    """Each part missing is asked for: ``what`` (``r`` records, ``v`` volunteers), the org, the
    period (a PeriodName) and the format (a SheetFormat)."""

    what: str | None = None
    org_id: int | None = None
    period: str | None = None
    form: str | None = None


@dataclass(frozen=True)
class Overview(Action, prefix="ov"):
    org_id: int | None = None


# ---- reviews, needs, matching, qualifications --------------------------------------------------


class Reviews(Action, prefix="rev"):
    pass


@dataclass(frozen=True)
class ReviewOrg(Action, prefix="rev.o"):
    org_id: int


@dataclass(frozen=True)
class ApproveOrg(Action, prefix="rev.oa"):
    org_id: int


@dataclass(frozen=True)
class RejectOrg(Action, prefix="rev.or"):
    org_id: int


@dataclass(frozen=True)
class ReviewMember(Action, prefix="rev.m", sep="-"):
    volunteer_id: int
    org_id: int


@dataclass(frozen=True)
class ApproveMember(Action, prefix="rev.ma", sep="-"):
    volunteer_id: int
    org_id: int


@dataclass(frozen=True)
class RejectMember(Action, prefix="rev.mr", sep="-"):
    volunteer_id: int
    org_id: int


class NewNeed(Action, prefix="need"):
    pass


class Needs(Action, prefix="needs"):
    pass


@dataclass(frozen=True)
class ShowNeed(Action, prefix="nd.o"):
    need_id: int


@dataclass(frozen=True)
class ApproveNeed(Action, prefix="nd.a"):
    need_id: int


@dataclass(frozen=True)
class RejectNeed(Action, prefix="nd.r"):
    need_id: int


@dataclass(frozen=True)
class TakeNeed(Action, prefix="nd.t", sep="-"):
    need_id: int
    org_id: int


@dataclass(frozen=True)
class CloseNeed(Action, prefix="nd.c"):
    need_id: int


@dataclass(frozen=True)
class PlanNeed(Action, prefix="nd.plan"):
    need_id: int


@dataclass(frozen=True)
class MatchActivity(Action, prefix="mt.a"):
    activity_id: int


@dataclass(frozen=True)
class MatchNeed(Action, prefix="mt.n"):
    need_id: int


@dataclass(frozen=True)
class Invite(Action, prefix="mt.i"):
    activity_id: int
    volunteer_id: int


@dataclass(frozen=True)
class CallVolunteers(Action, prefix="mt.call"):
    activity_id: int


@dataclass(frozen=True)
class NotInterested(Action, prefix="mt.no"):
    activity_id: int


class Qualifications(Action, prefix="q"):
    pass


@dataclass(frozen=True)
class RecordQualification(Action, prefix="q.r", sep=":"):
    volunteer_id: int
    code: str


@dataclass(frozen=True)
class WithdrawQualification(Action, prefix="q.w", sep=":"):
    volunteer_id: int
    code: str
