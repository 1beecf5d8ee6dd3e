"""Languages: Vietnamese first, English available."""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale

from app.extensions import babel

LANGUAGES = ("vi", "en")


def select_locale() -> str:
    """The language the user chose, else Vietnamese.

    The browser's Accept-Language is deliberately ignored: consoles in a provincial office
    often run English-configured browsers, and the product speaks Vietnamese first.
    """
    chosen = session.get("lang") if request else None
    return chosen if chosen in LANGUAGES else "vi"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
