"""A realistic demo in Chinese (``stvs seed demo``): a provincial brigade with two teams in Nanjing,
four bases (阵地), ten volunteers with skills and consents, and a dozen published activities in the
coming weeks across the service-content groups a–e, and a short history of three activities already
held, so that hours, certificates, make-up requests, confirming hours and the activity record can be
tried at once. Everything goes through core's use cases, as an operator would enter it (the history
with the clock set back to when it happened); seeding again adds only what is missing (matched by
name).

Coordinates are WGS-84, to within about a hundred metres of the real places."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.domain.activity import Activity, ActivityStatus, Base
from core.domain.codes import (
    ActivityMode,
    BaseKind,
    Channel,
    OrgKind,
    ProfessionalField,
    Qualification,
    RiskLevel,
    ServiceContent,
    ServiceObject,
    SpecialGroup,
)
from core.domain.people import Actor, ChannelIdentity, ConsentKind, Role
from core.domain.survey import QUESTIONS, SurveyKind
from core.policy import Policy
from core.ports import ActivityQuery, Clock, UnitOfWork
from core.services.access import load_actor
from core.services.activities import create_activity, publish_activity
from core.services.attendance import Proof, attend
from core.services.evaluations import evaluate
from core.services.organizations import OrgApplication, create_org
from core.services.records import confirm_records
from core.services.reminders import queue_after_activity
from core.services.reports import ReportForm, file_report
from core.services.signups import sign_up
from core.services.surveys import submit_survey
from core.services.users import ensure_user, grant_role
from core.services.volunteers import RegistrationForm, give_consent, register_volunteer, request_membership

BRIGADE = "江苏省科协科技志愿服务总队"
SCIENCE_TEAM = "南京科普宣讲志愿服务队"
FARM_TEAM = "江苏省农业科技志愿服务队"
DEMO_CHANNEL = Channel.CONSOLE

# The people of the playground (`stvs demo`, `stvs chat --as …`): a registered volunteer, an organizer
# (staff of the brigade) and a beneficiary, by their console identity. The web playground's panes are
# identities of the same users on Channel.WEB, named after the role; a newcomer pane starts unknown.
DEMO_PEOPLE = {"volunteer": "demo-01", "organizer": "demo-organizer", "beneficiary": "demo-beneficiary"}
NEWCOMER = "newcomer"


@dataclass(frozen=True)
class DemoOrg:
    name: str
    kind: OrgKind
    parent: str | None
    service_field: str
    items: tuple[ServiceContent, ...]
    leader: str
    contact: str
    members: int
    requirements: str


ORGS = (
    DemoOrg(
        BRIGADE,
        OrgKind.BRIGADE,
        None,
        "科学普及、科技助农、健康服务、应急与赛会保障",
        (
            ServiceContent.THEORY_LECTURE,
            ServiceContent.HEALTH_CLINIC,
            ServiceContent.ELDERLY_TECH_HELP,
            ServiceContent.DIETARY_NUTRITION,
            ServiceContent.LARGE_EVENT,
        ),
        "周建华",
        "025-83700000（总队办公室）",
        120,
        "热心科技志愿服务，具备相应专业背景；参加通用培训后上岗。",
    ),
    DemoOrg(
        SCIENCE_TEAM,
        OrgKind.TEAM,
        BRIGADE,
        "科普教育与理论宣讲",
        (
            ServiceContent.THEORY_LECTURE,
            ServiceContent.SPIRIT_HERITAGE,
            ServiceContent.POPULAR_LECTURE,
            ServiceContent.VENUE_GUIDING,
            ServiceContent.ONLINE_POPULARIZATION,
        ),
        "钱文博",
        "13800000101",
        45,
        "有教学、讲解或科研经历者优先；讲解员须参加场馆岗前培训。",
    ),
    DemoOrg(
        FARM_TEAM,
        OrgKind.TEAM,
        BRIGADE,
        "农业技术推广与生态环保",
        (ServiceContent.AGRI_EXTENSION, ServiceContent.FIELD_CLASS, ServiceContent.ECO_PROTECTION),
        "林永安",
        "13800000102",
        38,
        "农学、园艺、植保、环境科学等专业背景；田间作业须购买意外伤害保险。",
    ),
)


@dataclass(frozen=True)
class DemoBase:
    name: str
    kind: BaseKind
    org: str
    address: str
    latitude: float
    longitude: float


MUSEUM = "南京博物院"
FARM = "江苏省农业科学院科技示范基地"
HOSPITAL = "南京鼓楼医院"
SCHOOL = "南京师范大学附属中学"

BASES = (
    DemoBase(MUSEUM, BaseKind.MUSEUM, SCIENCE_TEAM, "南京市玄武区中山东路321号", 32.0410, 118.8237),
    DemoBase(FARM, BaseKind.FARM, FARM_TEAM, "南京市玄武区钟灵街50号", 32.0339, 118.8724),
    DemoBase(HOSPITAL, BaseKind.HOSPITAL, BRIGADE, "南京市鼓楼区中山路321号", 32.0566, 118.7780),
    DemoBase(SCHOOL, BaseKind.SCHOOL, SCIENCE_TEAM, "南京市鼓楼区察哈尔路37号", 32.0731, 118.7728),
)


@dataclass(frozen=True)
class DemoVolunteer:
    key: str  # the demo channel identity
    name: str
    phone: str
    born: date
    region: str
    skills: tuple[ProfessionalField, ...]
    areas: tuple[ServiceContent, ...]
    orgs: tuple[str, ...]
    qualifications: tuple[Qualification, ...] = ()


S = ServiceContent
P = ProfessionalField
Q = Qualification

VOLUNTEERS = (
    DemoVolunteer(
        "demo-01", "王晓明", "13800000001", date(1992, 3, 14), "南京市鼓楼区",
        skills=(P.INFORMATION_TECH,), areas=(S.POPULAR_LECTURE, S.ONLINE_POPULARIZATION), orgs=(SCIENCE_TEAM,),
    ),
    DemoVolunteer(
        "demo-02", "李红", "13800000002", date(1985, 7, 2), "南京市鼓楼区",
        skills=(P.MEDICINE,), areas=(S.HEALTH_CLINIC, S.DIETARY_NUTRITION), orgs=(BRIGADE,),
        qualifications=(Q.MEDICAL_PRACTITIONER,),
    ),
    DemoVolunteer(
        "demo-03", "张伟", "13800000003", date(1979, 11, 20), "南京市六合区",
        skills=(P.AGRICULTURE,), areas=(S.AGRI_EXTENSION, S.FIELD_CLASS), orgs=(FARM_TEAM,),
        qualifications=(Q.AGRONOMIST,),
    ),
    DemoVolunteer(
        "demo-04", "陈静", "13800000004", date(1990, 5, 8), "南京市玄武区",
        skills=(P.EDUCATION,), areas=(S.SCIENCE_EDUCATION, S.POPULAR_LECTURE, S.THEORY_LECTURE),
        orgs=(SCIENCE_TEAM,), qualifications=(Q.TEACHER,),
    ),
    DemoVolunteer(
        "demo-05", "刘洋", "13800000005", date(1995, 9, 30), "南京市建邺区",
        skills=(P.EMERGENCY,), areas=(S.EMERGENCY_RESCUE, S.LARGE_EVENT), orgs=(BRIGADE,),
        qualifications=(Q.FIRST_AID,),
    ),
    DemoVolunteer(
        "demo-06", "赵敏", "13800000006", date(1988, 1, 17), "南京市秦淮区",
        skills=(P.PSYCHOLOGY,), areas=(S.PSYCHOLOGICAL_EDUCATION,), orgs=(BRIGADE,),
        qualifications=(Q.PSYCHOLOGICAL_COUNSELLOR,),
    ),
    DemoVolunteer(
        "demo-07", "孙磊", "13800000007", date(1998, 4, 22), "南京市栖霞区",
        skills=(P.ENVIRONMENT,), areas=(S.ECO_PROTECTION, S.DISASTER_REDUCTION), orgs=(FARM_TEAM,),
    ),
    DemoVolunteer(
        "demo-08", "周婷", "13800000008", date(1993, 12, 5), "南京市秦淮区",
        skills=(P.NUTRITION,), areas=(S.DIETARY_NUTRITION, S.ELDERLY_TECH_HELP), orgs=(BRIGADE,),
        qualifications=(Q.DIETITIAN,),
    ),
    DemoVolunteer(
        "demo-09", "吴刚", "13800000009", date(1968, 6, 11), "南京市玄武区",
        skills=(P.HUMANITIES,), areas=(S.THEORY_LECTURE, S.SPIRIT_HERITAGE, S.VENUE_GUIDING), orgs=(SCIENCE_TEAM,),
    ),
    DemoVolunteer(
        "demo-10", "郑芳", "13800000010", date(2001, 8, 19), "南京市江宁区",
        skills=(P.MANAGEMENT,), areas=(S.LARGE_EVENT, S.VENUE_GUIDING), orgs=(SCIENCE_TEAM, BRIGADE),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoActivity:
    org: str
    title: str
    content: ServiceContent
    days_ahead: int
    starts: time
    hours: float
    capacity: int
    purpose: str
    details: str
    beneficiaries: str
    objects: tuple[ServiceObject, ...]
    base: str | None = None
    place: tuple[str, str, float, float] | None = None  # name, address, latitude, longitude
    mode: ActivityMode = ActivityMode.OFFLINE
    online_url: str = ""
    special_groups: tuple[SpecialGroup, ...] = ()
    required_skills: tuple[ProfessionalField, ...] = ()
    field_work: bool = False
    risk_level: RiskLevel = RiskLevel.LOW
    risks: str = ""
    emergency_plan: str = ""
    guarantees: str = "提供饮用水、志愿者马甲和工作证，活动前进行岗前培训。"
    signups: tuple[str, ...] = field(default=())


# Places (name, address, latitude, longitude) where more than one activity is held.
NINGHAI_CENTRE = ("宁海路街道社区服务中心", "南京市鼓楼区宁海路", 32.0570, 118.7660)
XUANWUMEN_CENTRE = ("玄武门街道社区服务中心", "南京市玄武区玄武门街道", 32.0688, 118.7885)
OLYMPIC_CENTRE = ("南京奥林匹克体育中心", "南京市建邺区江东中路222号", 32.0080, 118.7306)

ACTIVITIES = (
    DemoActivity(
        SCIENCE_TEAM, "科学家精神主题宣讲", S.THEORY_LECTURE,
        days_ahead=3, starts=time(14, 30), hours=2, capacity=20,
        purpose="宣讲老一辈科学家的爱国奉献精神，营造尊重科学的社会氛围。",
        details="讲述李四光、钱学森等科学家的故事，结合馆藏文物互动问答。",
        beneficiaries="社区居民、青少年约 150 人", objects=(ServiceObject.PUBLIC,),
        base=MUSEUM, signups=("demo-09", "demo-04"),
    ),
    DemoActivity(
        SCIENCE_TEAM, "院士故事分享会（线上线下同步）", S.SPIRIT_HERITAGE,
        days_ahead=10, starts=time(19, 0), hours=2, capacity=15,
        purpose="传承科学家精神，激励青年投身科技事业。",
        details="邀请科研人员分享院士治学故事，现场与直播间同步互动。",
        beneficiaries="高校学生、青年科技工作者", objects=(ServiceObject.PUBLIC, ServiceObject.PROFESSIONALS),
        base=SCHOOL,
        mode=ActivityMode.HYBRID, online_url="https://live.example.org/stvs/academician-stories",
    ),
    DemoActivity(
        SCIENCE_TEAM, "人工智能科普讲座进校园", S.POPULAR_LECTURE,
        days_ahead=5, starts=time(15, 0), hours=1.5, capacity=6,
        purpose="帮助中学生了解人工智能的原理、应用与伦理。",
        details="讲座 + 动手体验：图像识别小实验、大模型安全使用常识。",
        beneficiaries="南师附中初二学生约 200 人", objects=(ServiceObject.PUBLIC,), base=SCHOOL,
        special_groups=(SpecialGroup.MINORS,), required_skills=(P.INFORMATION_TECH,),
        signups=("demo-01", "demo-04"),
    ),
    DemoActivity(
        SCIENCE_TEAM, "南京博物院科技展厅志愿讲解", S.VENUE_GUIDING,
        days_ahead=6, starts=time(9, 0), hours=4, capacity=8,
        purpose="为参观者提供科技展项讲解，提升场馆科普效果。",
        details="在古代科技展厅定点讲解，每小时一场导览。",
        beneficiaries="参观博物院的公众", objects=(ServiceObject.PUBLIC,),
        base=MUSEUM, signups=("demo-09", "demo-10"),
    ),
    DemoActivity(
        SCIENCE_TEAM, "线上科普直播：识别电信网络诈骗", S.ONLINE_POPULARIZATION,
        days_ahead=4, starts=time(20, 0), hours=1, capacity=5,
        purpose="提升公众识别和防范电信网络诈骗的能力。",
        details="直播讲解常见诈骗手法与技术原理，连线答疑。",
        beneficiaries="网络观众，重点面向老年人及家属", objects=(ServiceObject.PUBLIC,), mode=ActivityMode.ONLINE,
        online_url="https://live.example.org/stvs/anti-fraud", special_groups=(SpecialGroup.ELDERLY,),
        signups=("demo-01",),
    ),
    DemoActivity(
        FARM_TEAM, "稻麦绿色高产技术田间指导", S.AGRI_EXTENSION,
        days_ahead=8, starts=time(8, 30), hours=4, capacity=10,
        purpose="推广稻麦绿色高产栽培技术，帮助农户减肥减药、增产增收。",
        details="田间查看苗情，讲解测土配方施肥与病虫害绿色防控，现场解答农户问题。",
        beneficiaries="六合区竹镇镇种粮大户和农户约 60 人", objects=(ServiceObject.CONCRETE_NEEDS,),
        place=("六合区竹镇镇高标准农田示范区", "南京市六合区竹镇镇", 32.4958, 118.6667),
        required_skills=(P.AGRICULTURE,), field_work=True, risk_level=RiskLevel.MEDIUM,
        risks="田间地面湿滑、蚊虫叮咬、高温中暑；需远离农机作业区。",
        emergency_plan="随队携带急救包和防暑药品；指定安全员；就近送竹镇镇卫生院，急救电话 120。",
        guarantees="总队为每位志愿者购买意外伤害保险，提供草帽、胶鞋、饮用水和往返交通。",
        signups=("demo-03", "demo-07"),
    ),
    DemoActivity(
        FARM_TEAM, "草莓种植田间课堂", S.FIELD_CLASS,
        days_ahead=12, starts=time(9, 30), hours=3, capacity=12,
        purpose="把课堂搬到田间，传授设施草莓栽培关键技术。",
        details="示范基地大棚内讲解育苗、水肥一体化和病虫害防治，学员动手实操。",
        beneficiaries="周边草莓种植户和返乡创业青年", objects=(ServiceObject.CONCRETE_NEEDS, ServiceObject.PROFESSIONALS),
        base=FARM,
        required_skills=(P.AGRICULTURE,), signups=("demo-03",),
    ),
    DemoActivity(
        FARM_TEAM, "紫金山生态环保宣传与垃圾分类指导", S.ECO_PROTECTION,
        days_ahead=9, starts=time(9, 0), hours=3, capacity=20,
        purpose="倡导绿色出行与文明游览，保护紫金山生态环境。",
        details="在景区入口开展生态知识展板宣传、垃圾分类指导和无痕游览倡议。",
        beneficiaries="景区游客", objects=(ServiceObject.PUBLIC, ServiceObject.RESEARCH_OBJECTS),
        place=("中山陵景区博爱坊广场", "南京市玄武区石象路7号", 32.0586, 118.8468), signups=("demo-07",),
    ),
    DemoActivity(
        BRIGADE, "社区健康义诊", S.HEALTH_CLINIC,
        days_ahead=7, starts=time(8, 30), hours=3.5, capacity=6,
        purpose="为社区居民提供常见病、慢性病咨询与健康指导。",
        details="测量血压血糖，开展心血管病、糖尿病咨询和用药指导。",
        beneficiaries="宁海路街道社区居民，重点为老年人", objects=(ServiceObject.CONCRETE_NEEDS,), base=HOSPITAL,
        special_groups=(SpecialGroup.ELDERLY,), required_skills=(P.MEDICINE,), signups=("demo-02",),
    ),
    DemoActivity(
        BRIGADE, "智能手机使用助老课堂", S.ELDERLY_TECH_HELP,
        days_ahead=2, starts=time(14, 0), hours=2, capacity=10,
        purpose="帮助老年人跨越“数字鸿沟”，方便就医、出行和支付。",
        details="一对一教老人使用健康码、网上挂号、移动支付和视频通话。",
        beneficiaries="宁海路街道 60 岁以上居民约 30 人", objects=(ServiceObject.PUBLIC,),
        place=NINGHAI_CENTRE,
        special_groups=(SpecialGroup.ELDERLY,), signups=("demo-08",),
    ),
    DemoActivity(
        BRIGADE, "老年人膳食营养讲座", S.DIETARY_NUTRITION,
        days_ahead=14, starts=time(9, 30), hours=1.5, capacity=4,
        purpose="普及合理膳食知识，预防老年人营养不良和慢性病。",
        details="讲解《中国居民膳食指南》要点，现场答疑和食谱点评。",
        beneficiaries="社区老年居民及照护者", objects=(ServiceObject.PUBLIC,),
        place=XUANWUMEN_CENTRE,
        special_groups=(SpecialGroup.ELDERLY,), required_skills=(P.NUTRITION,), signups=("demo-08", "demo-02"),
    ),
    DemoActivity(
        BRIGADE, "南京马拉松赛会志愿服务", S.LARGE_EVENT,
        days_ahead=20, starts=time(6, 30), hours=6, capacity=40,
        purpose="保障赛事安全有序进行，展示科技志愿者风采。",
        details="负责补给站服务、医疗点引导、检录与计时芯片发放。",
        beneficiaries="参赛选手约 2 万人及观众", objects=(ServiceObject.PUBLIC, ServiceObject.ORGANIZATIONS),
        place=OLYMPIC_CENTRE,
        risk_level=RiskLevel.MEDIUM,
        risks="人员密集、清晨低温、长时间站立；注意踩踏和失温风险。",
        emergency_plan="与赛事医疗组联动，每个补给站配急救员和 AED；突发情况报告总指挥并拨打 120。",
        guarantees="总队统一购买意外伤害保险，提供保暖服装、餐食、交通和赛事证件。",
        signups=("demo-05", "demo-10"),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoReport:
    """The activity record (活动记录, 3-6.3) as staff filed it; time, leader and place from the activity."""

    beneficiaries: str
    beneficiary_count: int
    content: str
    summary: str
    recorder: str
    quality: int = 5


@dataclass(frozen=True)
class DemoHistory:
    """An activity of the brigade already held, run through the services at the times it happened:
    published a week ahead, signed up for two days ahead, checked into at the venue, then what staff did
    afterwards. ``activity.days_ahead`` is negative (the day it was held); ``activity.signups`` are all
    who signed up, ``attended`` those of them who came."""

    activity: DemoActivity
    attended: tuple[str, ...]
    confirmed: bool = False  # staff confirmed the hours the day after (谁组织谁记录)
    report: DemoReport | None = None  # filed two days after, within the 7 days of 3-6.3
    evaluated: tuple[str, ...] = ()  # 2-10.1: staff evaluated them the day after
    rated: int | None = None  # 3-8.1.2.1: the demo beneficiary's rating of every question


EVALUATION = {"attitude": 5, "behaviour": 5, "effect": 4}
EVALUATION_COMMENT = "讲解耐心细致，老人们都说听得懂、记得住。"

HISTORY = (
    DemoHistory(
        DemoActivity(
            BRIGADE, "老年人防范电信网络诈骗课堂", S.ELDERLY_TECH_HELP,
            days_ahead=-20, starts=time(14, 30), hours=2, capacity=10,
            purpose="帮助老年人识别常见诈骗套路，守好“养老钱”。",
            details="结合真实案例讲解冒充客服、保健品推销等骗局，现场演示手机安全设置。",
            beneficiaries="宁海路街道 60 岁以上居民约 40 人", objects=(ServiceObject.PUBLIC,),
            place=NINGHAI_CENTRE, special_groups=(SpecialGroup.ELDERLY,),
            signups=("demo-01", "demo-08", "demo-10"),
        ),
        attended=("demo-01", "demo-08", "demo-10"),
        confirmed=True,
        report=DemoReport(
            beneficiaries="宁海路街道老年居民", beneficiary_count=42,
            content="讲解冒充客服、保健品推销等 6 类骗局，一对一帮助 20 余位老人开启手机安全设置。",
            summary="老人参与踊跃；下次准备大字版讲义。", recorder="郑芳",
        ),
        evaluated=("demo-01",),
        rated=5,
    ),
    DemoHistory(
        DemoActivity(
            BRIGADE, "青少年科技创新大赛赛会志愿服务", S.LARGE_EVENT,
            days_ahead=-10, starts=time(9, 0), hours=4, capacity=30,
            purpose="保障大赛现场有序进行，为参赛青少年和观众提供引导服务。",
            details="负责展区引导、选手签到、评审室秩序维护和观众咨询。",
            beneficiaries="参赛中小学生约 800 人及带队老师、观众", objects=(ServiceObject.PUBLIC,),
            place=OLYMPIC_CENTRE,
            emergency_plan="与场馆医务室联动，现场配急救包；突发情况报告赛会总指挥并拨打 120。",
            guarantees="总队统一购买意外伤害保险，提供午餐、饮用水和志愿者证件。",
            signups=("demo-01", "demo-05", "demo-10"),
        ),
        attended=("demo-01", "demo-05", "demo-10"),
        confirmed=True,
        rated=4,
    ),
    DemoHistory(
        DemoActivity(
            BRIGADE, "老年人网上就医挂号辅导", S.ELDERLY_TECH_HELP,
            days_ahead=-2, starts=time(14, 0), hours=2, capacity=8,
            purpose="帮助老年人学会用手机预约挂号、查看检查报告。",
            details="一对一指导使用医院公众号和“健康江苏”小程序预约挂号、缴费和查报告。",
            beneficiaries="玄武门街道老年居民约 25 人", objects=(ServiceObject.PUBLIC,),
            place=XUANWUMEN_CENTRE, special_groups=(SpecialGroup.ELDERLY,),
            signups=("demo-01", "demo-08"),
        ),
        attended=("demo-08",),
    ),
)  # fmt: skip


@dataclass
class SeedReport:
    """What ``stvs seed demo`` added; all zero when the demo was already there."""

    created: Counter[str] = field(default_factory=Counter)
    org_ids: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return any(self.created.values())


def _at(now: datetime, days_ahead: int, starts: time, zone: str) -> datetime:
    day = now.astimezone(ZoneInfo(zone)).date() + timedelta(days=days_ahead)
    return datetime.combine(day, starts, tzinfo=ZoneInfo(zone)).astimezone(UTC)


async def _orgs(uow: UnitOfWork, clock: Clock, report: SeedReport) -> None:
    for spec in ORGS:
        org = await uow.orgs.by_name(spec.name)
        if org is None:
            form = OrgApplication(
                name=spec.name,
                kind=spec.kind,
                parent_id=report.org_ids[spec.parent] if spec.parent else None,
                service_field=spec.service_field,
                service_items=tuple(spec.items),
                requirements=spec.requirements,
                leader_name=spec.leader,
                leader_contact=spec.contact,
                member_count=spec.members,
            )
            org = await create_org(uow, clock, Actor.system(), form)
            report.created["orgs"] += 1
        assert org.id is not None
        report.org_ids[spec.name] = org.id


async def _bases(uow: UnitOfWork, report: SeedReport) -> dict[str, Base]:
    # No use case registers bases yet (5-4); the repository is the port an operator's tool would use.
    known = {base.name: base for base in await uow.bases.list()}
    for spec in BASES:
        if spec.name not in known:
            known[spec.name] = await uow.bases.add(
                Base(
                    name=spec.name,
                    kind=spec.kind,
                    org_id=report.org_ids[spec.org],
                    address=spec.address,
                    latitude=spec.latitude,
                    longitude=spec.longitude,
                )
            )
            report.created["bases"] += 1
    return known


async def _volunteers(uow: UnitOfWork, clock: Clock, policy: Policy, report: SeedReport) -> dict[str, Actor]:
    actors: dict[str, Actor] = {}
    for spec in VOLUNTEERS:
        user = await ensure_user(uow, clock, DEMO_CHANNEL, spec.key)
        assert user.id is not None
        volunteer = await uow.volunteers.by_user(user.id)
        if volunteer is None:
            # 2-7.1: consent to the privacy notice comes before any personal data is stored.
            await give_consent(uow, clock, user.id, ConsentKind.PRIVACY_NOTICE, policy=policy)
            await give_consent(uow, clock, user.id, ConsentKind.LOCATION, policy=policy)
            form = RegistrationForm(
                name=spec.name,
                phone=spec.phone,
                region=spec.region,
                skills=tuple(spec.skills),
                service_areas=tuple(spec.areas),
                birth_date=spec.born,
                qualifications=tuple(spec.qualifications),
            )
            volunteer = await register_volunteer(uow, clock, user.id, form, policy=policy)
            report.created["volunteers"] += 1
        actor = Actor(user_id=user.id, volunteer_id=volunteer.id)
        for org in spec.orgs:
            await request_membership(uow, clock, actor, report.org_ids[org])
        actors[spec.key] = actor
    return actors


async def _present(uow: UnitOfWork, report: SeedReport) -> set[tuple[int, str]]:
    """The demo orgs' activities already there, whatever their status, by org and title."""
    everything = ActivityQuery(
        statuses=frozenset(ActivityStatus), org_ids=tuple(report.org_ids.values()), limit=10_000
    )
    return {(a.org_id, a.title) for a in await uow.activities.search(everything)}


async def _publish(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    spec: DemoActivity,
    org_id: int,
    bases: dict[str, Base],
    starts_at: datetime,
) -> Activity:
    """The activity as the organizer enters and publishes it, at ``clock.now()``."""
    activity = Activity(
        org_id=org_id,
        title=spec.title,
        service_content=spec.content,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=spec.hours),
        created_at=clock.now(),
        mode=spec.mode,
        timezone=policy.default_timezone,
        purpose=spec.purpose,
        organizing_unit=BRIGADE,
        content=spec.details,
        process="签到 → 岗前说明 → 开展服务 → 服务对象满意度评价 → 签退",
        beneficiaries=spec.beneficiaries,
        volunteer_team=spec.org,
        guarantees=spec.guarantees,
        funding="江苏省科协科普专项经费",
        emergency_plan=spec.emergency_plan,
        publicity="总队公众号、微信群和 Telegram 频道发布招募信息",
        service_objects=[o.value for o in spec.objects],
        online_url=spec.online_url,
        checkin_radius_m=policy.default_checkin_radius_m,
        capacity=spec.capacity,
        required_skills=[s.value for s in spec.required_skills],
        special_groups=[g.value for g in spec.special_groups],
        field_work=spec.field_work,
        risk_level=spec.risk_level,
        risks=spec.risks,
        base_id=bases[spec.base].id if spec.base else None,
    )
    if spec.place is not None:
        activity.place_name, activity.address, activity.latitude, activity.longitude = spec.place
    activity = await create_activity(uow, clock, Actor.system(), activity)
    assert activity.id is not None
    await publish_activity(uow, clock, Actor.system(), activity.id)
    return activity


async def _activities(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    report: SeedReport,
    bases: dict[str, Base],
    volunteers: dict[str, Actor],
) -> None:
    present = await _present(uow, report)
    for spec in ACTIVITIES:
        org_id = report.org_ids[spec.org]
        if (org_id, spec.title) in present:
            continue
        starts_at = _at(clock.now(), spec.days_ahead, spec.starts, policy.default_timezone)
        activity = await _publish(uow, clock, policy, spec, org_id, bases, starts_at)
        assert activity.id is not None
        report.created["activities"] += 1
        for key in spec.signups:
            # 4-5.1.4: the volunteers confirm their insurance cover where the activity needs it.
            await sign_up(
                uow, clock, volunteers[key], activity.id, insurance_confirmed=activity.needs_insurance
            )
            report.created["signups"] += 1


async def seed_demo(uow: UnitOfWork, clock: Clock, policy: Policy) -> SeedReport:
    """Adds whatever part of the demo is missing, in the caller's unit of work (the caller commits)."""
    report = SeedReport()
    await _orgs(uow, clock, report)
    bases = await _bases(uow, report)
    volunteers = await _volunteers(uow, clock, policy, report)
    await _activities(uow, clock, policy, report, bases, volunteers)
    users = await _people(uow, clock, report)
    await _history(uow, clock, policy, report, bases, volunteers, users)
    return report


async def _people(uow: UnitOfWork, clock: Clock, report: SeedReport) -> dict[str, int]:
    """The playground's people by pane: their user ids."""
    users: dict[str, int] = {}
    for pane, key in DEMO_PEOPLE.items():
        user = await ensure_user(uow, clock, DEMO_CHANNEL, key)
        assert user.id is not None
        users[pane] = user.id
        if await uow.identities.get(Channel.WEB, pane) is None:
            await uow.identities.add(
                ChannelIdentity(
                    channel=Channel.WEB, external_id=pane, user_id=user.id, created_at=clock.now()
                )
            )
            report.created["people"] += 1
    # The first admin is made by the operator (stvs admin grant); here the demo's organizer.
    await grant_role(uow, clock, Actor.system(), users["organizer"], Role.ORG_STAFF, report.org_ids[BRIGADE])
    return users


# ---- the history: what happened before today ----------------------------------------------------

PUBLISHED_AHEAD = timedelta(days=7)
# Inside the 3 days of 3-6.1.3.2 a sign-up is its own confirmation: nothing is queued to brief them.
SIGNED_UP_AHEAD = timedelta(days=2)
ARRIVED_EARLY = timedelta(minutes=10)  # check-in opens an hour before the start (policy)
LEFT_AFTER = timedelta(minutes=5)  # check-out stays open an hour after the end (policy)
AFTER_JOB = timedelta(minutes=15)  # the scheduler's after-activity job runs every 15 minutes


class _Past:
    """core.ports.Clock set back to one moment of the history at a time; it keeps the moments it stood
    at, which tell what the history queued from what the present did."""

    def __init__(self) -> None:
        self.moments: set[datetime] = set()
        self._now = datetime.min.replace(tzinfo=UTC)

    def at(self, moment: datetime) -> _Past:
        self._now = moment
        self.moments.add(moment)
        return self

    def now(self) -> datetime:
        return self._now


async def _history(
    uow: UnitOfWork,
    clock: Clock,
    policy: Policy,
    report: SeedReport,
    bases: dict[str, Base],
    volunteers: dict[str, Actor],
    users: dict[str, int],
) -> None:
    """Each activity of HISTORY not yet there, as it happened, with every rule of the services applied
    at the time: the volunteers' confirmed hours, a certificate, a make-up request, hours to confirm
    and records to file can then be tried without moving the clock."""
    present = await _present(uow, report)
    staff = await load_actor(uow, users["organizer"])
    beneficiary = await load_actor(uow, users["beneficiary"])
    past = _Past()
    for spec in HISTORY:
        org_id = report.org_ids[spec.activity.org]
        if (org_id, spec.activity.title) not in present:
            await _held(uow, clock, past, policy, spec, org_id, bases, volunteers, staff, beneficiary)
            report.created["activities"] += 1
            report.created["signups"] += len(spec.activity.signups)
    if past.moments:
        await _told_then(uow, past)


async def _held(
    uow: UnitOfWork,
    clock: Clock,
    past: _Past,
    policy: Policy,
    spec: DemoHistory,
    org_id: int,
    bases: dict[str, Base],
    volunteers: dict[str, Actor],
    staff: Actor,
    beneficiary: Actor,
) -> None:
    plan = spec.activity
    starts_at = _at(clock.now(), plan.days_ahead, plan.starts, policy.default_timezone)
    activity = await _publish(
        uow, past.at(starts_at - PUBLISHED_AHEAD), policy, plan, org_id, bases, starts_at
    )
    assert activity.id is not None and activity.latitude is not None and activity.longitude is not None
    signups = {}
    for key in plan.signups:
        signups[key] = await sign_up(
            uow,
            past.at(starts_at - SIGNED_UP_AHEAD),
            volunteers[key],
            activity.id,
            insurance_confirmed=activity.needs_insurance,  # 4-5.1.4
        )
    # 2-6.3 a: each checks in and out by their location at the venue; the check-out writes the record.
    venue = Proof(latitude=activity.latitude, longitude=activity.longitude, accuracy_m=10.0)
    for key in spec.attended:
        await attend(
            uow, past.at(starts_at - ARRIVED_EARLY), policy, volunteers[key], signups[key].id or 0, venue
        )
    records = []
    for key in spec.attended:
        out = await attend(
            uow, past.at(activity.ends_at + LEFT_AFTER), policy, volunteers[key], signups[key].id or 0, venue
        )
        assert out.record is not None and out.record.id is not None
        records.append(out.record.id)
    if spec.rated is not None:
        answers = dict.fromkeys(QUESTIONS[SurveyKind.BENEFICIARY], spec.rated)
        await submit_survey(
            uow,
            past.at(activity.ends_at + LEFT_AFTER),
            beneficiary,
            beneficiary.user_id or 0,
            activity.id,
            SurveyKind.BENEFICIARY,
            answers,
        )
    # 3-8.1.2: the scheduler asked for the surveys soon after the end, as it does every quarter hour.
    await queue_after_activity(uow, past.at(activity.ends_at + AFTER_JOB))
    day_after = past.at(activity.ends_at + timedelta(days=1))
    if spec.confirmed:
        await confirm_records(uow, day_after, policy, staff, records)
    for key in spec.evaluated:
        volunteer_id = volunteers[key].volunteer_id or 0
        await evaluate(uow, day_after, staff, activity.id, volunteer_id, EVALUATION, EVALUATION_COMMENT)
    if spec.report is not None:
        filed = spec.report
        form = ReportForm(
            beneficiaries=filed.beneficiaries,
            beneficiary_count=filed.beneficiary_count,
            content=filed.content,
            served_from=activity.starts_at,
            served_until=activity.ends_at,
            quality=filed.quality,
            leader=next(org.leader for org in ORGS if org.name == plan.org),
            recorder=filed.recorder,
            summary=filed.summary,
        )
        await file_report(uow, past.at(activity.ends_at + timedelta(days=2)), staff, activity.id, form)


async def _told_then(uow: UnitOfWork, past: _Past) -> None:
    """What the history queued to tell people (surveys asked for, hours confirmed, an evaluation) was told
    when it happened: the outbox keeps it as sent then, and the playground does not open on old news."""
    sent: dict[datetime, list[int]] = {}
    for notice in await uow.notices.due(max(past.moments), limit=10_000):
        if notice.id is not None and notice.created_at in past.moments:
            sent.setdefault(notice.due_at, []).append(notice.id)
    for at, ids in sent.items():
        await uow.notices.mark_sent(ids, at)
