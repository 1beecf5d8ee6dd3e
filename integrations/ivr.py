"""The 1022 voice menu: read from data, and matched against what the caller pressed or said."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from integrations.twiml import MenuEntry
from routing.text import fold

MENU_FILE = Path(__file__).resolve().parent.parent / "data" / "telephony" / "ivr_menu.csv"



@lru_cache(maxsize=4)
def load_menu(path: Path = MENU_FILE) -> tuple[MenuEntry, ...]:
    """The menu entries in key order."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    entries = tuple(MenuEntry(digit=r["digit"].strip(), category=r["category"].strip(),
                              label_vi=r["label_vi"].strip(),
                              speech_keywords=tuple(k.strip() for k in r["speech_keywords_vi"].split("|") if k.strip()))
                    for r in rows)
    if len({e.digit for e in entries}) != len(entries):
        raise ValueError(f"{path}: a key is used twice")
    return entries


def choose(entries: tuple[MenuEntry, ...], digits: str | None, speech: str | None) -> MenuEntry | None:
    """The entry the caller picked by key or by voice; None if nothing matches."""
    if digits:
        return next((e for e in entries if e.digit == digits.strip()), None)
    heard = fold(speech or "")
    if not heard:
        return None
    # The longest keyword heard wins: "đèn tín hiệu" (traffic) over "đèn" alone.
    best = max(((len(k), e) for e in entries for k in e.speech_keywords if fold(k) in heard),
               default=None, key=lambda pair: pair[0])
    return best[1] if best else None
