"""Why routing decided what it did, in Vietnamese and English, with the facts behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)
class Reason:
    """One step of a decision: ``code`` for machines, ``vi``/``en`` for people, ``data`` for facts."""

    code: str
    vi: str
    en: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"code": self.code, "vi": self.vi, "en": self.en, "data": dict(self.data)}
