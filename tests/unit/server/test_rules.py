"""Automatic-message rules: validation and evaluation, without sockets."""

from __future__ import annotations

import msgspec
import pytest

from protocol.messages import PageVisit, Visitor
from server.rules import AutoRule, RuleConditions, RuleError, RuleSpec, compile_rule, matches, validate

NOW = 1_000_000.0


def visitor(**fields: object) -> Visitor:
    base: dict[str, object] = {
        "id": "visitor01",
        "label": "Visitor",
        "first_seen_at": NOW - 100,
        "visit_started_at": NOW - 100,
        "last_activity_at": NOW,
        "current_url": "https://shop.example/pricing?plan=pro",
        "current_title": "Pricing - Shop",
        "referrer": "https://www.google.com/search?q=shop",
        "pages": [
            PageVisit(url="https://shop.example/", at=NOW - 100),
            PageVisit(url="https://shop.example/pricing", at=NOW - 20),
        ],
    }
    base.update(fields)
    return msgspec.convert(base, Visitor, from_attributes=True)


def rule(**conditions: object) -> AutoRule:
    return AutoRule(id=1, account_id=1, name="r", message="m", conditions=RuleConditions(**conditions))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({"time_on_page_at_least": 20}, True),
        ({"time_on_page_at_least": 21}, False),
        ({"time_on_site_at_least": 100}, True),
        ({"time_on_site_at_least": 101}, False),
        ({"url_contains": "/PRICING"}, True),
        ({"url_contains": "/checkout"}, False),
        ({"url_matches": r"plan=(pro|team)$"}, True),
        ({"url_matches": r"^/pricing"}, False),
        ({"title_contains": "pricing"}, True),
        ({"title_matches": r"^Home"}, False),
        ({"referrer_contains": "google."}, True),
        ({"referrer_contains": "bing."}, False),
        ({"returning_visitor": True}, False),
        ({"returning_visitor": False}, True),
        ({"visit_count_at_least": 1}, True),
        ({"visit_count_at_least": 2}, False),
        ({"url_contains": "/pricing", "time_on_page_at_least": 60}, False),
        ({"url_contains": "/pricing", "time_on_page_at_least": 10}, True),
    ],
)
def test_conditions(conditions: dict[str, object], expected: bool) -> None:
    assert matches(compile_rule(rule(**conditions)), visitor(), NOW) is expected


def test_returning_visitor_and_visit_count() -> None:
    regular = visitor(visit_count=3)
    assert matches(compile_rule(rule(returning_visitor=True)), regular, NOW)
    assert matches(compile_rule(rule(visit_count_at_least=3)), regular, NOW)
    assert not matches(compile_rule(rule(visit_count_at_least=4)), regular, NOW)


def test_missing_fields_do_not_match_text_conditions() -> None:
    bare = visitor(referrer=None, current_title=None)
    assert not matches(compile_rule(rule(referrer_contains="google")), bare, NOW)
    assert not matches(compile_rule(rule(title_matches=".*x")), bare, NOW)


def test_time_based_flag() -> None:
    assert compile_rule(rule(time_on_site_at_least=5)).time_based
    assert not compile_rule(rule(url_contains="x")).time_based


def test_validation_refuses_bad_regex_and_empty_rules() -> None:
    with pytest.raises(RuleError, match=r"url_matches is not a valid regular expression .*fix the pattern"):
        validate(RuleSpec(name="r", message="m", conditions=RuleConditions(url_matches="(")))
    with pytest.raises(RuleError, match="no conditions"):
        validate(RuleSpec(name="r", message="m", conditions=RuleConditions()))
    validate(RuleSpec(name="r", message="m", conditions=RuleConditions(title_matches=r"\d+")))


def test_unknown_condition_is_refused_when_decoding() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.json.decode(b'{"name":"r","message":"m","conditions":{"url_containz":"x"}}', type=RuleSpec)
