from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.codes import OrgKind
from core.errors import InvalidInput

# 1-5.2 note 2: names built from a project, place or field must not use these words.
FORBIDDEN_NAME_WORDS = ("中国", "全国", "中华", "国家", "国际", "世界", "全球")
# Their traditional forms (中國, 中華, 國家, 國際) are the same words.
_TRADITIONAL = str.maketrans("國華際", "国华际")
BRIGADE_SUFFIX = "总队"
NAME_MIN, NAME_MAX = 4, 60


class OrgStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEACTIVATED = "deactivated"


def check_org_name(name: str, kind: OrgKind, *, unit_full_name: bool = False) -> str:
    """1-5.2: returns the cleaned name or raises with the offending word named."""
    cleaned = " ".join(name.split())
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        raise InvalidInput("org.name.length", min=NAME_MIN, max=NAME_MAX)
    if not unit_full_name:
        # Spaces or invisible format characters inside a word ("中 国") do not make it another word.
        compact = "".join(ch for ch in cleaned if not ch.isspace() and unicodedata.category(ch) != "Cf")
        compact = compact.translate(_TRADITIONAL)
        for word in FORBIDDEN_NAME_WORDS:
            if word in compact:
                raise InvalidInput("org.name.forbidden_word", word=word)
    # 1-5.2 note 1: orgs of national societies and provincial associations are brigades (总队).
    if kind is OrgKind.BRIGADE and BRIGADE_SUFFIX not in cleaned:
        raise InvalidInput("org.name.brigade_suffix", suffix=BRIGADE_SUFFIX)
    if kind is not OrgKind.BRIGADE and cleaned.endswith(BRIGADE_SUFFIX):
        raise InvalidInput("org.name.not_brigade", suffix=BRIGADE_SUFFIX)
    return cleaned


@dataclass(eq=False)
class Organization:
    """1-5.3, 1-5.4: an org exists as an application until the parent org's staff approve it."""

    name: str
    kind: OrgKind
    created_at: datetime
    parent_id: int | None = None
    service_field: str = ""
    service_items: list[str] = field(default_factory=list)  # ServiceContent codes, 3-5.2
    requirements: str = ""
    leader_name: str = ""
    leader_contact: str = ""
    member_count: int = 0
    status: OrgStatus = OrgStatus.APPLIED
    status_reason: str | None = None
    unit_full_name: bool = False  # set by a platform admin: the name is a unit's full name (1-5.2)
    join_requires_approval: bool = False
    timezone: str = "Asia/Shanghai"
    applied_by: int | None = None
    reviewed_by: int | None = None
    reviewed_at: datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.status is OrgStatus.APPROVED
