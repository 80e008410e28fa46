"""Automatic-message rules: their shape, validation and evaluation (pure, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import msgspec

from protocol.messages import Visitor
from protocol.rules import MAX_MESSAGE_CHARS

MAX_PATTERN_CHARS = 500

Seconds = Annotated[int, msgspec.Meta(ge=0, le=86_400 * 7)]
Needle = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PATTERN_CHARS)]


class RuleConditions(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Conditions of a rule; every one that is set must hold (text matches ignore case)."""

    time_on_page_at_least: Seconds | None = None
    time_on_site_at_least: Seconds | None = None
    url_contains: Needle | None = None
    url_matches: Needle | None = None
    """A regular expression searched in the current URL."""
    title_contains: Needle | None = None
    title_matches: Needle | None = None
    referrer_contains: Needle | None = None
    returning_visitor: bool | None = None
    visit_count_at_least: Annotated[int, msgspec.Meta(ge=1)] | None = None


class RuleSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An automatic message rule as an agent writes it."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    conditions: RuleConditions
    enabled: bool = True


class AutoRule(msgspec.Struct, kw_only=True):
    """A stored rule."""

    id: int
    account_id: int
    name: str
    message: str
    conditions: RuleConditions
    enabled: bool = True


class RuleError(ValueError):
    """A rule that cannot be accepted; the text says what to change."""


_TEXT_FIELDS = ("url_contains", "url_matches", "title_contains", "title_matches", "referrer_contains")


def validate(spec: RuleSpec) -> None:
    """Raise :class:`RuleError` naming the problem when a rule is unusable."""
    conditions = spec.conditions
    if all(getattr(conditions, name) is None for name in conditions.__struct_fields__):
        raise RuleError("the rule has no conditions; give at least one (for example time_on_page_at_least)")
    for name in ("url_matches", "title_matches"):
        pattern = getattr(conditions, name)
        if pattern is None:
            continue
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise RuleError(f"{name} is not a valid regular expression ({exc}); fix the pattern") from None


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate."""

    rule: AutoRule
    url_re: re.Pattern[str] | None
    title_re: re.Pattern[str] | None

    @property
    def time_based(self) -> bool:
        """Whether the rule can become true without any new event."""
        c = self.rule.conditions
        return c.time_on_page_at_least is not None or c.time_on_site_at_least is not None


def compile_rule(rule: AutoRule) -> CompiledRule:
    """Compile a (validated) rule's regular expressions once."""
    c = rule.conditions
    return CompiledRule(
        rule=rule,
        url_re=re.compile(c.url_matches, re.IGNORECASE) if c.url_matches else None,
        title_re=re.compile(c.title_matches, re.IGNORECASE) if c.title_matches else None,
    )


def _contains(haystack: str | None, needle: str | None) -> bool:
    return needle is None or (haystack is not None and needle.casefold() in haystack.casefold())


def matches(compiled: CompiledRule, visitor: Visitor, now: float) -> bool:
    """Whether every condition of the rule holds for ``visitor`` at ``now``."""
    c = compiled.rule.conditions
    if c.time_on_site_at_least is not None and now - visitor.visit_started_at < c.time_on_site_at_least:
        return False
    if c.time_on_page_at_least is not None:
        entered = visitor.pages[-1].at if visitor.pages else visitor.visit_started_at
        if now - entered < c.time_on_page_at_least:
            return False
    if c.returning_visitor is not None and (visitor.visit_count > 1) != c.returning_visitor:
        return False
    if c.visit_count_at_least is not None and visitor.visit_count < c.visit_count_at_least:
        return False
    if not (
        _contains(visitor.current_url, c.url_contains)
        and _contains(visitor.current_title, c.title_contains)
        and _contains(visitor.referrer, c.referrer_contains)
    ):
        return False
    if compiled.url_re is not None and not compiled.url_re.search(visitor.current_url or ""):
        return False
    return compiled.title_re is None or bool(compiled.title_re.search(visitor.current_title or ""))
