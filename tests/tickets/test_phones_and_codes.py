"""Phone numbers are stored in E.164; tracking codes are short and safe to read aloud."""

from __future__ import annotations

import pytest

from tickets.codes import ALPHABET, LENGTH, display_code, new_code, normalise_code
from tickets.errors import ValidationFailed
from tickets.phones import normalise_phone


@pytest.mark.parametrize(("raw", "e164"), [
    ("0912 345 678", "+84912345678"),
    ("0912345678", "+84912345678"),
    ("84912345678", "+84912345678"),  # country code without "+", as in exported lists
    ("+84 912 345 678", "+84912345678"),
    ("(+84) 912-345-678", "+84912345678"),
    ("0274 3822 222", "+842743822222"),  # a Bình Dương landline
    ("+1 650 253 0000", "+16502530000"),  # a foreign caller keeps their country
])
def test_a_phone_number_in_any_common_form_is_normalised_to_e164(raw, e164):
    assert normalise_phone(raw) == e164


def test_normalising_an_e164_number_changes_nothing():
    assert normalise_phone("+84912345678") == "+84912345678"


@pytest.mark.parametrize("raw", ["", "123", "abc", "09123"])
def test_something_that_is_not_a_phone_number_is_refused_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as refused:
        normalise_phone(raw)
    assert list(refused.value.fields) == ["caller_phone"]


def test_the_refusal_names_the_field_the_caller_asks_for():
    with pytest.raises(ValidationFailed) as refused:
        normalise_phone("abc", field="phone")
    assert list(refused.value.fields) == ["phone"]


@pytest.mark.parametrize("confusable", ["0", "O", "1", "I", "L"])
def test_the_alphabet_has_no_characters_that_are_confused_when_read_aloud(confusable):
    assert confusable not in ALPHABET


def test_the_alphabet_is_upper_case_letters_and_digits_without_repeats():
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert all(c.isdigit() or c.isupper() for c in ALPHABET)


def test_a_new_code_has_eight_characters_from_the_alphabet():
    for _ in range(100):
        code = new_code()
        assert len(code) == LENGTH == 8
        assert set(code) <= set(ALPHABET)


@pytest.mark.parametrize(("text", "code"), [
    ("abcd-efgh", "ABCDEFGH"),
    ("ABCD-EFGH", "ABCDEFGH"),
    ("bd7k-3m9q", "BD7K3M9Q"),
    ("BD7K3M9Q", "BD7K3M9Q"),
    ("bd7k 3m9q", "BD7K3M9Q"),
    (" bd7k.3m9q ", "BD7K3M9Q"),
])
def test_normalise_code_accepts_the_forms_a_caller_types(text, code):
    assert normalise_code(text) == code


@pytest.mark.parametrize("text", [
    "abcd-efg0",  # 0 is not in the alphabet
    "abcd-efgo",  # nor O
    "abcd-efg1",  # nor 1
    "abcd-efgi",  # nor I
    "abcd-efgl",  # nor L
    "abcd-efg",  # too short
    "abcd-efghj",  # too long
    "abcd_efgh",  # not a separator
    "",
    "ABCD-EFGH; DROP TABLE tickets",
])
def test_normalise_code_refuses_what_cannot_be_a_code(text):
    assert normalise_code(text) is None


def test_display_code_groups_four_and_four():
    assert display_code("BD7K3M9Q") == "BD7K-3M9Q"


def test_a_displayed_code_normalises_back_to_itself():
    code = new_code()
    assert normalise_code(display_code(code)) == code
    assert normalise_code(display_code(code).lower()) == code
