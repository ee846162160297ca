"""3-6.3: the activity record (活动记录), filed by the organizing org within 7 days after the activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.activity import Activity

REPORT_WITHIN = timedelta(days=7)
QUALITY_SCALE = range(1, 6)  # the org's own evaluation of the quality: 1 (poor) … 5 (excellent)


def report_due(activity: Activity) -> datetime:
    """3-6.3: the record is due 7 days after the activity ends."""
    return activity.ends_at + REPORT_WITHIN


@dataclass(eq=False)
class ActivityReport:
    """3-6.3: name, date and place come from the activity; the rest is what the org files. The service
    time defaults to the schedule and may be corrected to what really happened."""

    activity_id: int
    org_id: int
    beneficiaries: str  # who was served (服务对象)
    beneficiary_count: int
    content: str  # what was done (服务内容)
    served_from: datetime
    served_until: datetime
    quality: int  # QUALITY_SCALE
    leader: str  # 负责人
    recorder: str  # 记录人
    summary: str
    filed_by: int
    filed_at: datetime
    revised_at: datetime | None = None
    id: int | None = None
