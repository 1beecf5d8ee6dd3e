"""Phone numbers: everything is stored in E.164, whatever form the caller's number arrives in."""

from __future__ import annotations

import re

import phonenumbers

from tickets.errors import ValidationFailed

DEFAULT_REGION = "VN"


def normalise_phone(raw: str, field: str = "caller_phone") -> str:
    """E.164 for a Vietnamese or international number ("0912 345 678" → "+84912345678")."""
    text = (raw or "").strip()
    digits = re.sub(r"[\s\-.()]", "", text)
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
