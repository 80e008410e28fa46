"""Which bot starts for a visitor when something happens (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from protocol.bots.flow import Flow, TriggerKind
from protocol.messages import Visitor
from server.rules import AutoRule, CompiledRule, RuleConditions, compile_rule, matches


@dataclass(frozen=True, slots=True)
class CompiledFlow:
    """An enabled flow with its trigger's conditions compiled once."""

    flow: Flow
    conditions: CompiledRule


def compile_flow(flow: Flow) -> CompiledFlow:
    """Compile a (validated) flow's trigger: its conditions are those of automatic messages."""
    trigger = flow.spec.trigger
    fields = {name: getattr(trigger, name) for name in trigger.__struct_fields__ if name != "kind"}
    conditions = msgspec.convert(
        {k: v for k, v in fields.items() if v is not None}, RuleConditions, from_attributes=True
    )
    rule = AutoRule(id=flow.id, account_id=flow.account_id, name=flow.spec.name, message="-", conditions=conditions)
    return CompiledFlow(flow=flow, conditions=compile_rule(rule))


def time_based(flows: list[CompiledFlow]) -> bool:
    """Whether some rule-triggered flow can start without a new event (time on page or site)."""
    return any(f.flow.spec.trigger.kind == "rule" and f.conditions.time_based for f in flows)


def due(
    flows: list[CompiledFlow],
    kind: TriggerKind,
    visitor: Visitor,
    now: float,
    *,
    agents_online: bool,
    fired: frozenset[int],
) -> Flow | None:
    """The first enabled flow that ``kind`` starts for ``visitor`` (``fired``: flows that already ran for it).

    ``chat_opened_offline`` only counts when no agent is online; a flow without ``repeat`` runs once per visitor.
    """
    if kind == "chat_opened_offline" and agents_online:
        return None
    for compiled in flows:
        spec = compiled.flow.spec
        if not spec.enabled or spec.trigger.kind != kind:
            continue
        if not spec.repeat and compiled.flow.id in fired:
            continue
        if matches(compiled.conditions, visitor, now):
            return compiled.flow
    return None
