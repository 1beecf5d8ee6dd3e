"""The one error routing raises for input it cannot work with."""

from __future__ import annotations


class RoutingInputError(ValueError):
    """An input field is invalid; the web layer answers 400 with ``field`` and ``message``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
