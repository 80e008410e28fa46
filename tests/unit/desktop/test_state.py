"""State icons, badges and display helpers."""

from __future__ import annotations

import pytest

from desktop.core.state import (
    VisitorState,
    badges,
    flag_emoji,
    format_duration,
    location_text,
    primary_state,
    short_label,
    state_text,
    time_on_site,
)
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.factory import NOW, make_visitor

IDLE_AT = NOW - ACTIVE_WINDOW_SECONDS - 1


@pytest.mark.parametrize(
    ("fields", "typing", "state"),
    [
        ({}, False, VisitorState.ACTIVE),
        ({"last_activity_at": IDLE_AT}, False, VisitorState.IDLE),
        ({"chat_status": "unanswered", "in_chat": True}, False, VisitorState.NEW_CHAT),
        ({"chat_status": "active", "in_chat": True, "unread": 2}, False, VisitorState.NEW_CHAT),
        ({"chat_status": "active", "in_chat": True}, False, VisitorState.CHATTING),
        ({"chat_status": "active", "in_chat": True}, True, VisitorState.TYPING),
        ({"auto_messaged": True}, False, VisitorState.AUTO_MESSAGED),
        ({"customer": True}, False, VisitorState.CUSTOMER),
        ({"visit_count": 3}, False, VisitorState.RETURNING),
        ({"visit_count": 3, "last_activity_at": IDLE_AT}, False, VisitorState.IDLE),
        ({"banned": True, "chat_status": "unanswered"}, False, VisitorState.BANNED),
        ({"online": False, "left_at": NOW}, True, VisitorState.LEFT),
    ],
)
def test_primary_state(fields: dict[str, object], typing: bool, state: VisitorState) -> None:
    assert primary_state(make_visitor(1, **fields), NOW, typing) is state


def test_badges_list_everything_that_applies() -> None:
    visitor = make_visitor(1, customer=True, visit_count=4, auto_messaged=True)
    assert badges(visitor, NOW) == [
        VisitorState.ACTIVE,
        VisitorState.AUTO_MESSAGED,
        VisitorState.CUSTOMER,
        VisitorState.RETURNING,
    ]
    assert state_text(VisitorState.RETURNING, visitor) == "Returning (4)"


def test_every_state_value_names_an_icon_file() -> None:
    assert {f"state-{s}.svg" for s in VisitorState} >= {"state-new-chat.svg", "state-auto-messaged.svg"}


def test_flags() -> None:
    assert flag_emoji("de") == "🇩🇪"
    assert flag_emoji("US") == "🇺🇸"
    for bad in [None, "", "D", "DEU", "1A", "ÄÖ"]:
        assert flag_emoji(bad) == ""


def test_labels_and_location() -> None:
    assert short_label(make_visitor(1, name="Ada")) == "Ada"
    assert short_label(make_visitor(1)) == "#1"
    assert location_text(make_visitor(1, city="Berlin")) == "🇩🇪 Germany, Berlin"
    assert location_text(make_visitor(1, country=None, country_code=None)) == ""


def test_time_on_site_ticks_and_freezes_when_left() -> None:
    visitor = make_visitor(1, visit_started_at=NOW - 100)
    assert time_on_site(visitor, NOW) == 100
    assert time_on_site(visitor, NOW + 5) == 105
    gone = make_visitor(1, visit_started_at=NOW - 100, online=False, left_at=NOW - 40)
    assert time_on_site(gone, NOW + 500) == 60


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (59.9, "00:59"), (61, "01:01"), (3599, "59:59"), (3600, "1:00"), (7322, "2:02")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
