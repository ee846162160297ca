"""A need's contact phone (3-6.1.1): a mobile or a landline with its area code, as a neighbourhood
committee or a village office writes it; the volunteer's own phone stays a mobile."""

from __future__ import annotations

import pytest

from core.domain.identity_numbers import normalise_mobile
from core.domain.need import normalise_contact_phone
from core.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("025-83331234", "025-83331234"),
        ("02583331234", "025-83331234"),
        ("025 8333 1234", "025-83331234"),
        ("025-8333-1234", "025-83331234"),
        ("(025)83331234", "025-83331234"),
        ("+86 25 83331234", "025-83331234"),
        ("０２５－８３３３１２３４", "025-83331234"),
        ("010-62345678", "010-62345678"),
        ("0512-88881234", "0512-88881234"),
        ("0917 8123456", "0917-8123456"),  # seven digits after a four-digit area code
        ("025-83331234-801", "025-83331234-801"),
        ("025-83331234 转 801", "025-83331234-801"),
        ("025-83331234分机801", "025-83331234-801"),
        ("02583331234 ext. 801", "025-83331234-801"),
        ("138 1234 5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
    ],
)
def test_mobiles_and_landlines_with_their_area_code_are_accepted(raw: str, kept: str) -> None:
    assert normalise_contact_phone(raw) == kept


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "电话",
        "025-8333123",  # 025 numbers have eight digits
        "025-03331234",  # no local number starts with 0
        "000-12345678",
        "12812345678",
        "025-83331234-1234567",  # an extension has at most six digits
        "1٣812345678",
    ],
)
def test_nonsense_is_refused_with_an_example_of_each(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_contact_phone(raw)
    assert caught.value.key == "need.phone.invalid"


def test_a_landline_without_its_area_code_is_refused_asking_for_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_contact_phone("8333 1234")
    assert caught.value.key == "need.phone.no_area_code"


def test_a_volunteer_phone_still_has_to_be_a_mobile() -> None:
    with pytest.raises(InvalidInput):
        normalise_mobile("025-83331234")
