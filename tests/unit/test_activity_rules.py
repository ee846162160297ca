from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.activity import Activity, ActivityStatus, bounding_box, check_coordinates, distance_m
from core.domain.codes import ActivityMode, Qualification, RiskLevel, ServiceContent
from core.errors import InvalidInput
from tests.builders import activity_draft
from tests.fakes.clock import FakeClock


def _activity(**changes: object) -> Activity:
    return activity_draft(1, FakeClock(), **changes)


def _refused(activity: Activity, *, publishable: bool = True) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        activity.check_publishable() if publishable else activity.check()
    return caught.value


def test_builder_activity_is_publishable() -> None:
    _activity().check_publishable()


@pytest.mark.parametrize("hours", [0, -1])
def test_end_not_after_start_is_refused(hours: int) -> None:
    activity = _activity()
    activity.ends_at = activity.starts_at + timedelta(hours=hours)
    assert _refused(activity, publishable=False).key == "activity.time.end_before_start"


def test_empty_title_is_refused() -> None:
    assert _refused(_activity(title="  "), publishable=False).key == "activity.title.empty"


@pytest.mark.parametrize(("lat", "lon"), [(90.5, 116.0), (-91.0, 0.0), (39.9, 180.1), (39.9, -181.0)])
def test_coordinates_out_of_range_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_coordinates(lat, lon)
    assert caught.value.key == "geo.out_of_range"
    assert _refused(_activity(latitude=lat, longitude=lon), publishable=False).key == "geo.out_of_range"


@pytest.mark.parametrize(
    ("lat", "lon"), [(math.nan, 116.0), (39.9, math.nan), (math.inf, 0.0), (0.0, -math.inf)]
)
def test_coordinates_not_a_number_are_refused(lat: float, lon: float) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_coordinates(lat, lon)
    assert caught.value.key == "geo.not_a_number"


def test_edge_coordinates_are_accepted() -> None:
    assert check_coordinates(90.0, -180.0) == (90.0, -180.0)


def test_half_a_coordinate_is_refused() -> None:
    assert _refused(_activity(longitude=None), publishable=False).key == "geo.incomplete"


def test_distance_between_two_points_in_beijing() -> None:
    # Tiananmen to the Bird's Nest, about 9 km.
    assert 8_500 < distance_m(39.9087, 116.3975, 39.9929, 116.3965) < 9_800
    assert distance_m(39.9, 116.4, 39.9, 116.4) == 0


@pytest.mark.parametrize("radius", [9, 50_001])
def test_checkin_radius_out_of_range_is_refused(radius: int) -> None:
    assert _refused(_activity(checkin_radius_m=radius), publishable=False).key == "activity.radius.range"


def test_unpublishable_draft_may_still_be_saved() -> None:
    draft = _activity(purpose="", capacity=0, latitude=None, longitude=None, place_name="", address="")
    draft.check()


def test_publishing_needs_capacity() -> None:
    assert _refused(_activity(capacity=0)).key == "activity.capacity.missing"


@pytest.mark.parametrize("field", ["purpose", "content", "beneficiaries", "guarantees"])
def test_publishing_needs_the_plan_fields(field: str) -> None:
    # 3-6.1.5: purpose, content, beneficiaries and guarantees are stated.
    error = _refused(_activity(**{field: " "}))
    assert (error.key, error.params["field"]) == ("activity.field.missing", field)


def test_offline_activity_needs_a_place() -> None:
    assert _refused(_activity(latitude=None, longitude=None)).key == "activity.place.missing"
    assert _refused(_activity(place_name="", address="")).key == "activity.place.missing"


def test_online_activity_needs_a_link_but_no_place() -> None:
    online = _activity(mode=ActivityMode.ONLINE, latitude=None, longitude=None, place_name="", address="")
    assert _refused(online).key == "activity.online_url.missing"
    online.online_url = "https://meeting.example/123"
    online.check_publishable()
    assert _refused(_activity(mode=ActivityMode.HYBRID)).key == "activity.online_url.missing"


@pytest.mark.parametrize("level", [RiskLevel.MEDIUM, RiskLevel.HIGH])
def test_risky_activity_must_state_its_risks(level: RiskLevel) -> None:
    # 4-5.1.1: the information states the risks.
    assert _refused(_activity(risk_level=level, risks="")).key == "activity.risks.missing"
    _activity(risk_level=level, risks="山路湿滑").check_publishable()


@pytest.mark.parametrize(
    "changes",
    [
        {"risk_level": RiskLevel.HIGH, "risks": "高温"},
        {"service_content": ServiceContent.EMERGENCY_RESCUE},
        {"service_content": ServiceContent.LARGE_EVENT},
        {"field_work": True},
        {"insurance_required": True},
    ],
)
def test_hazardous_or_insured_activity_needs_an_emergency_plan(changes: dict[str, object]) -> None:
    # 4-5.1.1: an emergency plan is attached.
    assert _refused(_activity(emergency_plan="", **changes)).key == "activity.emergency_plan.missing"


def test_low_risk_lecture_needs_no_emergency_plan() -> None:
    _activity(emergency_plan="").check_publishable()


@pytest.mark.parametrize(
    ("changes", "needed"),
    [
        ({}, False),
        ({"service_content": ServiceContent.EMERGENCY_RESCUE}, True),
        ({"service_content": ServiceContent.LARGE_EVENT}, True),
        ({"field_work": True}, True),
        ({"insurance_required": True}, True),
        ({"service_content": ServiceContent.ECO_PROTECTION}, False),
    ],
)
def test_needs_insurance_for_rescue_large_events_and_field_work(
    changes: dict[str, object], needed: bool
) -> None:
    # 4-5.1.4 b, 2-6.2 d
    assert _activity(**changes).needs_insurance is needed


@pytest.mark.parametrize(
    ("changes", "minimum"),
    [
        ({}, None),
        ({"risk_level": RiskLevel.MEDIUM}, None),
        ({"risk_level": RiskLevel.HIGH}, 18),
        ({"service_content": ServiceContent.EMERGENCY_RESCUE}, 18),
    ],
)
def test_hazardous_activity_takes_adults_only(changes: dict[str, object], minimum: int | None) -> None:
    activity = _activity(**changes)
    assert activity.hazardous is (minimum is not None)
    assert activity.minimum_age == minimum


def test_health_clinic_implies_a_medical_practitioner() -> None:
    # 3-6.1.3.1: medical services need a recorded qualification.
    clinic = _activity(service_content=ServiceContent.HEALTH_CLINIC)
    assert clinic.qualifications_needed == {Qualification.MEDICAL_PRACTITIONER}


def test_health_clinic_with_stated_qualifications_uses_them() -> None:
    clinic = _activity(
        service_content=ServiceContent.HEALTH_CLINIC, required_qualifications=[Qualification.NURSE]
    )
    assert clinic.qualifications_needed == {Qualification.NURSE}


def test_private_psychological_service_implies_a_counsellor() -> None:
    # 3-6.1.3.1, 3-7.3: psychological counselling needs a recorded qualification.
    talk = _activity(service_content=ServiceContent.PSYCHOLOGICAL_EDUCATION)
    assert talk.qualifications_needed == frozenset()
    talk.high_privacy = True
    assert talk.qualifications_needed == {Qualification.PSYCHOLOGICAL_COUNSELLOR}


def test_lecture_needs_no_qualification() -> None:
    assert _activity().qualifications_needed == frozenset()


def test_open_for_signup_only_when_published_or_ongoing() -> None:
    activity = _activity()
    assert not activity.open_for_signup
    for status in ActivityStatus:
        activity.status = status
        assert activity.open_for_signup is (status in (ActivityStatus.PUBLISHED, ActivityStatus.ONGOING))


def test_builder_times_are_aware_utc() -> None:
    activity = _activity()
    assert activity.starts_at.tzinfo is UTC
    assert activity.starts_at > datetime(2026, 1, 1, tzinfo=UTC)


@given(
    lat=st.floats(-89.0, 89.0),
    lon=st.floats(-179.9, 179.9),
    bearing=st.floats(0, 2 * math.pi),
    fraction=st.floats(0, 0.999),
)
def test_every_point_within_the_radius_is_inside_its_bounding_box(
    lat: float, lon: float, bearing: float, fraction: float
) -> None:
    radius = 50_000
    # A point at fraction × radius from (lat, lon) in the direction bearing (small-step approximation).
    step = fraction * radius / 6_371_008.8
    lat2 = math.degrees(math.radians(lat) + step * math.cos(bearing))
    lon2 = lon + math.degrees(step * math.sin(bearing) / max(math.cos(math.radians(lat)), 1e-9))
    if not (-90 <= lat2 <= 90 and -180 <= lon2 <= 180) or distance_m(lat, lon, lat2, lon2) > radius:
        return
    south, north, west, east = bounding_box(lat, lon, radius)
    assert south <= lat2 <= north and west <= lon2 <= east


def test_the_bounding_box_is_tight_enough_to_leave_far_places_out() -> None:
    south, north, west, east = bounding_box(32.06, 118.78, 50_000)  # Nanjing
    assert north - south < 1.0 and east - west < 1.2
    assert not (south <= 39.9 <= north)  # Beijing is out
