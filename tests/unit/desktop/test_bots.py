"""The app's bot core without Qt: text forms of replies, branches and conditions; the preview."""

from __future__ import annotations

import pytest

from desktop.core.bots import (
    FormError,
    Preview,
    blank_flow,
    format_branches,
    format_conditions,
    format_replies,
    new_step,
    parse_branches,
    parse_conditions,
    parse_replies,
    step_kind,
    unique_step_id,
)
from protocol.bots.engine import Facts
from protocol.bots.flow import QuickReply, Trigger, When
from protocol.bots.validate import problems


def test_replies_round_trip() -> None:
    replies = parse_replies("Sales -> name\nSupport->team\n\n  Just looking  ")
    assert replies == [
        QuickReply(label="Sales", next="name"),
        QuickReply(label="Support", next="team"),
        QuickReply(label="Just looking", next=None),
    ]
    assert parse_replies(format_replies(replies)) == replies
    with pytest.raises(FormError, match="quick reply on line 1"):
        parse_replies("x" * 61 + " -> a")


def test_branches_round_trip_and_errors_name_the_line() -> None:
    branches = parse_branches("agents_online=yes; country_in=DE, AT -> team\n\ncustomer=no -> sales")
    assert branches[0].when == When(agents_online=True, country_in=["DE", "AT"])
    assert branches[0].next == "team"
    assert parse_branches(format_branches(branches)) == branches
    with pytest.raises(FormError, match=r"branch on line 2: 'weather=sunny' is not a condition"):
        parse_branches("customer=yes -> a\nweather=sunny -> b")
    with pytest.raises(FormError, match="returning is yes or no, not 'maybe'"):
        parse_branches("returning=maybe -> a")


def test_trigger_conditions_round_trip() -> None:
    trigger = parse_conditions("time_on_page_at_least=30; url_contains=/pricing; returning_visitor=no", Trigger,
                               kind="rule")  # fmt: skip
    assert trigger == Trigger(kind="rule", time_on_page_at_least=30, url_contains="/pricing", returning_visitor=False)
    assert format_conditions(trigger, skip=("kind",)) == (
        "time_on_page_at_least=30; url_contains=/pricing; returning_visitor=no"
    )
    with pytest.raises(FormError, match="time_on_page_at_least is a whole number, not 'soon'"):
        parse_conditions("time_on_page_at_least=soon", Trigger, kind="rule")
    with pytest.raises(FormError, match="'kind=rule' is not a condition"):
        parse_conditions("kind=rule", Trigger, kind="rule")


def test_new_steps_and_ids() -> None:
    assert [step_kind(new_step(k, k)) for k in ("message", "question", "ask", "condition", "hand_over", "close")] == [
        "message", "question", "ask", "condition", "hand_over", "close"
    ]  # fmt: skip
    with pytest.raises(FormError, match="'teleport' is not a step kind"):
        new_step("teleport", "x")
    assert unique_step_id({"ask", "ask2"}, "ask") == "ask3"
    assert unique_step_id(set(), "ask") == "ask"
    assert problems(blank_flow()) == []


def test_preview_runs_the_engine() -> None:
    preview = Preview(blank_flow(), facts=Facts())
    preview.begin()
    assert [(line.author, line.text) for line in preview.lines] == [
        ("bot", "Hi! Nobody is online right now."),
        ("system", "Connecting you to our team"),
        ("system", "Handed over: the chat is now unanswered for agents."),
    ]
    assert not preview.running
    assert preview.replies == ()
