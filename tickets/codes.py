"""Public tracking codes: short, unguessable, and safe to read aloud over the phone."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: a caller reading the code from an SMS cannot confuse them.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8  # 31**8 ≈ 8.5e11 codes: guessing one in a million tries is hopeless.
_VALID = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    """A fresh random tracking code (uniqueness is enforced by the database)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(text: str) -> str | None:
    """The code in canonical form ("bd7k-3m9q" → "BD7K3M9Q"), or None if it cannot be one."""
    candidate = re.sub(r"[\s\-.]", "", text).upper()
    return candidate if _VALID.match(candidate) else None


def display_code(code: str) -> str:
    """The code grouped for reading aloud: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"
