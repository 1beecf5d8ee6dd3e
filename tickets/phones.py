"""Phone numbers: everything is stored in E.164, whatever form the caller's number arrives in."""

from __future__ import annotations

import re

import phonenumbers

from tickets.errors import ValidationFailed

DEFAULT_REGION = "VN"

# Vietnam's 2018 re-numbering moved 11-digit mobiles to 10 digits (0168 xxx xxxx → 038 …).
# Old numbers still arrive from contact lists and old records; both forms mean one caller.
LEGACY_MOBILE_PREFIXES = {
    "162": "32", "163": "33", "164": "34", "165": "35", "166": "36", "167": "37",
    "168": "38", "169": "39",  # Viettel
    "120": "70", "121": "79", "122": "77", "126": "76", "128": "78",  # MobiFone
    "123": "83", "124": "84", "125": "85", "127": "81", "129": "82",  # VinaPhone
    "186": "56", "188": "58",  # Vietnamobile
    "199": "59",  # Gmobile
}
_LEGACY = re.compile(r"^(?:\+84|84|0)(1\d\d)(\d{7})$")


def normalise_phone(raw: str, field: str = "caller_phone") -> str:
    """E.164 for a Vietnamese or international number ("0912 345 678" → "+84912345678")."""
    text = (raw or "").strip()
    digits = re.sub(r"[\s\-.()]", "", text)
    legacy = _LEGACY.match(digits)
    if legacy and legacy.group(1) in LEGACY_MOBILE_PREFIXES:
        digits = f"+84{LEGACY_MOBILE_PREFIXES[legacy.group(1)]}{legacy.group(2)}"
    # "84912345678": the country code written without "+", common in exported lists.
    if re.fullmatch(r"84\d{9,10}", digits):
        digits = "+" + digits
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    try:
        number = phonenumbers.parse(digits, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationFailed("Invalid phone number", {field: "not a phone number"}) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed("Invalid phone number", {field: f"not a valid number: {raw!r}"})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalise_phone(raw: str | None) -> str | None:
    """E.164, or None for what is not a usable number ("anonymous", "client:alice", "")."""
    try:
        return normalise_phone(raw or "")
    except ValidationFailed:
        return None


def equivalent_numbers(e164: str) -> list[str]:
    """The number and, for a post-2018 mobile, its old 11-digit form, as records may hold either."""
    forms = [e164]
    for old, new in LEGACY_MOBILE_PREFIXES.items():
        if e164.startswith(f"+84{new}") and len(e164) == 12:
            forms.append(f"+84{old}{e164[3 + len(new):]}")
    return forms


def is_mobile(e164: str) -> bool:
    """Whether an SMS can reach this number."""
    number = phonenumbers.parse(e164)
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
