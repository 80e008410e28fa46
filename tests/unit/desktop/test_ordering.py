"""Column sort keys and the default order."""

from __future__ import annotations

import random

from desktop.core.ordering import Column, default_order, sort_key, sort_value, sort_values
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.factory import NOW, make_visitor


def test_default_order_groups_then_longest_time_on_site() -> None:
    idle = make_visitor(1, last_activity_at=NOW - ACTIVE_WINDOW_SECONDS - 5, visit_started_at=NOW - 5000)
    active_short = make_visitor(2, visit_started_at=NOW - 10)
    active_long = make_visitor(3, visit_started_at=NOW - 900)
    chatting = make_visitor(4, chat_status="active", in_chat=True)
    new_chat = make_visitor(5, chat_status="unanswered", in_chat=True, visit_started_at=NOW - 1)
    gone = make_visitor(6, online=False, left_at=NOW, visit_started_at=NOW - 9000)
    ordered = default_order([idle, active_short, gone, active_long, chatting, new_chat], NOW)
    assert [v.id for v in ordered] == [v.id for v in [new_chat, chatting, active_long, active_short, idle, gone]]


def test_every_column_has_a_total_order() -> None:
    visitors = [
        make_visitor(i, name=name, visit_count=count, referrer=ref, browser="Firefox", chat_agent_name=agent)
        for i, (name, count, ref, agent) in enumerate(
            [("bob", 2, "https://b", None), ("Ada", 7, None, "Zoe"), (None, 1, "https://a", "al")]
        )
    ]
    for column in Column:
        keys = [sort_key(column, v, NOW) for v in visitors]
        assert len(set(keys)) == len(keys)
        assert sorted(keys) == sorted(keys, key=lambda k: (k[0], k[1]))
    by_name = sorted(visitors, key=lambda v: sort_key(Column.NAME, v, NOW))
    assert [v.name for v in by_name] == [None, "Ada", "bob"]  # "#2" sorts before letters
    by_visits = sorted(visitors, key=lambda v: sort_key(Column.VISITS, v, NOW))
    assert [v.visit_count for v in by_visits] == [1, 2, 7]
    by_agent = sorted(visitors, key=lambda v: sort_key(Column.AGENT, v, NOW))
    assert [v.chat_agent_name for v in by_agent] == [None, "al", "Zoe"]


def test_time_on_site_ascending_is_shortest_first() -> None:
    short, long = make_visitor(1, visit_started_at=NOW - 5), make_visitor(2, visit_started_at=NOW - 500)
    assert sort_key(Column.TIME_ON_SITE, short, NOW) < sort_key(Column.TIME_ON_SITE, long, NOW)


def test_bulk_values_equal_single_values() -> None:
    visitors = [
        make_visitor(1, name="Zoë", referrer="https://A", chat_agent_name="Al", visit_count=3, browser="Edge"),
        make_visitor(2, current_title=None, city="Wien", last_activity_at=NOW - ACTIVE_WINDOW_SECONDS),
        make_visitor(3, chat_status="unanswered", in_chat=True, label="", country=None),
        make_visitor(4, online=False, left_at=NOW, banned=True, current_url=None, current_title=None),
    ]
    for column in Column:
        assert sort_values(column, visitors, NOW) == [sort_value(column, v, NOW) for v in visitors], column


def test_bulk_values_equal_single_values_for_random_visitors() -> None:
    rng = random.Random(5)
    visitors = [
        make_visitor(
            i,
            banned=rng.random() < 0.2,
            online=rng.random() < 0.7,
            chat_status=rng.choice(["none", "unanswered", "active", "closed"]),
            in_chat=rng.random() < 0.3,
            unread=rng.choice([0, 0, 1]),
            last_activity_at=NOW - rng.choice([0, ACTIVE_WINDOW_SECONDS - 0.001, ACTIVE_WINDOW_SECONDS, 9999.5]),
            name=rng.choice([None, "Ann", "ÅSA"]),
        )
        for i in range(400)
    ]
    for column in Column:
        assert sort_values(column, visitors, NOW) == [sort_value(column, v, NOW) for v in visitors], column
