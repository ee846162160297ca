"""2-7.1: the region a volunteer gives names a place, as matching reads it (3-6.1.3.1)."""

from __future__ import annotations

import pytest

from core.domain.volunteer import REGION_MAX, plausible_region


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("北京", "北京"),
        ("江苏省南京市玄武区", "江苏省南京市玄武区"),
        (" 江苏省  南京市 玄武区 ", "江苏省 南京市 玄武区"),
        ("Gulou District, Nanjing", "Gulou District, Nanjing"),
        ("Xi'an", "Xi'an"),
        ("南京市鼓楼区（江苏）", "南京市鼓楼区（江苏）"),
        ("梅园街道12号", "梅园街道12号"),
    ],
)
def test_a_place_name_is_kept_with_its_spaces_squeezed(typed: str, kept: str) -> None:
    assert plausible_region(typed) == kept


@pytest.mark.parametrize(
    "typed", ["", "   ", "x", "ab", "南", "123", "？？", "🌟南京🌟", "南京\u202e市", "一" * (REGION_MAX + 1)]
)
def test_what_names_no_place_is_refused(typed: str) -> None:
    assert plausible_region(typed) is None
