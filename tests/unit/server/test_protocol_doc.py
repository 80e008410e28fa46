"""Every JSON example in docs/protocol.md decodes with the real decoder of its direction."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from protocol.codec import agent_events, agent_requests, visitor_events, visitor_requests
from protocol.messages import AgentToServer, ErrorCode, ServerToAgent, ServerToVisitor, VisitorToServer
from server.rules import RuleSpec, validate

DOC = Path(__file__).resolve().parents[3] / "docs" / "protocol.md"
DECODERS: dict[str, Any] = {
    "Agent → server": agent_requests,
    "Server → agent": agent_events,
    "Widget → server": visitor_requests,
    "Server → widget": visitor_events,
}
UNIONS: dict[str, Any] = {
    "Agent → server": AgentToServer,
    "Server → agent": ServerToAgent,
    "Widget → server": VisitorToServer,
    "Server → widget": ServerToVisitor,
}


def _examples() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    section = ""
    for part in re.split(r"^(##+ .*)$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE):
        if part.startswith("##"):
            section = part.lstrip("#").strip()
            continue
        found.setdefault(section, []).extend(re.findall(r"```json\n(.*?)\n```", part, flags=re.DOTALL))
    return found


@pytest.mark.parametrize("section", list(DECODERS))
def test_every_message_of_each_direction_has_a_valid_example(section: str) -> None:
    examples = _examples()[section]
    decoded = [DECODERS[section].decode(example) for example in examples]
    documented = {type(message) for message in decoded}
    every = set(UNIONS[section].__args__)
    assert documented == every, f"undocumented in {section}: {every - documented}"


def test_rule_example_is_a_valid_rule() -> None:
    rules = [e for e in _examples()["REST API (`/api/v1`)"] if '"conditions"' in e]
    assert rules
    for rule in rules:
        validate(msgspec.json.decode(rule, type=RuleSpec))


def test_every_error_code_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in ErrorCode:
        assert f"| `{code.value}` |" in text
