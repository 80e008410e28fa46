"""Visitor labels, country names, dates and avatars in the UI's language (desktop/core/labels.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.core.labels import (
    avatar_hue,
    babel_locale,
    country_name,
    format_clock,
    format_datetime,
    initials,
    location_text,
    visitor_label,
)
from tests.unit.desktop.factory import make_visitor


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("de_DE", "Besucher 000007"), ("de", "Besucher 000007"), ("en_US", "Visitor 000007"), ("C", "Visitor 000007")],
)
def test_label_is_built_from_the_id_in_the_ui_language(locale: str, expected: str) -> None:
    # The server's English label is ignored: the client builds it in its own language.
    assert visitor_label(make_visitor(7, label="Visitor 000007"), locale) == expected


def test_label_prefers_name_then_email() -> None:
    assert visitor_label(make_visitor(1, name="Ada", email="ada@example.com"), "de_DE") == "Ada"
    assert visitor_label(make_visitor(1, email="ada@example.com"), "de_DE") == "ada@example.com"


def test_unknown_and_c_locales_fall_back_to_english() -> None:
    assert babel_locale("C").language == "en"
    assert babel_locale("xx_YY").language == "en"
    assert babel_locale(None).language == "en"
    assert babel_locale("de-AT").territory == "AT"


@pytest.mark.parametrize(
    ("code", "locale", "expected"),
    [
        ("DE", "de_DE", "Deutschland"),
        ("de", "en_US", "Germany"),
        ("AT", "de", "Österreich"),
        ("GB", "de", "Vereinigtes Königreich"),
    ],
)
def test_country_names_come_from_babel_in_the_ui_language(code: str, locale: str, expected: str) -> None:
    assert country_name(code, locale) == expected


def test_country_without_a_valid_code_keeps_the_servers_text() -> None:
    assert country_name(None, "de_DE", "Atlantis") == "Atlantis"
    assert country_name("Z9", "de_DE", "Nowhere") == "Nowhere"
    assert country_name("", "de_DE") == ""


def test_location_text_has_flag_country_and_city() -> None:
    v = make_visitor(1, country_code="DE", country="Germany", city="Berlin")
    assert location_text(v, "de_DE") == "\U0001f1e9\U0001f1ea Deutschland, Berlin"
    assert location_text(v, "en_US") == "\U0001f1e9\U0001f1ea Germany, Berlin"
    assert location_text(make_visitor(2, country_code=None, country=None, city="Wien"), "de") == "Wien"


def test_times_follow_the_locale() -> None:
    moment = dt.datetime(2026, 11, 29, 14, 5, tzinfo=dt.UTC).astimezone()
    epoch = moment.timestamp()
    assert format_clock(epoch, "de_DE") == moment.strftime("%H:%M")
    english = format_clock(epoch, "en_US")
    assert english.endswith(("AM", "PM"))
    german = format_datetime(epoch, "de_DE")
    assert german.startswith(moment.strftime("%d.%m.%Y"))
    assert format_datetime(epoch, "en_US").startswith(moment.strftime("%b ") + str(moment.day))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Ada Lovelace", "AL"), ("ada@example.com", "A"), ("Besucher 3f9a1c", "B3"), ("  ", "?"), ("émile zola", "ÉZ")],
)
def test_initials(text: str, expected: str) -> None:
    assert initials(text) == expected


def test_initials_of_a_label_built_from_the_id_use_the_id() -> None:
    assert initials("Besucher sdf9rh", "v7Hq2mXcLpsdf9rh") == "SD"
    assert initials("Ada Lovelace", "v7Hq2mXcLpsdf9rh") == "AL"


def test_avatar_hue_is_stable_and_spread() -> None:
    assert avatar_hue("visitor-00000001") == avatar_hue("visitor-00000001")
    assert 0 <= avatar_hue("x") < 360
    hues = {avatar_hue(f"visitor-{n:08d}") // 30 for n in range(200)}
    assert len(hues) == 12  # every twelfth of the colour wheel is used
