from __future__ import annotations

import string
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.identity_numbers import (
    age_on,
    mask_id_number,
    mask_phone,
    normalise_mobile,
    parse_resident_id,
    resident_id_check_digit,
)
from core.errors import InvalidInput

# The sample number printed in GB 11643-1999 and countless tutorials.
KNOWN_VALID = "11010519491231002X"


def _valid(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def test_known_sample_has_check_digit_x() -> None:
    assert resident_id_check_digit(KNOWN_VALID[:17]) == "X"


@pytest.mark.parametrize(
    ("number", "born"),
    [
        (KNOWN_VALID, date(1949, 12, 31)),
        (_valid("44030419800101123"), date(1980, 1, 1)),
        (_valid("51010720000229456"), date(2000, 2, 29)),
    ],
)
def test_valid_resident_id_is_accepted_with_its_birth_date(number: str, born: date) -> None:
    assert parse_resident_id(number) == (number, born)


def test_lower_case_x_and_surrounding_spaces_are_normalised() -> None:
    assert parse_resident_id(f"  {KNOWN_VALID.lower()} ") == (KNOWN_VALID, date(1949, 12, 31))


def test_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_resident_id(KNOWN_VALID[:17] + "5")
    assert caught.value.key == "id.resident.check_digit"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002XX",  # 19 characters
        "110105194912310",  # the old 15-digit form is not taken
        "1101051949123100X2",  # X only as the last character
        "11010519491231002Y",
        "1101 0519 4912 3100 2X",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are \d to Python, not to GB 11643
    ],
)
def test_bad_format_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_resident_id(raw)
    assert caught.value.key == "id.resident.format"


def test_full_width_digits_are_read_as_ascii() -> None:
    full_width = KNOWN_VALID.translate(str.maketrans(string.digits + "X", "０１２３４５６７８９Ｘ"))
    assert parse_resident_id(full_width) == (KNOWN_VALID, date(1949, 12, 31))


@pytest.mark.parametrize("birth", ["19490230", "19491301", "19490000", "00000101", "20230229"])
def test_impossible_birth_date_is_refused(birth: str) -> None:
    number = _valid(f"110105{birth}002")
    with pytest.raises(InvalidInput) as caught:
        parse_resident_id(number)
    assert caught.value.key == "id.resident.birth_date"


@given(st.text(alphabet=string.digits, min_size=17, max_size=17))
def test_any_17_digits_with_their_check_digit_pass_the_check(first17: str) -> None:
    number = first17 + resident_id_check_digit(first17)
    try:
        assert parse_resident_id(number)[0] == number
    except InvalidInput as error:
        # Random digits rarely make a real date; the check digit itself is never the complaint.
        assert error.key == "id.resident.birth_date"


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.text(alphabet=string.digits, min_size=6, max_size=6),
    st.text(alphabet=string.digits, min_size=3, max_size=3),
)
def test_any_real_birth_date_with_its_check_digit_parses(born: date, region: str, sequence: str) -> None:
    number = _valid(f"{region}{born:%Y%m%d}{sequence}")
    assert parse_resident_id(number) == (number, born)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    st.text(alphabet=string.digits, min_size=3, max_size=3),
    st.characters(),
)
def test_any_other_last_character_fails(born: date, sequence: str, last: str) -> None:
    first17 = f"110105{born:%Y%m%d}{sequence}"
    right = resident_id_check_digit(first17)
    if unicodedata.normalize("NFKC", last).upper() == right:
        return  # the right digit, in any case or width people type it
    with pytest.raises(InvalidInput):
        parse_resident_id(first17 + last)


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "8613812345678",
        " 138 1234 5678 ",
        "(+86) 138-1234-5678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalised(raw: str) -> None:
    assert normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "+1 415 555 0100",
        "010-12345678",
        "138abcd5678",
        "+8612812345678",
        "1٣812345678",
    ],
)
def test_bad_mobile_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_mobile(raw)
    assert caught.value.key == "phone.format"


def test_phone_is_masked_to_first_three_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


def test_id_number_is_masked_to_first_four_and_last_four() -> None:
    assert mask_id_number("110105194912311234") == "1101**********1234"
    assert mask_id_number(KNOWN_VALID) == "1101**********002X"


def test_short_values_are_masked_entirely() -> None:
    assert mask_phone("12345") == "*****"
    assert mask_id_number("E1234") == "*****"


def test_age_turns_on_the_birthday() -> None:
    born = date(2008, 6, 15)
    assert age_on(born, date(2026, 6, 14)) == 17
    assert age_on(born, date(2026, 6, 15)) == 18
