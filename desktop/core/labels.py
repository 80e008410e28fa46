"""Texts built in the client in the UI's language: visitor labels, country names, dates and times (no Qt)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Final

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time

from desktop.core.state import flag_emoji
from protocol.messages import Visitor

FALLBACK_LOCALE: Final = "en_US"

VISITOR_WORD: Final[dict[str, str]] = {"en": "Visitor", "de": "Besucher"}
"""The word before a visitor's short id, per UI language (the languages resources/translations ships)."""

LABEL_ID_CHARS: Final = 6
"""How much of the visitor id ends a label: as many characters as the server's own labels use."""


@lru_cache(maxsize=16)
def babel_locale(name: str | None) -> Locale:
    """The Babel locale for a Qt/POSIX locale name ("de_DE", "de-AT", "en"); English for "C" or unknown names."""
    for candidate in (name, (name or "").replace("-", "_").split("_")[0]):
        if not candidate or candidate in ("C", "POSIX"):
            continue
        try:
            return Locale.parse(candidate.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(FALLBACK_LOCALE)


def visitor_word(locale: str | None) -> str:
    """ "Visitor" in the UI's language (English when the language is not one we ship)."""
    return VISITOR_WORD.get(babel_locale(locale).language, VISITOR_WORD["en"])


def visitor_label(visitor: Visitor, locale: str | None) -> str:
    """How lists name a visitor: the name, else the e-mail, else "Besucher Sdf9rh" built from the id."""
    return visitor.name or visitor.email or f"{visitor_word(locale)} {visitor.id[-LABEL_ID_CHARS:]}"


def initials(text: str, visitor_id: str = "") -> str:
    """One or two letters for an avatar: "Ada Lovelace" -> "AL", "ada@example.com" -> "A", "" -> "?".

    A label built from ``visitor_id`` ("Besucher Sdf9rh") gives the id's letters ("SD"), not the
    "Visitor" word every anonymous visitor shares.
    """
    suffix = visitor_id[-LABEL_ID_CHARS:]
    if suffix and text.endswith(" " + suffix):
        return suffix[:2].upper()
    words = [w for w in text.replace("@", " ").replace(".", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if "@" in text or len(words) == 1:
        return words[0][0].upper()
    return (words[0][0] + words[-1][0]).upper()


def avatar_hue(visitor_id: str) -> int:
    """A stable hue (0..359) for a visitor's avatar, the same on every machine and run (no hash seed)."""
    h = 2166136261
    for byte in visitor_id.encode("utf-8"):
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF  # FNV-1a
    return h % 360


def country_name(code: str | None, locale: str | None, fallback: str | None = None) -> str:
    """A country's name in the UI's language from its ISO code ("DE" -> "Deutschland"); else ``fallback``."""
    if code and len(code) == 2 and code.isascii() and code.isalpha():
        name = babel_locale(locale).territories.get(code.upper())
        if name:
            return str(name)
    return fallback or code or ""


def place_text(visitor: Visitor, locale: str | None) -> str:
    """Country in the UI's language and city, e.g. "Deutschland, Berlin" (the list draws the flag as an icon)."""
    country = country_name(visitor.country_code, locale, visitor.country)
    return f"{country}, {visitor.city}" if country and visitor.city else country or (visitor.city or "")


def location_text(visitor: Visitor, locale: str | None) -> str:
    """Flag, country in the UI's language and city, e.g. "🇩🇪 Deutschland, Berlin"."""
    place = place_text(visitor, locale)
    flag = flag_emoji(visitor.country_code)
    return f"{flag} {place}" if flag and place else flag or place


def _local(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch).astimezone()


def format_clock(epoch: float, locale: str | None) -> str:
    """Local wall-clock time of an instant in the locale's short form ("14:05", "2:05 PM")."""
    return str(babel_time(_local(epoch), "short", locale=babel_locale(locale)))


def format_datetime(epoch: float, locale: str | None) -> str:
    """Local date and time of an instant: the locale's medium date and short time ("29.11.2026, 14:05")."""
    loc = babel_locale(locale)
    moment = _local(epoch)
    date_part = babel_date(moment, "medium", locale=loc)
    time_part = babel_time(moment, "short", locale=loc)
    # CLDR's pattern joining the two ("{1}, {0}"); its quoted literals, if any, lose their quotes.
    return str(loc.datetime_formats["medium"]).replace("'", "").replace("{1}", date_part).replace("{0}", time_part)
