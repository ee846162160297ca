from __future__ import annotations

from collections import Counter

from core.domain.codes import (
    INSURANCE_REQUIRED_CONTENT,
    ActivityMode,
    ServiceContent,
    ServiceContentGroup,
    ServiceObject,
)


def test_service_content_has_twenty_kinds_in_five_groups_of_four() -> None:
    # 3-5.2: five groups (a–e) of four kinds each.
    assert len(ServiceContent) == 20
    per_group = Counter(content.group for content in ServiceContent)
    assert set(per_group) == set(ServiceContentGroup)
    assert len(ServiceContentGroup) == 5
    assert all(n == 4 for n in per_group.values())


def test_service_content_codes_are_group_letter_and_index() -> None:
    for content in ServiceContent:
        assert content.value[0] in "abcde"
        assert content.value[1] in "1234"
    assert len({c.value for c in ServiceContent}) == 20


def test_service_objects_and_modes_follow_the_guideline() -> None:
    # 3-5.1: five kinds of service object; 3-5.3: offline, online, hybrid.
    assert len(ServiceObject) == 5
    assert {m.value for m in ActivityMode} == {"offline", "online", "hybrid"}


def test_emergency_rescue_and_large_events_need_insurance() -> None:
    # 4-5.1.4 b
    assert {ServiceContent.EMERGENCY_RESCUE, ServiceContent.LARGE_EVENT} == INSURANCE_REQUIRED_CONTENT
