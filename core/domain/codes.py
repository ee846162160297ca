"""Code tables fixed by the guidelines. Values are stable identifiers stored in the database;
labels are looked up in the message catalog under ``code.<table>.<value>``."""

from __future__ import annotations

from enum import StrEnum


class ServiceContentGroup(StrEnum):
    """3-5.2: the five groups (a–e) of service content."""

    A = "a"  # 理论宣讲、政策解读、文明共建、精神传承
    B = "b"  # 科技培训、科技咨询、农技推广、田间课堂
    C = "c"  # 科技教育、科普讲座、场馆讲解、网络科普
    D = "d"  # 健康义诊、心理教育、科技助老、膳食营养
    E = "e"  # 生态环保、防灾减灾、应急救援、赛会活动


class ServiceContent(StrEnum):
    """3-5.2: the twenty kinds of service content, four per group."""

    THEORY_LECTURE = "a1"  # 理论宣讲
    POLICY_INTERPRETATION = "a2"  # 政策解读
    CIVILITY_BUILDING = "a3"  # 文明共建
    SPIRIT_HERITAGE = "a4"  # 精神传承
    TECH_TRAINING = "b1"  # 科技培训
    TECH_CONSULTING = "b2"  # 科技咨询
    AGRI_EXTENSION = "b3"  # 农技推广
    FIELD_CLASS = "b4"  # 田间课堂
    SCIENCE_EDUCATION = "c1"  # 科技教育
    POPULAR_LECTURE = "c2"  # 科普讲座
    VENUE_GUIDING = "c3"  # 场馆讲解
    ONLINE_POPULARIZATION = "c4"  # 网络科普
    HEALTH_CLINIC = "d1"  # 健康义诊
    PSYCHOLOGICAL_EDUCATION = "d2"  # 心理教育
    ELDERLY_TECH_HELP = "d3"  # 科技助老
    DIETARY_NUTRITION = "d4"  # 膳食营养
    ECO_PROTECTION = "e1"  # 生态环保
    DISASTER_REDUCTION = "e2"  # 防灾减灾
    EMERGENCY_RESCUE = "e3"  # 应急救援
    LARGE_EVENT = "e4"  # 赛会活动

    @property
    def group(self) -> ServiceContentGroup:
        return ServiceContentGroup(self.value[0])


class ServiceObject(StrEnum):
    """3-5.1: who is served."""

    PUBLIC = "public"  # a) 社会公众
    CONCRETE_NEEDS = "concrete_needs"  # b) 农业从业人员、医疗需求群体
    PROFESSIONALS = "professionals"  # c) 专业技术人员
    ORGANIZATIONS = "organizations"  # d) 组织机构或人群
    RESEARCH_OBJECTS = "research_objects"  # e) 研究事物以及环境


class ActivityMode(StrEnum):
    """3-5.3: offline, online or both."""

    OFFLINE = "offline"
    ONLINE = "online"
    HYBRID = "hybrid"


class ProfessionalField(StrEnum):
    """2-6.2 b: volunteers are classified by professional field (学科专业) for matching."""

    AGRICULTURE = "agriculture"  # 农学
    MEDICINE = "medicine"  # 医学
    PSYCHOLOGY = "psychology"  # 心理学
    ENGINEERING = "engineering"  # 工学
    NATURAL_SCIENCE = "natural_science"  # 理学
    INFORMATION_TECH = "information_tech"  # 信息技术
    EDUCATION = "education"  # 教育学
    ENVIRONMENT = "environment"  # 环境科学
    EMERGENCY = "emergency"  # 应急救援
    NUTRITION = "nutrition"  # 营养学
    MANAGEMENT = "management"  # 管理学
    HUMANITIES = "humanities"  # 人文社科
    OTHER = "other"  # 其他


class Qualification(StrEnum):
    """3-6.1.3.1: qualifications an activity may require and a volunteer may hold on record."""

    MEDICAL_PRACTITIONER = "medical_practitioner"  # 执业医师
    NURSE = "nurse"  # 护士
    PSYCHOLOGICAL_COUNSELLOR = "psychological_counsellor"  # 心理咨询师
    TEACHER = "teacher"  # 教师资格
    FIRST_AID = "first_aid"  # 急救员
    AGRONOMIST = "agronomist"  # 农艺师
    DIETITIAN = "dietitian"  # 营养师


class SpecialGroup(StrEnum):
    """3-7.2: services to special groups change what is required of volunteers."""

    MINORS = "minors"
    ELDERLY = "elderly"
    DISABLED = "disabled"


class RiskLevel(StrEnum):
    """4-5.1.1: every activity states its risks; high-risk ones refuse minors."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TrainingKind(StrEnum):
    """3-6.2.1, 2-7.4, 4-5.1.3: the trainings an org gives its volunteers; a training is an activity of
    one of these kinds, attended like any other, and earns a training certificate (not service hours)."""

    GENERAL = "general"  # 通用培训: spirit, ideas, basic knowledge and skills
    PROFESSIONAL = "professional"  # 专业培训: for services that need special knowledge
    POST = "post"  # 岗位培训: the tasks, process and rules of a post
    SAFETY = "safety"  # 安全培训 (4-5.1.3)


class OrgKind(StrEnum):
    """1-5.2 note 1: brigades (总队) for national societies and provincial associations."""

    ASSOCIATION = "association"  # 协会
    BRIGADE = "brigade"  # 总队
    TEAM = "team"  # 队


class BaseKind(StrEnum):
    """5-4: offline bases and online positions."""

    MUSEUM = "museum"  # 科技馆/博物馆
    COMMUNITY_CENTRE = "community_centre"  # 新时代文明实践中心、社区服务中心
    SCHOOL = "school"
    FARM = "farm"  # 农业科技示范基地
    HOSPITAL = "hospital"
    ENTERPRISE = "enterprise"
    ONLINE = "online"  # 线上平台、热线


class IdType(StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证 (GB 11643)
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT = "foreign_permanent"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WECHAT = "wechat"
    CONSOLE = "console"
    WEB = "web"  # the demo's web playground (`stvs demo`); never served in production


# 4-5.1.4 b: these kinds of service need insurance for every volunteer.
INSURANCE_REQUIRED_CONTENT = frozenset({ServiceContent.EMERGENCY_RESCUE, ServiceContent.LARGE_EVENT})
