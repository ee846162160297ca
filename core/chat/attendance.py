"""Check-in and check-out in chat (2-6.3 a, 2-7.5.2, 3-6.2.3), my hours, make-up requests (补录,
2-6.3 c), the trainings completed and the service and training certificates (4-5.5, 2-7.4), for volunteers; the check-in code, check-in by hand,
confirming hours and deciding make-ups, for staff."""

from __future__ import annotations

import re
from datetime import datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from core.chat.forms import staff_only, volunteer_only
from core.chat.messages import Button, Choice, Document, Image, Input, Location, Photo, Text
from core.chat.router import Router
from core.chat.turn import Turn
from core.domain.actions import (
    Action,
    ApproveMakeup,
    AskProof,
    Certificate,
    CheckinCode,
    CheckinMenu,
    ConfirmAllRecords,
    ConfirmRecord,
    MakeupActivity,
    MakeupPhoto,
    Mark,
    Menu,
    MyActivities,
    MyHours,
    NewMakeup,
    OpenMakeups,
    OrganizerMenu,
    PartialMakeup,
    RejectMakeup,
    ReviewRecords,
    Roster,
    ShowMakeup,
    StaffCard,
    VoidRecord,
)
from core.domain.activity import Activity
from core.domain.attendance import PHOTO_MAX_BYTES, MakeupRequest, MakeupStatus, RecordStatus, ServiceRecord
from core.domain.certificate import CertificateKind
from core.domain.codes import Channel
from core.domain.identity_numbers import ascii_form
from core.domain.signup import HOLDS_PLACE, SignupStatus
from core.errors import DomainError, InvalidInput, NotEligible, NotFound
from core.services.access import require_staff
from core.services.activities import read_activity
from core.services.attendance import (
    Attended,
    Proof,
    attend,
    attendable_now,
    current_code,
    staff_check,
    wants_code,
    wants_location,
)
from core.services.certificates import issue_certificate
from core.services.records import (
    check_makeup_photo,
    check_makeup_reason,
    check_makeup_span,
    confirm_records,
    decide_makeup,
    hours_of,
    makeup_candidates,
    makeup_cap,
    makeup_example,
    makeup_for_staff,
    makeup_photo,
    partial_example,
    request_makeup,
    void_record,
)
from core.services.signups import mark_attendance
from core.services.stars import volunteer_standing

router = Router()

CHECKIN = "checkin"
MAKEUP = "makeup"
STAFF_REASON = "staff_reason"
SKIP_PHOTO = "f.skip"
_SKIP_WORDS = frozenset({"跳过", "skip", "无", "没有", "no"})
_EXTENSIONS = {"image/png": "png", "image/webp": "webp"}
_CODE = re.compile(r"^\d{6}$")
_SPAN = re.compile(r"^\s*(\d{1,2})[:：.](\d{2})\s*[-–—~至到]\s*(\d{1,2})[:：.](\d{2})\s*$")


def _onward(turn: Turn) -> tuple[Choice, Choice]:
    """Where a volunteer goes after an answer about hours: to their hours, or the menu."""
    return turn.choice("chat.button.hours", MyHours()), turn.choice("chat.button.menu", Menu())


def _plain(value: Decimal) -> str:
    """1, 1.5, 100: a number without the zeros it is stored with (1.00, 100.0)."""
    return format(value.normalize(), "f")


def _coefficient(value: Decimal) -> str:
    """1, 1.5, 1.25: as the brigade set it, not as stored (1.00)."""
    return _plain(value)


def _star_name(turn: Turn, level: int) -> str:
    """4-6.2.1: 一星 to 五星, as the catalog names them; stars drawn past the fifth."""
    return turn.t(f"hours.star_level.{level}") if 1 <= level <= 5 else "★" * level


# ---- volunteers: check-in and check-out ------------------------------------------------------------


@router.command("checkin", button=CheckinMenu)
@volunteer_only
async def checkin_menu(turn: Turn, volunteer_id: int, _: str = "") -> None:
    """签到/签退: the activities open for it now; with one, straight to what it needs."""
    found = await attendable_now(turn.uow, turn.clock, turn.policy, volunteer_id)
    if not found:
        turn.say(
            "checkin.none",
            turn.choice("chat.menu.mine", MyActivities()),
            turn.choice("chat.button.makeup", NewMakeup()),
            turn.choice("chat.button.menu", Menu()),
            before=turn.policy.checkin_opens_before_min,
        )
        return
    if len(found) == 1:
        await ask_proof(turn, AskProof(found[0].signup_id))
        return
    # open for check-in now: the time of day says which
    choices = [
        _activity_item(turn, a.title, a.starts_at, a.timezone, AskProof(a.signup_id), 11) for a in found
    ]
    turn.say("checkin.choose", *choices, turn.choice("chat.button.menu", Menu()))


def _activity_item(turn: Turn, title: str, starts_at: datetime, zone: str, action: Action, at: int) -> Choice:
    """An activity to pick: its title and when it starts (``local_time()[at:16]``), local to it."""
    when = turn.local_time(starts_at, zone)[at:16]
    return Choice(turn.label("checkin.item", "title", title=title, when=when), action.pack())


@router.button(AskProof)
async def ask_proof(turn: Turn, pressed: AskProof) -> None:
    signup_id = pressed.signup_id
    signup = await turn.uow.signups.get(signup_id)
    if signup is None or signup.volunteer_id != turn.actor.volunteer_id:
        raise NotFound("signup.not_found")
    activity = await read_activity(turn.uow, signup.activity_id)
    attendance = await turn.uow.attendances.for_signup(signup_id)
    action = turn.t("checkin.word.out" if attendance is not None else "checkin.word.in")
    if wants_location(activity):
        turn.state.start(CHECKIN, "location", signup=signup_id)
        turn.ask_location(
            "checkin.ask_location", action=action, title=activity.title, radius=activity.checkin_radius_m
        )
        return
    turn.state.start(CHECKIN, "code", signup=signup_id)
    turn.say("checkin.ask_code", turn.choice("chat.button.menu", Menu()), action=action, title=activity.title)


@router.flow(CHECKIN)
async def checkin_step(turn: Turn, given: Input) -> None:
    data = turn.state.data
    signup_id = int(data.get("signup", 0))
    if isinstance(given, Location):
        if given.update:
            return  # a live location's later points: its first point was the answer
        activity = await _activity_of_signup(turn, signup_id)
        if not wants_location(activity):
            # 3-5.3.2: online, by code only; the question stays open for it.
            turn.state.go("code")
            turn.say("checkin.online_needs_code", turn.choice("chat.button.menu", Menu()))
            return
        proof = _location_proof(turn, given)
        if wants_code(activity):
            # The location first, then the leader's code: kept in the dialog until the code comes.
            turn.state.go(
                "code", lat=given.latitude, lon=given.longitude, acc=given.accuracy_m, fwd=given.forwarded
            )
            turn.say("checkin.ask_code_too", clear_keyboard=True)
            return
        await _attend(turn, signup_id, proof)
        return
    code = ascii_form(given.text).strip() if isinstance(given, Text) else ""
    if _CODE.match(code):
        location = Proof(
            latitude=data.get("lat"),
            longitude=data.get("lon"),
            accuracy_m=data.get("acc"),
            forwarded=bool(data.get("fwd")),
            in_china_only=_in_china_only(turn),
            code=code,
        )
        await _attend(turn, signup_id, location)
        return
    if turn.state.step == "location":
        activity = await _activity_of_signup(turn, signup_id)
        turn.ask_location("checkin.need_location", radius=activity.checkin_radius_m)
        return
    turn.say("checkin.code_format", turn.choice("chat.button.menu", Menu()))


def _in_china_only(turn: Turn) -> bool:
    """WeChat positions are GCJ-02, defined in China only."""
    return turn.channel is Channel.WECHAT


def _location_proof(turn: Turn, given: Location) -> Proof:
    return Proof(
        latitude=given.latitude,
        longitude=given.longitude,
        accuracy_m=given.accuracy_m,
        forwarded=given.forwarded,
        in_china_only=_in_china_only(turn),
    )


async def _activity_of_signup(turn: Turn, signup_id: int) -> Activity:
    signup = await turn.uow.signups.get(signup_id)
    if signup is None:
        raise NotFound("signup.not_found")
    return await read_activity(turn.uow, signup.activity_id)


async def _attend(turn: Turn, signup_id: int, proof: Proof) -> None:
    turn.state.clear()
    try:
        done = await attend(turn.uow, turn.clock, turn.policy, turn.actor, signup_id, proof)
    except DomainError as error:
        # Said here rather than by the conversation: the volunteer can try again at once.
        signup = await turn.uow.signups.get(signup_id)
        activity = await turn.uow.activities.read(signup.activity_id) if signup is not None else None
        online = activity is not None and not wants_location(activity)
        if error.key == "checkin.wrong_code" and proof.latitude is None:
            # 3-5.3.2: a code typed without a location is an online check-in: no one on site to ask.
            error = InvalidInput("checkin.wrong_code_online")
        turn.say("checkin.refused_intro", clear_keyboard=True)
        turn.refuse(
            error,
            # Again as it is asked: a location on site, a code typed online.
            turn.choice(
                "checkin.button.again_code" if online else "checkin.button.again", AskProof(signup_id)
            ),
            turn.choice("chat.button.makeup", NewMakeup()),
            turn.choice("chat.button.menu", Menu()),
        )
        return
    _said_attended(turn, done)


def _said_attended(turn: Turn, done: Attended) -> None:
    activity = done.activity
    where = turn.t("checkin.distance", distance=done.distance_m) if done.distance_m is not None else ""
    if not done.checked_out:
        at = turn.local_time(done.attendance.checked_in_at, activity.timezone)
        turn.say("checkin.done_in", clear_keyboard=True, title=activity.title, at=at, where=where)
        turn.say(
            "checkin.after_in",
            turn.choice("checkin.button.out", AskProof(done.attendance.signup_id)),
            turn.choice("chat.button.menu", Menu()),
        )
        return
    at = turn.local_time(done.attendance.checked_out_at or turn.clock.now(), activity.timezone)
    turn.say("checkin.done_out", clear_keyboard=True, title=activity.title, at=at, where=where)
    record = done.record
    if record is None:
        turn.say("checkin.record_exists", turn.choice("chat.button.hours", MyHours()))
    elif record.below_minimum:
        turn.say(
            "checkin.below_minimum",
            *_onward(turn),
            onsite=record.onsite_hours,
            share=int(turn.policy.minimum_presence_share * 100),
        )
    else:
        turn.say(
            "checkin.hours" if activity.training_kind is None else "trainings.checkin.hours",
            *_onward(turn),
            onsite=record.onsite_hours,
            coefficient=_coefficient(record.coefficient),
            credited=record.credited_hours,
        )


async def location_anywhere(turn: Turn, given: Location) -> bool:
    """A location sent outside any question (Telegram's attachment menu, WeChat's + button): a check-in
    or check-out when exactly one activity is open for it. False: not one, said otherwise."""
    if turn.actor.volunteer_id is None:
        return False
    found = await attendable_now(turn.uow, turn.clock, turn.policy, turn.actor.volunteer_id)
    if len(found) != 1:
        return False
    # As if asked: a code still to come, or an online activity's code, is asked for next.
    turn.state.start(CHECKIN, "location", signup=found[0].signup_id)
    await checkin_step(turn, given)
    return True


# ---- volunteers: hours, make-up, certificate ------------------------------------------------------


def _record_mark(record: ServiceRecord) -> str:
    return "✔" if record.status is RecordStatus.CONFIRMED else "…"


async def _stars(turn: Turn, volunteer_id: int) -> str:
    """4-6.2.1: the stars, and until when they hold (or since when they lapsed)."""
    _, standing = await volunteer_standing(turn.uow, turn.policy, volunteer_id)
    if standing.level == 0 or standing.valid_until is None:
        return turn.t("hours.no_star")
    today = turn.clock.now().astimezone(ZoneInfo(turn.policy.default_timezone)).date()
    key = "hours.star_until" if standing.in_force(today) else "hours.star_lapsed"
    return turn.t(key, stars="★" * standing.level, until=standing.valid_until.isoformat())


@router.command("hours", button=MyHours)
@volunteer_only
async def my_hours(turn: Turn, volunteer_id: int, _: str = "") -> None:
    """我的时长: confirmed and pending hours, by activity; only confirmed hours count (2-6.3)."""
    hours = await hours_of(turn.uow, turn.policy, volunteer_id)
    lines = [
        turn.t(
            "hours.summary",
            confirmed=hours.confirmed,
            pending=hours.pending,
            stars=await _stars(turn, volunteer_id),
        )
    ]
    if hours.next_threshold is not None:
        lines.append(
            turn.t(
                "hours.next_star",
                hours=_plain(hours.next_threshold - hours.confirmed),
                level=_star_name(turn, hours.stars + 1),
                threshold=hours.next_threshold,
            )
        )
    for line in hours.lines[:20]:
        status = turn.t(f"code.record_status.{line.record.status.value}")
        lines.append(
            turn.t(
                "hours.line",
                mark=_record_mark(line.record),
                day=turn.local_time(line.starts_at, line.timezone)[:10],
                title=line.title,
                hours=line.record.credited_hours,
                status=status,
            )
        )
    if not hours.lines:
        lines.append(turn.t("hours.none"))
    if hours.trainings:
        # 2-7.4: trainings apart, below: their hours are not service hours.
        lines.append(turn.t("trainings.hours.title", count=len(hours.trainings)))
        for training in hours.trainings[:20]:
            lines.append(
                turn.t(
                    "trainings.hours.line",
                    day=turn.local_time(training.starts_at, training.timezone)[:10],
                    title=training.title,
                    kind=turn.t(f"code.training_kind.{training.kind.value}"),
                    hours=training.record.credited_hours,
                )
            )
    turn.say_text(
        "\n".join(lines),
        turn.choice("chat.button.certificate", Certificate()),
        turn.choice("chat.button.makeup", NewMakeup()),
        turn.choice("chat.button.menu", Menu()),
        columns=2,
    )


@router.command("makeup", button=NewMakeup)
@volunteer_only
async def start_makeup(turn: Turn, volunteer_id: int, _: str = "") -> None:
    """补录 (2-6.3 c): the activities of the last days whose hours can still be asked for."""
    found = await makeup_candidates(turn.uow, turn.clock, turn.policy, volunteer_id)
    if found:
        # within the last days: the date says which
        choices = [
            _activity_item(turn, a.title, a.starts_at, a.timezone, MakeupActivity(a.id or 0), 5)
            for a in found[:10]
        ]
        turn.say("makeup.choose", *choices, turn.choice("chat.button.menu", Menu()))
        return
    days = turn.policy.makeup_within_days
    turn.say("makeup.none", turn.choice("chat.button.hours", MyHours()), days=days)


@router.button(MakeupActivity)
async def makeup_activity(turn: Turn, action: MakeupActivity) -> None:
    activity = await read_activity(turn.uow, action.activity_id)
    turn.state.start(MAKEUP, "times", activity=activity.id)
    turn.say(
        "makeup.ask_times",
        turn.choice("chat.button.menu", Menu()),
        title=activity.title,
        start=turn.local_time(activity.starts_at, activity.timezone)[11:],
        end=turn.local_time(activity.ends_at, activity.timezone)[11:],
        example=makeup_example(activity),
    )


def _span(activity: Activity, text: str) -> tuple[datetime, datetime]:
    """09:00-11:30 on the day the activity is held, where it is held."""
    found = _SPAN.match(ascii_form(text))
    if found is None:
        raise InvalidInput("makeup.times_format", example=makeup_example(activity))
    h1, m1, h2, m2 = (int(x) for x in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise InvalidInput("makeup.times_format", example=makeup_example(activity))
    zone = ZoneInfo(activity.timezone)
    day = activity.start_day
    return (
        datetime.combine(day, time(h1, m1), zone),
        datetime.combine(day, time(h2, m2), zone),
    )


@router.flow(MAKEUP)
async def makeup_step(turn: Turn, given: Input) -> None:
    data = turn.state.data
    if turn.state.step == "photo":
        await _makeup_photo_step(turn, given)
        return
    text = given.text.strip() if isinstance(given, Text) else ""
    if not text:
        turn.say("makeup.text_please", turn.choice("chat.button.menu", Menu()))
        return
    activity = await read_activity(turn.uow, int(data.get("activity", 0)))
    if turn.state.step == "times":
        try:
            start, end = _span(activity, text)
            check_makeup_span(activity, start, end)
        except DomainError as error:
            turn.refuse(error, turn.choice("chat.button.menu", Menu()))
            return
        turn.state.go("reason", start=start.isoformat(), end=end.isoformat())
        turn.say("makeup.ask_reason", turn.choice("chat.button.menu", Menu()))
        return
    try:
        reason = check_makeup_reason(text)
    except DomainError as error:
        turn.refuse(error, turn.choice("chat.button.menu", Menu()))
        return
    # 2-6.3 c: a photo as evidence (a group photo on site) is asked for, and may be skipped.
    turn.state.go("photo", reason=reason)
    turn.say("makeup.ask_photo", *_photo_choices(turn), max=PHOTO_MAX_BYTES >> 20)


def _photo_choices(turn: Turn) -> tuple[Choice, Choice]:
    return turn.choice("makeup.button.skip_photo", SKIP_PHOTO), turn.choice("chat.button.menu", Menu())


async def _makeup_photo_step(turn: Turn, given: Input) -> None:
    """The optional photo: one image, or 跳过; anything else is asked again."""
    if isinstance(given, Photo):
        if given.too_large:
            turn.say("makeup.photo_too_large", *_photo_choices(turn), max=PHOTO_MAX_BYTES >> 20)
            return
        if not given.data:
            turn.say("makeup.photo_failed", *_photo_choices(turn))
            return
        try:
            check_makeup_photo(given.mime, given.data)
        except DomainError as error:
            turn.refuse(error, *_photo_choices(turn))
            return
        await _submit_makeup(turn, (given.mime, given.data))
        return
    skipped = isinstance(given, Button) and given.payload == SKIP_PHOTO
    typed = isinstance(given, Text) and given.text.strip().lower() in _SKIP_WORDS
    if skipped or typed:
        await _submit_makeup(turn, None)
        return
    turn.say("makeup.photo_please", *_photo_choices(turn))


async def _submit_makeup(turn: Turn, photo: tuple[str, bytes] | None) -> None:
    data = turn.state.data
    activity = await read_activity(turn.uow, int(data.get("activity", 0)))
    request = await request_makeup(
        turn.uow,
        turn.clock,
        turn.policy,
        turn.actor,
        activity.id or 0,
        datetime.fromisoformat(data["start"]),
        datetime.fromisoformat(data["end"]),
        str(data.get("reason", "")),
        photo,
    )
    turn.state.clear()
    turn.say(
        "makeup.submitted_with_photo" if photo is not None else "makeup.submitted",
        *_onward(turn),
        title=activity.title,
        hours=request.requested_hours,
    )


_CERTIFICATE_KINDS = {"s": CertificateKind.SERVICE, "t": CertificateKind.TRAINING}


@router.button(Certificate)
async def certificate_pressed(turn: Turn, action: Certificate) -> None:
    await certificate(turn, action.kind or "")


@router.command("certificate")
@volunteer_only
async def certificate(turn: Turn, volunteer_id: int, arg: str = "") -> None:
    """4-5.5: free, on request; a PDF where the channel can carry one, and its number to verify.
    2-7.4: a volunteer with trainings completed is asked which: the service or the training certificate."""
    kind = _CERTIFICATE_KINDS.get(arg.strip())
    if kind is None:
        if (await hours_of(turn.uow, turn.policy, volunteer_id)).trainings:
            turn.say(
                "trainings.cert.which",
                turn.choice("trainings.cert.button.service", Certificate("s")),
                turn.choice("trainings.cert.button.training", Certificate("t")),
                turn.choice("chat.button.menu", Menu()),
            )
            return
        kind = CertificateKind.SERVICE
    try:
        issued = await issue_certificate(turn.uow, turn.clock, turn.policy, turn.actor, kind)
    except NotEligible as error:
        if error.key != "cert.no_hours":
            raise
        # No confirmed hours yet: the ways to get some, and where to see those waiting.
        turn.refuse(
            error,
            turn.choice("chat.menu.checkin", CheckinMenu()),
            turn.choice("chat.button.makeup", NewMakeup()),
            turn.choice("chat.button.hours", MyHours()),
            turn.choice("chat.button.menu", Menu()),
        )
        return
    content = issued.content
    training = kind is CertificateKind.TRAINING
    if turn.documents is not None:
        data = turn.documents.certificate(content, turn.language)
        caption = turn.t("trainings.cert.caption" if training else "cert.caption", number=content.number)
        turn.replies.append(Document(data, f"{content.number}.pdf", caption))
    turn.say(
        "trainings.cert.issued" if training else "cert.issued",
        *_onward(turn),
        number=content.number,
        hours=content.total_hours,
        count=len(content.lines),
        url=content.verify_url,
    )


# ---- staff ------------------------------------------------------------------------------------------


@router.button(CheckinCode)
async def show_code(turn: Turn, action: CheckinCode) -> None:
    """The rotating code the leader shows on site or reads out online (3-5.3.2)."""
    activity = await read_activity(turn.uow, action.activity_id)
    shown = await current_code(turn.uow, turn.clock, turn.policy, turn.actor, activity.id or 0)
    turn.say(
        "checkin.code_shown",
        turn.choice("checkin.button.refresh", CheckinCode(activity.id or 0)),
        turn.choice("chat.org.view", StaffCard(activity.id or 0)),
        columns=2,
        title=activity.title,
        code=shown.code,
        until=turn.local_time(shown.valid_until, activity.timezone)[11:],
    )


@router.button(Roster)
async def roster(turn: Turn, action: Roster) -> None:
    """2-6.3 a: who is in, out or absent; staff check people in and out by hand (recorded as manual)."""
    activity = await read_activity(turn.uow, action.activity_id)
    await require_staff(turn.uow, turn.actor, activity.org_id, write=False)
    turn.state.clear()
    assert activity.id is not None
    present = {a.signup_id: a for a in await turn.uow.attendances.for_activity(activity.id)}
    choices: list[Choice] = []
    for signup in await turn.uow.signups.for_activity(activity.id):
        if signup.status not in HOLDS_PLACE or signup.id is None:
            continue
        volunteer = await turn.uow.volunteers.read(signup.volunteer_id)
        name = volunteer.name if volunteer else "?"
        attendance = present.get(signup.id)
        if attendance is None:
            mark = "❌" if signup.status is SignupStatus.ABSENT else "⬜"
            choices.append(
                Choice(
                    turn.label("attendance.check_in", "name", mark=mark, name=name),
                    Mark(signup.id, True).pack(),
                )
            )
            if signup.status is not SignupStatus.ABSENT:
                choices.append(
                    Choice(turn.label("attendance.absent", "name", name=name), Mark(signup.id, False).pack())
                )
        elif attendance.open:
            choices.append(
                Choice(turn.label("attendance.check_out", "name", name=name), Mark(signup.id, True).pack())
            )
        else:
            choices.append(
                Choice(turn.label("attendance.done", "name", name=name), Roster(activity.id or 0).pack())
            )
    if not choices:
        turn.say("chat.org.signups.none", turn.choice("chat.org.view", StaffCard(activity.id or 0)))
        return
    choices += [
        turn.choice("checkin.button.code", CheckinCode(activity.id or 0)),
        turn.choice("records.button.review", ReviewRecords(activity.id or 0)),
        turn.choice("chat.org.view", StaffCard(activity.id or 0)),
    ]
    turn.say("attendance.title", *choices, columns=2, title=activity.title)


@router.button(Mark)
async def mark(turn: Turn, action: Mark) -> None:
    if action.present:
        done = await staff_check(turn.uow, turn.clock, turn.policy, turn.actor, action.signup_id)
        activity_id = done.activity.id
    else:
        signup = await mark_attendance(turn.uow, turn.clock, turn.actor, action.signup_id, attended=False)
        activity_id = signup.activity_id
    assert activity_id is not None
    await roster(turn, Roster(activity_id))


@router.button(ReviewRecords)
async def review_records(turn: Turn, action: ReviewRecords) -> None:
    """谁组织谁记录: the activity's pending records, to confirm or void; flagged ones say why."""
    activity = await read_activity(turn.uow, action.activity_id)
    await require_staff(turn.uow, turn.actor, activity.org_id, write=False)
    turn.state.clear()
    records = [
        r
        for r in await turn.uow.records.for_activity(activity.id or 0)
        if r.status is not RecordStatus.VOIDED
    ]
    if not records:
        turn.say(
            "records.none", turn.choice("chat.org.view", StaffCard(activity.id or 0)), title=activity.title
        )
        return
    lines = [turn.t("records.title", title=activity.title)]
    choices: list[Choice] = []
    for n, record in enumerate(records, 1):
        volunteer = await turn.uow.volunteers.read(record.volunteer_id)
        flags = []
        if record.needs_review:
            flags.append(turn.t("records.flag.auto" if not record.below_minimum else "records.flag.short"))
        if record.manual:
            flags.append(turn.t("records.flag.manual"))
        lines.append(
            turn.t(
                "records.line",
                n=n,
                name=volunteer.name if volunteer else "?",
                start=turn.local_time(record.started_at, activity.timezone)[11:],
                end=turn.local_time(record.ended_at, activity.timezone)[11:],
                onsite=record.onsite_hours,
                coefficient=_coefficient(record.coefficient),
                credited=record.credited_hours,
                status=turn.t(f"code.record_status.{record.status.value}"),
                flags=(" · " + turn.join(flags)) if flags else "",
            )
        )
        if record.status is RecordStatus.PENDING:
            choices.append(
                Choice(turn.t("records.button.confirm_one", n=n), ConfirmRecord(record.id or 0).pack())
            )
        choices.append(Choice(turn.t("records.button.void", n=n), VoidRecord(record.id or 0).pack()))
    if any(r.status is RecordStatus.PENDING for r in records):
        choices.insert(0, turn.choice("records.button.confirm_all", ConfirmAllRecords(activity.id or 0)))
    choices.append(turn.choice("chat.org.view", StaffCard(activity.id or 0)))
    turn.say_text("\n".join(lines), *choices, columns=2)


@router.button(ConfirmRecord)
async def confirm_one(turn: Turn, action: ConfirmRecord) -> None:
    records = await confirm_records(turn.uow, turn.clock, turn.policy, turn.actor, [action.record_id])
    turn.say("records.confirmed", count=len(records))
    await review_records(turn, ReviewRecords(records[0].activity_id))


@router.button(ConfirmAllRecords)
async def confirm_all(turn: Turn, action: ConfirmAllRecords) -> None:
    activity_id = action.activity_id
    pending = [
        r.id or 0
        for r in await turn.uow.records.for_activity(activity_id)
        if r.status is RecordStatus.PENDING
    ]
    records = await confirm_records(turn.uow, turn.clock, turn.policy, turn.actor, pending)
    turn.say("records.confirmed", count=len(records))
    await review_records(turn, ReviewRecords(activity_id))


@router.button(VoidRecord)
async def ask_void(turn: Turn, action: VoidRecord) -> None:
    record = await turn.uow.records.get(action.record_id)
    if record is None:
        raise NotFound("record.not_found")
    await require_staff(turn.uow, turn.actor, record.org_id)
    turn.state.start(STAFF_REASON, "void", record=record.id)
    turn.say("records.ask_void_reason", turn.choice("chat.button.menu", Menu()))


@router.command("makeups", button=OpenMakeups)
@staff_only
async def open_makeups(turn: Turn, _: str = "") -> None:
    """补录申请 waiting for the staff's orgs."""
    org_ids = None if turn.actor.admin else sorted(turn.actor.staff_of)
    waiting = await turn.uow.makeups.pending_for_orgs(org_ids, 20)
    if not waiting:
        turn.say("makeup.staff.none", turn.choice("chat.menu.organizer", OrganizerMenu()))
        return
    choices = []
    for request in waiting:
        volunteer = await turn.uow.volunteers.read(request.volunteer_id)
        activity = await read_activity(turn.uow, request.activity_id)
        label = turn.label(
            "makeup.staff.item", "title", name=volunteer.name if volunteer else "?", title=activity.title
        )
        choices.append(Choice(label, ShowMakeup(request.id or 0).pack()))
    turn.say("makeup.staff.list", *choices, turn.choice("chat.menu.organizer", OrganizerMenu()))


@router.button(ShowMakeup)
async def show_makeup(turn: Turn, action: ShowMakeup) -> None:
    request = await makeup_for_staff(turn.uow, turn.actor, action.request_id, write=False)
    turn.state.clear()
    activity = await read_activity(turn.uow, request.activity_id)
    volunteer = await turn.uow.volunteers.read(request.volunteer_id)
    text = turn.t(
        "makeup.staff.card",
        name=volunteer.name if volunteer else "?",
        number=(volunteer.volunteer_number if volunteer else "") or "-",
        title=activity.title,
        scheduled=turn.local_time(activity.starts_at, activity.timezone)
        + "–"
        + turn.local_time(activity.ends_at, activity.timezone)[11:],
        start=turn.local_time(request.started_at, activity.timezone)[11:],
        end=turn.local_time(request.ended_at, activity.timezone)[11:],
        cap=makeup_cap(request, activity),
        coefficient=_coefficient(activity.hours_coefficient),
        reason=request.reason,
        status=turn.t(f"code.makeup_status.{request.status.value}"),
    )
    if request.has_photo:
        text += "\n" + turn.t("makeup.staff.has_photo")
    turn.say_text(text, *_decision_choices(turn, request, photo=request.has_photo))


def _decision_choices(turn: Turn, request: MakeupRequest, *, photo: bool) -> list[Choice]:
    choices = [turn.choice("makeup.staff.list_button", OpenMakeups())]
    if photo:
        choices.insert(0, turn.choice("makeup.button.photo", MakeupPhoto(request.id or 0)))
    if request.status is MakeupStatus.PENDING:
        choices[:0] = [
            turn.choice("makeup.button.approve", ApproveMakeup(request.id or 0)),
            turn.choice("makeup.button.partial", PartialMakeup(request.id or 0)),
            turn.choice("makeup.button.reject", RejectMakeup(request.id or 0)),
        ]
    return choices


@router.button(MakeupPhoto)
async def show_makeup_photo(turn: Turn, action: MakeupPhoto) -> None:
    """查看照片: the photo a volunteer attached, then the decision again (2-6.3 c)."""
    request_id = action.request_id
    mime, data = await makeup_photo(turn.uow, turn.actor, request_id)
    request = await turn.uow.makeups.get(request_id)
    assert request is not None
    turn.state.clear()
    filename = f"makeup-{request_id}.{_EXTENSIONS.get(mime, 'jpg')}"
    turn.replies.append(Image(data, filename, turn.t("makeup.staff.photo_caption")))
    turn.say("makeup.staff.after_photo", *_decision_choices(turn, request, photo=False))


@router.button(ApproveMakeup)
async def approve_makeup(turn: Turn, action: ApproveMakeup) -> None:
    request = await decide_makeup(
        turn.uow, turn.clock, turn.policy, turn.actor, action.request_id, approve=True
    )
    turn.say("makeup.staff.approved", hours=request.approved_hours)
    await open_makeups(turn)


@router.button(PartialMakeup)
async def ask_partial(turn: Turn, action: PartialMakeup) -> None:
    request = await makeup_for_staff(turn.uow, turn.actor, action.request_id)
    activity = await read_activity(turn.uow, request.activity_id)
    turn.state.start(STAFF_REASON, "partial", makeup=request.id)
    cap = makeup_cap(request, activity)
    turn.say(
        "makeup.staff.ask_hours",
        turn.choice("chat.button.menu", Menu()),
        cap=cap,
        example=partial_example(cap),
    )


@router.button(RejectMakeup)
async def ask_reject(turn: Turn, action: RejectMakeup) -> None:
    request = await makeup_for_staff(turn.uow, turn.actor, action.request_id)
    turn.state.start(STAFF_REASON, "reject", makeup=request.id)
    turn.say("makeup.staff.ask_reason", turn.choice("chat.button.menu", Menu()))


@router.flow(STAFF_REASON)
async def staff_reason_step(turn: Turn, given: Input) -> None:
    """The typed answer a staff decision waits for: a void reason, fewer hours, a rejection reason."""
    text = given.text.strip() if isinstance(given, Text) else ""
    if not text or text.startswith("/"):
        turn.say("makeup.text_please", turn.choice("chat.button.menu", Menu()))
        return
    data, step = turn.state.data, turn.state.step
    if step == "void":
        record = await void_record(turn.uow, turn.clock, turn.policy, turn.actor, int(data["record"]), text)
        turn.state.clear()
        turn.say("records.voided")
        await review_records(turn, ReviewRecords(record.activity_id))
        return
    if step == "partial":
        try:
            hours = Decimal(ascii_form(text).replace("小时", "").replace("h", "").strip())
        except InvalidOperation:
            request = await makeup_for_staff(turn.uow, turn.actor, int(data["makeup"]))
            cap = makeup_cap(request, await read_activity(turn.uow, request.activity_id))
            turn.say(
                "makeup.staff.hours_format",
                turn.choice("chat.button.menu", Menu()),
                cap=cap,
                example=partial_example(cap),
            )
            return
        request = await decide_makeup(
            turn.uow, turn.clock, turn.policy, turn.actor, int(data["makeup"]), approve=True, hours=hours
        )
        turn.state.clear()
        turn.say("makeup.staff.approved", hours=request.approved_hours)
        await open_makeups(turn)
        return
    await decide_makeup(
        turn.uow, turn.clock, turn.policy, turn.actor, int(data["makeup"]), approve=False, reason=text
    )
    turn.state.clear()
    turn.say("makeup.staff.rejected")
    await open_makeups(turn)
