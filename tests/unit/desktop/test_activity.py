"""The activity clock: Active turns off ten minutes after the last activity, with no event."""

from __future__ import annotations

from desktop.core.clock import ManualClock
from protocol.rules import ACTIVE_WINDOW_SECONDS
from tests.unit.desktop.activity_reference import ActivityClock
from tests.unit.desktop.factory import NOW


def test_visitor_flips_once_when_the_window_passes() -> None:
    clock = ManualClock(NOW)
    activity = ActivityClock()
    activity.track("a", NOW - 100, clock())
    activity.track("b", NOW - 10, clock())
    assert activity.due(clock()) == []
    clock.advance(ACTIVE_WINDOW_SECONDS - 100 - 1)
    assert activity.due(clock()) == []
    clock.advance(1)
    assert activity.due(clock()) == ["a"]
    assert activity.due(clock()) == []
    clock.advance(90)
    assert activity.due(clock()) == ["b"]
    assert len(activity) == 0


def test_new_activity_moves_the_deadline() -> None:
    clock = ManualClock(NOW)
    activity = ActivityClock()
    activity.track("a", NOW, clock())
    clock.advance(300)
    activity.track("a", clock(), clock())
    clock.advance(ACTIVE_WINDOW_SECONDS - 1)
    assert activity.due(clock()) == []
    assert activity.next_deadline() == NOW + 300 + ACTIVE_WINDOW_SECONDS
    clock.advance(1)
    assert activity.due(clock()) == ["a"]


def test_inactive_and_forgotten_visitors_never_flip() -> None:
    activity = ActivityClock()
    activity.track("old", NOW - ACTIVE_WINDOW_SECONDS, NOW)
    activity.track("gone", NOW, NOW)
    activity.forget("gone")
    assert activity.due(NOW + 10 * ACTIVE_WINDOW_SECONDS) == []
    assert activity.next_deadline() is None


def test_memory_is_bounded_by_visitors_not_events() -> None:
    activity = ActivityClock()
    for second in range(5000):
        activity.track("busy", NOW + second, NOW + second)
    assert len(activity) == 1
    assert activity.due(NOW + 5000 + ACTIVE_WINDOW_SECONDS) == ["busy"]
