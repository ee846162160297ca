"""3-6.1.2, 3-6.1.3.1: volunteers ranked for a need or an activity, each with the reasons for its place.

Pure scoring on values read by storage: a missing required qualification or a clashing sign-up
excludes; professional fields and service areas that overlap, nearness (the last check-in position
while it is kept, else the region named in the place), reliability (attended against no-shows, old
misses fading with a half-life) and recent load order the rest."""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.domain.activity import distance_m

RELIABILITY_HALF_LIFE = timedelta(days=180)  # a miss half a year ago weighs half as much
RECENT = timedelta(days=30)  # "recent load": sessions in the last 30 days
NEAR_M = 30_000.0  # nearness score halves roughly every 20 km (exp(-d / 30 km))

# Weights: what matters most comes first (skills, then the kind of service, place, reliability).
W_SKILL = 30.0  # each matching professional field, at most two counted
W_AREA = 20.0  # the kind of service is among the volunteer's service areas
W_NEAR = 20.0  # at the place (falls with the distance)
W_REGION = 12.0  # no position known, but the region is named in the place
W_ONLINE = 10.0  # an online service: anyone is near
W_RELIABLE = 20.0  # reliability 1.0 → +20, 0.5 (unknown) → 0, 0.0 → -20
W_EXPERIENCE = 3.0  # a little for experience: log2(1 + sessions)
W_LOAD = 4.0  # each recent session beyond the first
LOAD_CAP = 20.0

# Storage orders the candidates by the part of the score it reads from the volunteer's own row and
# kept check-in points (fields, service area, place: ``prior_ceiling`` bounds it) and only the best
# SHORTLIST are scored here with their records.
SHORTLIST = 300

# Audit actions on the activity: who was invited from a ranking (details: user), who answered 不感兴趣
# (the actor), and calls sent to the best few.
INVITED = "match.invite"
DECLINED = "match.decline"
CALLED = "match.call"


@dataclass(frozen=True)
class Target:
    """What volunteers are matched to: a need or an activity, as values."""

    service_content: str
    skills: frozenset[str] = frozenset()  # ProfessionalField codes wanted (a need's expertise)
    qualifications: frozenset[str] = frozenset()  # required on record (3-6.1.3.1)
    online: bool = False
    latitude: float | None = None
    longitude: float | None = None
    place: str = ""  # place name and address, where a region may be named
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Record:
    """A volunteer's past sessions, summed by storage: how many they came to and missed, the same
    weighed by age (``decay_buckets``), and how many ended in the last 30 days."""

    attended: int = 0
    missed: int = 0
    attended_weight: float = 0.0
    missed_weight: float = 0.0
    recent: int = 0


BUCKET = timedelta(days=30)
BUCKETS = 48  # four years; older sessions weigh what the last bucket weighs


def decay_buckets(now: datetime) -> list[tuple[datetime, float]]:
    """(since, weight), newest first: a session that ended at or after ``since`` (and after the bucket
    before) weighs ``weight``, half-life 180 days at the bucket's middle. A database sums these with
    one CASE, so the decay needs no date arithmetic of its own."""
    return [
        (now - BUCKET * (i + 1), 0.5 ** ((BUCKET * (i + 0.5)) / RELIABILITY_HALF_LIFE))
        for i in range(BUCKETS)
    ]


def oldest_weight() -> float:
    return 0.5 ** ((BUCKET * (BUCKETS + 0.5)) / RELIABILITY_HALF_LIFE)


@dataclass(frozen=True)
class Candidate:
    volunteer_id: int
    user_id: int
    name: str
    skills: tuple[str, ...] = ()
    service_areas: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    region: str = ""
    position: tuple[float, float] | None = None  # the last check-in point still kept
    record: Record = Record()
    busy: tuple[tuple[datetime, datetime], ...] = ()  # live sign-ups' times
    reachable: bool = True  # some identity still takes messages
    recruitment_off: bool = False  # turned off in /settings: never invited
    invited: bool = False  # invited to this activity already


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    score: float
    skills: tuple[str, ...]  # the professional fields that matched
    area: bool  # the kind of service is among the service areas
    distance_m: int | None
    same_region: bool
    reliability: float

    @property
    def invitable(self) -> bool:
        c = self.candidate
        return c.reachable and not c.recruitment_off and not c.invited


@dataclass(frozen=True)
class Exclusion:
    candidate: Candidate
    reason: str  # "qualification" | "clash"


@dataclass
class Ranking:
    matches: list[Match] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)
    considered: int = 0  # candidates scored (after the database's prefilter)


def reliability(record: Record) -> float:
    """Attended against missed, each weighed by its age, with one of each assumed (Laplace): 0.5 with
    no history, near 1 for a long clean record; an old miss fades."""
    came = 1.0 + record.attended_weight
    return came / (came + 1.0 + record.missed_weight)


def clashes(target: Target, busy: Iterable[tuple[datetime, datetime]]) -> bool:
    if target.starts_at is None or target.ends_at is None:
        return False
    return any(start < target.ends_at and target.starts_at < end for start, end in busy)


def region_named(region: str, place: str) -> bool:
    """A volunteer's region ("南京市玄武区") named in the place ("玄武区梅园街道…"), or the other way
    round: the finest part of the region is compared (district, then city)."""
    region, place = "".join(region.split()), "".join(place.split())
    if not region or not place:
        return False
    if region in place or place in region:
        return True
    for marker in ("区", "县", "市"):
        cut = region.rfind(marker)
        if cut > 0:
            # the part ending at the marker, after the one before it ("南京市玄武区" → "玄武区")
            head = region[:cut]
            start = max(head.rfind(m) for m in ("省", "市", "区", "县")) + 1
            part = region[start : cut + 1]
            if len(part) >= 2 and part in place:
                return True
    return False


def place_ceiling(target: Target) -> float:
    """The most the place can add to a score: online, near the coordinates, or a region named."""
    if target.online:
        return W_ONLINE
    if target.latitude is not None and target.longitude is not None:
        return max(W_NEAR, W_REGION)
    return W_REGION if target.place.strip() else 0.0


def outside_core_ceiling(target: Target) -> float:
    """The most a candidate can score before the record without both the service area and one of the
    fields. Those with both (the core) score at least W_SKILL + W_AREA; when the best SHORTLIST of the
    core reach this ceiling, no one outside it could rank above them, and storage orders the core
    alone (which its indexes find among a hundred thousand in milliseconds)."""
    return max(W_AREA, W_SKILL * min(2, len(target.skills))) + place_ceiling(target)


def place_parts(place: str) -> list[str]:
    """Every piece of the place that ``region_named`` could find a region's finest part in: the
    stretches ending in 区, 县 or 市 with no 省, 市, 区 or 县 before them. A database looks for these in
    the region to order candidates before scoring; it may find more than ``region_named`` accepts."""
    place = "".join(place.split())
    parts: list[str] = []
    for end, char in enumerate(place):
        if char not in "区县市":
            continue
        start = end - 1
        while start >= 0 and place[start] not in "省市区县":
            parts.append(place[start : end + 1])
            start -= 1
    return parts


def score(target: Target, candidate: Candidate) -> Match | Exclusion:
    if not target.qualifications <= set(candidate.qualifications):
        return Exclusion(candidate, "qualification")
    if clashes(target, candidate.busy):
        return Exclusion(candidate, "clash")
    skills = tuple(s for s in candidate.skills if s in target.skills)
    area = target.service_content in candidate.service_areas
    total = W_SKILL * min(2, len(skills)) + (W_AREA if area else 0.0)
    distance: int | None = None
    same_region = False
    if target.online:
        total += W_ONLINE
    else:
        if candidate.position is not None and target.latitude is not None and target.longitude is not None:
            metres = distance_m(*candidate.position, target.latitude, target.longitude)
            distance = round(metres)
            total += W_NEAR * math.exp(-metres / NEAR_M)
        if distance is None and region_named(candidate.region, target.place):
            same_region = True
            total += W_REGION
    record = candidate.record
    rel = reliability(record)
    total += W_RELIABLE * (rel - 0.5) * 2 + W_EXPERIENCE * math.log2(1 + record.attended)
    total -= min(LOAD_CAP, W_LOAD * max(0, record.recent - 1))
    return Match(candidate, total, skills, area, distance, same_region, rel)


def rank(target: Target, candidates: Sequence[Candidate], limit: int = 10) -> Ranking:
    """The best ``limit`` matches, best first (ties: the lower volunteer id, so the order is stable),
    and who was excluded and why."""
    ranking = Ranking(considered=len(candidates))
    for candidate in candidates:
        result = score(target, candidate)
        if isinstance(result, Exclusion):
            ranking.excluded.append(result)
        else:
            ranking.matches.append(result)
    ranking.matches = heapq.nsmallest(
        limit, ranking.matches, key=lambda m: (-m.score, m.candidate.volunteer_id)
    )
    return ranking
