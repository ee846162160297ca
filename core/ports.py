"""What the core needs from the outside world, as small protocols. storage/ implements them for
SQLAlchemy; tests may use the same implementation on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from core.chat.messages import Reply
from core.domain.activity import Activity, ActivityStatus, Base, Project
from core.domain.attendance import Attendance, MakeupRequest, RecordSource, RecordStatus, ServiceRecord
from core.domain.audit import AuditEntry
from core.domain.certificate import Certificate, CertificateSnapshot
from core.domain.codes import Channel, IdType
from core.domain.dialog import DialogState, Feedback, Notice
from core.domain.evaluation import Evaluation
from core.domain.linking import LinkCode
from core.domain.matching import Candidate, Target
from core.domain.need import Need
from core.domain.organization import Organization, OrgStatus
from core.domain.people import ChannelIdentity, Consent, ConsentKind, RoleGrant, User
from core.domain.report import ActivityReport
from core.domain.signup import Signup, SignupStatus
from core.domain.survey import SurveyKind, SurveyResponse
from core.domain.volunteer import Membership, MembershipStatus, Volunteer, VolunteerStatus


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class Caller:
    """Who sent a message and where their conversation stands, read at the start of a turn."""

    user_id: int
    language: str
    dialog: DialogState
    volunteer_id: int | None  # None: not registered
    volunteer_status: VolunteerStatus | None
    has_roles: bool  # any live role grant: only then are the grants read
    unreachable: bool = False  # delivery to this identity was refused for good until now


@dataclass(frozen=True)
class RecordExportRow:
    """One service record as an export lists it (民函〔2012〕340号 elements), read in one join."""

    record_id: int
    volunteer_id: int
    name: str
    id_type: IdType | None
    id_number: str | None
    phone: str
    volunteer_number: str | None
    registered_at: datetime
    activity_title: str
    timezone: str  # the activity's
    org_name: str
    started_at: datetime
    ended_at: datetime
    onsite_hours: Decimal
    coefficient: Decimal
    credited_hours: Decimal
    status: RecordStatus
    source: RecordSource
    manual: bool
    decided_by: int | None
    decider_name: str  # the decider's volunteer name, else their display name; "" when unknown
    decided_at: datetime | None
    void_reason: str | None
    staff_member: bool  # a current member of one of the orgs in ``staff_of``: who may see full data


@dataclass(frozen=True)
class MemberExportRow:
    """One member of an org as its volunteer list shows them, read in one join."""

    volunteer_id: int
    name: str
    id_type: IdType | None
    id_number: str | None
    phone: str
    volunteer_number: str | None
    registered_at: datetime
    region: str
    status: VolunteerStatus
    membership: MembershipStatus
    joined_at: datetime  # approved, or asked when still pending
    confirmed_hours: Decimal  # confirmed records organized by this org
    staff_member: bool  # as RecordExportRow.staff_member


class UserRepository(Protocol):
    async def add(self, user: User) -> User: ...
    async def get(self, user_id: int) -> User | None: ...
    async def by_identity(self, channel: Channel, external_id: str) -> User | None: ...
    async def languages(self, user_ids: Sequence[int]) -> dict[int, str]:
        """Each existing user's language, in one read (the dispatcher's batch)."""
        ...

    async def caller(self, channel: Channel, external_id: str) -> Caller | None:
        """In one read, for a known user whose dialog exists; the dialog is locked as
        ``DialogRepository.for_user`` locks it, and changes to it are kept only by
        ``DialogRepository.save``. None otherwise (first contact)."""
        ...


class IdentityRepository(Protocol):
    async def add(self, identity: ChannelIdentity) -> ChannelIdentity: ...
    async def get(self, channel: Channel, external_id: str) -> ChannelIdentity | None: ...
    async def for_user(self, user_id: int) -> list[ChannelIdentity]: ...
    async def set_unreachable(self, channel: Channel, external_id: str, at: datetime | None) -> None: ...
    async def remove_for_user(self, user_id: int) -> int: ...
    async def for_users(self, user_ids: Sequence[int]) -> list[ChannelIdentity]:
        """``for_user`` for many at once (the dispatcher's batch), in id order."""
        ...


class GrantRepository(Protocol):
    async def add(self, grant: RoleGrant) -> RoleGrant: ...
    async def active_for_user(self, user_id: int) -> list[RoleGrant]: ...
    async def staff_of(self, org_id: int) -> list[RoleGrant]: ...


class ConsentRepository(Protocol):
    async def add(self, consent: Consent) -> Consent: ...
    async def active(self, user_id: int, kind: ConsentKind) -> Consent | None: ...
    async def for_user(self, user_id: int) -> list[Consent]: ...


class OrganizationRepository(Protocol):
    async def add(self, org: Organization) -> Organization: ...
    async def get(self, org_id: int) -> Organization | None: ...
    async def get_for_update(self, org_id: int) -> Organization | None: ...
    async def by_name(self, name: str) -> Organization | None: ...
    async def name_of(self, org_id: int) -> str | None: ...
    async def children(self, parent_id: int) -> list[Organization]: ...
    async def descendant_ids(self, org_id: int) -> list[int]: ...
    async def ancestor_ids(self, org_id: int) -> list[int]: ...
    async def pending_children(
        self, parent_ids: list[int], *, top_level: bool = False, limit: int = 20
    ) -> list[Organization]:
        """Applications (1-5.3) under these parents, and those with no parent when top_level."""
        ...

    async def list(self, status: OrgStatus | None = None) -> list[Organization]: ...


class VolunteerRepository(Protocol):
    async def add(self, volunteer: Volunteer) -> Volunteer: ...
    async def get(self, volunteer_id: int) -> Volunteer | None: ...
    async def read(self, volunteer_id: int) -> Volunteer | None:
        """A copy to decide on (``ActivityRepository.read``): changing it changes nothing."""
        ...

    async def by_user(self, user_id: int) -> Volunteer | None: ...
    async def by_number(self, number: str) -> Volunteer | None: ...
    async def recruitable(self, org_ids: Sequence[int], activity_id: int) -> list[Recruit]:
        """Active volunteers, active members of any of these orgs, not signed up for the activity."""
        ...

    async def user_id_of(self, volunteer_id: int) -> int | None:
        """Whom to tell: the user behind a volunteer, without reading the record."""
        ...

    async def count_in_orgs(self, org_ids: list[int]) -> int: ...
    async def members_for_export(
        self, org_id: int, staff_of: Sequence[int], after_id: int, limit: int
    ) -> list[MemberExportRow]:
        """Current members (pending or active) of the org, with their confirmed hours there, in one read
        of at most ``limit`` rows, by volunteer id after ``after_id`` (the next page of an export)."""
        ...


class MembershipRepository(Protocol):
    async def add(self, membership: Membership) -> Membership: ...
    async def get(self, volunteer_id: int, org_id: int) -> Membership | None: ...
    async def for_volunteer(self, volunteer_id: int) -> list[Membership]: ...
    async def for_org(self, org_id: int) -> list[Membership]: ...
    async def pending_for_orgs(self, org_ids: list[int], limit: int = 20) -> list[Membership]: ...


@dataclass(frozen=True)
class ActivityQuery:
    """What a volunteer filters the list by; all optional."""

    statuses: frozenset[ActivityStatus] = frozenset({ActivityStatus.PUBLISHED, ActivityStatus.ONGOING})
    org_ids: tuple[int, ...] | None = None
    service_content: str | None = None
    starts_after: datetime | None = None
    starts_before: datetime | None = None
    online_only: bool = False
    trainings: bool = True  # False: service activities only (2-7.4: a training's hours are not service)
    # (south, north, west, east): only activities with a place inside (core.domain.activity.bounding_box)
    within: tuple[float, float, float, float] | None = None
    limit: int = 10
    offset: int = 0


@dataclass(frozen=True)
class Recruit:
    """What a recruitment broadcast needs to know of a volunteer to decide whether to call them."""

    user_id: int
    service_areas: tuple[str, ...]
    qualifications: tuple[str, ...]
    birth_date: date | None


@dataclass(frozen=True)
class SignupRef:
    """What a card and a new sign-up need to know of an existing sign-up."""

    id: int
    status: SignupStatus


@dataclass(frozen=True)
class ActivityBrief:
    """What a list of activities shows of each: read without the whole plan."""

    id: int
    title: str
    starts_at: datetime
    timezone: str
    capacity: int
    latitude: float | None
    longitude: float | None
    ends_at: datetime  # a report's attendance counts only the activities that have ended (3-8.2)


class ActivityRepository(Protocol):
    async def add(self, activity: Activity) -> Activity: ...
    async def get(self, activity_id: int) -> Activity | None: ...
    async def read(self, activity_id: int, *, lock: bool = False) -> Activity | None:
        """A copy to show or to decide on, read as plain values: not part of the unit of work, so
        changing it changes nothing; about a third of the cost of ``get``. ``lock`` locks the row
        for the transaction as ``get_for_update`` does."""
        ...

    async def get_for_update(self, activity_id: int) -> Activity | None: ...
    async def search(self, query: ActivityQuery) -> list[Activity]: ...
    async def search_brief(self, query: ActivityQuery) -> list[ActivityBrief]: ...
    async def count_in_orgs(self, org_ids: list[int]) -> int: ...
    async def starting_between(
        self, since: datetime, until: datetime, statuses: frozenset[ActivityStatus]
    ) -> list[Activity]: ...
    async def ending_between(
        self, since: datetime, until: datetime, statuses: frozenset[ActivityStatus]
    ) -> list[Activity]:
        """Activities in these statuses that ended after ``since`` and at or before ``until``."""
        ...


class SignupRepository(Protocol):
    async def add(self, signup: Signup) -> Signup: ...
    async def get(self, signup_id: int) -> Signup | None: ...
    async def get_for_update(self, signup_id: int) -> Signup | None: ...
    async def live(self, activity_id: int, volunteer_id: int) -> SignupRef | None:
        """The volunteer's applied, confirmed or waitlisted sign-up for the activity, if any."""
        ...

    async def count(self, activity_id: int, statuses: frozenset[SignupStatus]) -> int: ...
    async def count_each(
        self, activity_ids: Sequence[int], statuses: frozenset[SignupStatus]
    ) -> dict[int, int]:
        """``count`` for several activities in one read; an activity with none is 0."""
        ...

    async def count_by_status(self, activity_ids: Sequence[int]) -> dict[int, dict[SignupStatus, int]]:
        """How many sign-ups of each status each activity has, in one read; an activity with none
        has an empty mapping."""
        ...

    async def first_waitlisted(self, activity_id: int) -> Signup | None: ...
    async def for_activity(self, activity_id: int) -> list[Signup]: ...
    async def for_volunteer(self, volunteer_id: int) -> list[Signup]: ...
    async def answer_overdue(self, now: datetime, limit: int) -> list[Signup]: ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> AuditEntry: ...
    async def for_entity(self, entity: str, entity_id: int) -> list[AuditEntry]: ...
    async def count_since(self, entity: str, entity_id: int, action: str, since: datetime) -> int: ...


class BaseRepository(Protocol):
    async def add(self, base: Base) -> Base: ...
    async def get(self, base_id: int) -> Base | None: ...
    async def list(self) -> list[Base]: ...


class ProjectRepository(Protocol):
    async def add(self, project: Project) -> Project: ...
    async def get(self, project_id: int) -> Project | None: ...


class DialogRepository(Protocol):
    async def for_user(self, user_id: int, now: datetime) -> DialogState: ...
    async def save(self, state: DialogState) -> None:
        """Writes the state back: it is a plain value, which the unit of work does not track."""
        ...


class Unsent(NamedTuple):
    pending: int
    failed: int
    withdrawn: int


class NoticeRepository(Protocol):
    async def get(self, notice_id: int) -> Notice | None: ...
    async def add_once(self, notice: Notice) -> bool: ...
    async def add_for_each(self, template: Notice, recipients: Sequence[tuple[str, int]]) -> None:
        """The template's message queued for each (key, user id), in one statement (a broadcast); a
        key already queued is skipped, as ``add_once`` does."""
        ...

    async def due(self, now: datetime, limit: int) -> list[Notice]: ...
    async def for_user(self, user_id: int) -> list[Notice]: ...
    async def pending_with_prefix(self, prefix: str) -> list[Notice]:
        """``pending`` for every key that starts with ``prefix`` (a broadcast's calls)."""
        ...

    async def pending(self, keys: Sequence[str]) -> list[Notice]:
        """Those of these keys not yet sent, given up or withdrawn, locked for this transaction
        (the dispatcher skips a locked notice)."""
        ...

    async def queued(self, keys: Sequence[str]) -> set[str]:
        """Those of these keys queued already, whatever became of them (sent, pending, withdrawn)."""
        ...

    async def get_many(self, ids: Sequence[int]) -> list[Notice]: ...
    async def mark_sent(self, ids: Sequence[int], at: datetime) -> None:
        """Those of these not marked sent yet are sent at ``at`` (one statement, the dispatcher's batch)."""
        ...

    async def unsent_with_prefix(self, prefix: str) -> Unsent:
        """Of the notices whose key starts with ``prefix`` (a broadcast's calls), those not sent, by
        what became of them; reads no sent row."""
        ...


class FeedbackRepository(Protocol):
    async def add(self, feedback: Feedback) -> Feedback: ...
    async def get(self, feedback_id: int) -> Feedback | None: ...
    async def open_for_orgs(self, org_ids: list[int] | None, limit: int) -> list[Feedback]:
        """Unanswered items of these orgs (all when None), with the complaints escalated to them."""
        ...

    async def overdue_complaints(self, filed_before: datetime, limit: int) -> list[Feedback]:
        """Complaints tied to an org, unanswered and never escalated, filed before the moment; locked
        for this transaction (a second scheduler skips them)."""
        ...

    async def complaints(
        self,
        org_ids: Sequence[int],
        since: datetime | None,
        until: datetime | None,
        activity_id: int | None = None,
    ) -> list[Feedback]:
        """Complaints of these orgs filed in [since, until) (or about the activity), oldest first."""
        ...

    async def for_user(self, user_id: int) -> list[Feedback]: ...


class EvaluationRepository(Protocol):
    """2-10.1: the staff's evaluation of each attendee, one per volunteer and activity."""

    async def add(self, evaluation: Evaluation) -> Evaluation: ...
    async def of(self, activity_id: int, volunteer_id: int) -> Evaluation | None:
        """Locked for this transaction (two staff correcting one evaluation at once)."""
        ...

    async def for_activity(self, activity_id: int) -> list[Evaluation]: ...
    async def for_volunteer(self, volunteer_id: int) -> list[Evaluation]:
        """Newest first."""
        ...


class LinkCodeRepository(Protocol):
    async def add(self, code: LinkCode) -> LinkCode: ...
    async def latest_for_update(self, code_hash: str) -> LinkCode | None:
        """The newest code with this hash, locked for this transaction (redeemed once, even by two instances)."""
        ...

    async def live_for_user(self, user_id: int, now: datetime) -> list[LinkCode]: ...


class NeedRepository(Protocol):
    async def add(self, need: Need) -> Need: ...
    async def get(self, need_id: int) -> Need | None: ...
    async def get_for_update(self, need_id: int) -> Need | None: ...
    async def open_for_orgs(self, org_ids: list[int] | None, limit: int) -> list[Need]:
        """Waiting for review or to be taken (addressed to these orgs or to none), and taken by them."""
        ...

    async def for_user(self, user_id: int) -> list[Need]: ...


class SurveyRepository(Protocol):
    async def add(self, response: SurveyResponse) -> SurveyResponse: ...
    async def for_activity(self, activity_id: int) -> list[SurveyResponse]: ...
    async def for_activities(self, activity_ids: Sequence[int]) -> list[SurveyResponse]:
        """The answers to all these activities' surveys, in a few reads whatever their number."""
        ...

    async def answered(self, activity_id: int, kind: SurveyKind, user_id: int) -> bool: ...
    async def first_answer(self, activity_id: int, kind: SurveyKind, user_id: int) -> bool:
        """Records who answered, apart from the answers; False when they had answered already."""
        ...


@dataclass(frozen=True)
class Attendable:
    """A sign-up whose activity is near enough in time to check in or out of."""

    signup_id: int
    activity_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str


class AttendanceRepository(Protocol):
    async def add(self, attendance: Attendance) -> Attendance: ...
    async def get(self, attendance_id: int) -> Attendance | None: ...
    async def for_signup(self, signup_id: int) -> Attendance | None:
        """Locked for this transaction (a check-in and a check-out racing for one row)."""
        ...

    async def for_activity(self, activity_id: int) -> list[Attendance]: ...
    async def attendable(
        self, volunteer_id: int, starts_before: datetime, ends_after: datetime
    ) -> list[Attendable]:
        """Confirmed or attended sign-ups of published activities that start before ``starts_before``
        and end after ``ends_after``, soonest first."""
        ...

    async def open_ended_before(self, moment: datetime, limit: int) -> list[Attendance]:
        """Still open (no check-out) though their activity ended before ``moment``."""
        ...

    async def coordinates_expired(self, now: datetime, limit: int) -> list[Attendance]: ...


class ServiceRecordRepository(Protocol):
    async def add(self, record: ServiceRecord) -> ServiceRecord: ...
    async def get(self, record_id: int) -> ServiceRecord | None: ...
    async def get_for_update(self, record_id: int) -> ServiceRecord | None: ...
    async def live(self, volunteer_id: int, activity_id: int) -> ServiceRecord | None:
        """The pending or confirmed record of this volunteer at this activity (at most one)."""
        ...

    async def for_volunteer(self, volunteer_id: int) -> list[ServiceRecord]: ...
    async def for_activity(self, activity_id: int) -> list[ServiceRecord]: ...
    async def confirmed_hours_each(self, activity_ids: Sequence[int]) -> dict[int, Decimal]:
        """Confirmed credited hours per activity, summed by the database; an activity with none is absent."""
        ...

    async def pending_for_orgs(self, org_ids: Sequence[int] | None, limit: int) -> list[ServiceRecord]: ...
    async def confirmed_hours(self, volunteer_id: int) -> Decimal:
        """Confirmed service hours; a training's hours are not among them (2-7.4)."""
        ...

    async def records_for_export(
        self,
        org_id: int,
        since: datetime | None,
        until: datetime | None,
        staff_of: Sequence[int],
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> list[RecordExportRow]:
        """Every record the org organized (voided ones too) that started in [since, until), with its
        volunteer, activity and decider, in one read of at most ``limit`` rows, by start and id after
        ``after`` (the next page of an export)."""
        ...


class MakeupRepository(Protocol):
    async def add(self, request: MakeupRequest) -> MakeupRequest: ...
    async def get(self, request_id: int) -> MakeupRequest | None: ...
    async def get_for_update(self, request_id: int) -> MakeupRequest | None: ...
    async def pending(self, volunteer_id: int, activity_id: int) -> MakeupRequest | None: ...
    async def pending_for_orgs(self, org_ids: Sequence[int] | None, limit: int) -> list[MakeupRequest]: ...
    async def add_photo(self, makeup_id: int, mime: str, data: bytes) -> None: ...
    async def photo(self, makeup_id: int) -> tuple[str, bytes] | None: ...  # type and bytes (2-6.3 c)
    async def for_volunteer(self, volunteer_id: int) -> list[MakeupRequest]: ...


class CertificateRepository(Protocol):
    async def add(self, certificate: Certificate) -> Certificate: ...
    async def by_number(self, number: str) -> Certificate | None: ...
    async def for_volunteer(self, volunteer_id: int) -> list[Certificate]: ...


@dataclass(frozen=True)
class Unreported:
    """An activity held and ended with no record filed yet (3-6.3): what a reminder or a list needs."""

    activity_id: int
    org_id: int
    title: str
    ends_at: datetime
    timezone: str


class ActivityReportRepository(Protocol):
    async def add(self, report: ActivityReport) -> ActivityReport: ...
    async def get_for_update(self, report_id: int) -> ActivityReport | None: ...
    async def for_activity(self, activity_id: int) -> ActivityReport | None: ...
    async def unreported(
        self,
        org_ids: Sequence[int] | None,
        ended_before: datetime,
        *,
        ended_after: datetime | None = None,
        limit: int = 100,
    ) -> list[Unreported]:
        """Activities of these orgs (all when None), neither drafts nor cancelled, that ended at or before
        ``ended_before`` (and after ``ended_after``) with no record; the longest ended first."""
        ...


class RatingQueries(Protocol):
    """Read-only figures behind the star ratings (4-6.2.1, 4-6.3.1); trainings never count."""

    async def volunteer_service(self, volunteer_id: int) -> tuple[Decimal, datetime | None]: ...
    async def last_served_between(
        self, since: datetime, until: datetime, limit: int
    ) -> list[tuple[int, Decimal, datetime]]: ...
    async def org_hours(self, org_ids: Sequence[int], since: datetime, until: datetime) -> Decimal: ...
    async def activities_held(self, org_ids: Sequence[int], since: datetime, until: datetime) -> int: ...
    async def beneficiary_answers(
        self, org_ids: Sequence[int], since: datetime, until: datetime
    ) -> list[dict[str, int]]: ...
    async def brands(self, org_ids: Sequence[int], since: datetime, until: datetime, least: int) -> int: ...


class MatchingQueries(Protocol):
    """3-6.1.2: the volunteers worth ranking for a need or an activity (storage/matching.py)."""

    async def candidates(
        self, org_ids: Sequence[int], target: Target, now: datetime, activity_id: int | None = None
    ) -> list[Candidate]:
        """Active volunteers, active members of any of these orgs, with a professional field or service
        area in common with the target and every qualification it requires; for an activity, not signed
        up for it and not having declined it. Each with their record, clashing sign-ups, last kept
        check-in point, reachability and whether they were invited to the activity already."""
        ...

    async def shortlist(
        self,
        org_ids: Sequence[int],
        target: Target,
        now: datetime,
        activity_id: int | None = None,
        *,
        size: int,
        invitable: bool = False,
    ) -> list[Candidate]:
        """``candidates``, but only the best ``size`` by what needs no record (fields, service area,
        place) are read in full, with those whose sign-ups clash. ``invitable``: only those an
        invitation can reach."""
        ...

    async def candidate(
        self,
        org_ids: Sequence[int],
        target: Target,
        now: datetime,
        activity_id: int | None,
        volunteer_id: int,
    ) -> Candidate | None:
        """One volunteer as ``candidates`` reads them; None when they are not a candidate at all."""
        ...


class DeliveryLog(Protocol):
    async def first_time(self, channel: Channel, key: str, now: datetime) -> bool:
        """Records that an inbound delivery was handled; False when it was already (a redelivery)."""
        ...


class MediaRepository(Protocol):
    """Files served at /media/<token> for a while (bots/media.py); an expired file is deleted."""

    async def put(self, token: str, filename: str, mime: str, data: bytes, expires_at: datetime) -> None: ...
    async def get(self, token: str, now: datetime) -> tuple[str, str, bytes] | None:
        """The file's name, type and bytes, while it has not expired."""
        ...

    async def purge(self, now: datetime) -> None: ...


class WeChatTokenRepository(Protocol):
    """WeChat's access token, one row per app, shared by every instance of the server and the CLI."""

    async def get(self, key: str) -> tuple[str, datetime] | None:
        """The token and when it expires."""
        ...

    async def put(self, key: str, value: str, expires_at: datetime) -> None: ...


class WeChatWindowRepository(Protocol):
    """Each WeChat user's customer-service window (bots/wechat/window.py): when their last message
    opened it, how many messages were sent since."""

    async def get(self, openid: str) -> tuple[datetime, int] | None: ...
    async def open(self, openid: str, now: datetime) -> None: ...
    async def take(self, openid: str, opened_after: datetime, limit: int) -> bool:
        """Counts one message against an open window; False when it is closed, used up or never opened."""
        ...

    async def close(self, openid: str, limit: int) -> None: ...


class DeliveryFailed(Exception):
    """A channel could not deliver. Permanent: the user blocked the bot or unsubscribed."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


class Messenger(Protocol):
    """Sends replies to one channel's user outside a conversation turn (notices, broadcasts)."""

    async def send(self, external_id: str, replies: Sequence[Reply]) -> None: ...


class Links(Protocol):
    """Deep links and their QR codes: t.me/<bot>?start=<payload> in Telegram, a parametric QR code
    in WeChat. The payload is the same everywhere ([A-Za-z0-9_-], at most 64 characters)."""

    def link(self, channel: Channel, payload: str) -> str | None: ...
    def qr_png(self, channel: Channel, payload: str) -> bytes | None: ...
    def wechat_qr(self, payload: str) -> str | None:
        """Where the image of the WeChat account's parametric QR code for this payload is (made on the
        first look); None without a WeChat account's API or a public address."""
        ...


class SheetFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


Cell = str | int | Decimal | date | None


@dataclass(frozen=True)
class Sheet:
    """A table to hand out as a file: headers and rows already in the reader's language. A Decimal
    keeps its places (hours 3.0, a coefficient 1.50); a date is a date."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[tuple[Cell, ...]]
    totals: tuple[Cell, ...] | None = None


class Documents(Protocol):
    """Documents the conversation hands out, rendered outside core (a PDF or spreadsheet library is an
    adapter)."""

    def certificate(self, snapshot: CertificateSnapshot, language: str) -> bytes: ...
    def spreadsheet(self, sheet: Sheet, form: SheetFormat) -> bytes: ...
    def workbook(self, sheets: Sequence[Sheet]) -> bytes:
        """Several tables as the sheets of one XLSX file (a statistics report, 3-8.2)."""
        ...


@dataclass(frozen=True)
class BarChart:
    """A bar chart, its texts already in the reader's language: one bar per label."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    y_label: str = ""


class Charts(Protocol):
    """Charts the conversation hands out as pictures, drawn outside core (a plotting library is an
    adapter)."""

    def bar_chart(self, chart: BarChart) -> bytes:
        """A PNG image."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls everything back. Its repositories are
    read-only: each belongs to the transaction (storage makes each on first use)."""

    @property
    def users(self) -> UserRepository: ...
    @property
    def identities(self) -> IdentityRepository: ...
    @property
    def grants(self) -> GrantRepository: ...
    @property
    def consents(self) -> ConsentRepository: ...
    @property
    def orgs(self) -> OrganizationRepository: ...
    @property
    def volunteers(self) -> VolunteerRepository: ...
    @property
    def memberships(self) -> MembershipRepository: ...
    @property
    def activities(self) -> ActivityRepository: ...
    @property
    def signups(self) -> SignupRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def bases(self) -> BaseRepository: ...
    @property
    def projects(self) -> ProjectRepository: ...
    @property
    def dialogs(self) -> DialogRepository: ...
    @property
    def notices(self) -> NoticeRepository: ...
    @property
    def feedback(self) -> FeedbackRepository: ...
    @property
    def evaluations(self) -> EvaluationRepository: ...
    @property
    def deliveries(self) -> DeliveryLog: ...
    @property
    def link_codes(self) -> LinkCodeRepository: ...
    @property
    def needs(self) -> NeedRepository: ...
    @property
    def surveys(self) -> SurveyRepository: ...
    @property
    def attendances(self) -> AttendanceRepository: ...
    @property
    def records(self) -> ServiceRecordRepository: ...
    @property
    def makeups(self) -> MakeupRepository: ...
    @property
    def certificates(self) -> CertificateRepository: ...
    @property
    def reports(self) -> ActivityReportRepository: ...
    @property
    def ratings(self) -> RatingQueries: ...
    @property
    def matching(self) -> MatchingQueries: ...
    @property
    def media(self) -> MediaRepository: ...
    @property
    def wechat_tokens(self) -> WeChatTokenRepository: ...
    @property
    def wechat_windows(self) -> WeChatWindowRepository: ...

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...
