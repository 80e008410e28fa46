"""Checks a flow before it is saved: every problem named with its step and what to change."""

from __future__ import annotations

import re
from collections.abc import Iterator

from protocol.bots.flow import (
    ENDINGS,
    MAX_OPTIONS,
    Ask,
    Check,
    Choose,
    Close,
    FlowSpec,
    HandOver,
    Problem,
    Say,
    Step,
    Trigger,
)

VARIABLE_RE = re.compile(r"\{([a-z][a-z0-9_]{0,31})\}")
"""``{name}`` in a bot's text; other braces are plain text."""


class FlowError(ValueError):
    """A flow that cannot be saved; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(_describe(p) for p in problems))
        self.problems = problems


def _describe(problem: Problem) -> str:
    return f"step {problem.step!r}: {problem.message}" if problem.step else problem.message


def edges(step: Step) -> Iterator[tuple[str, str | None]]:
    """Each outgoing link of a step as (what it is, target or None when missing)."""
    if isinstance(step, Say | Ask):
        yield "next", step.next
    elif isinstance(step, Choose):
        for reply in step.replies:
            yield f"quick reply {reply.label!r}", reply.next
    elif isinstance(step, Check):
        for n, branch in enumerate(step.branches, 1):
            yield f"branch {n}", branch.next
        yield "otherwise", step.otherwise


def texts(step: Step) -> Iterator[str]:
    """Every text of a step the bot may say."""
    if isinstance(step, Say | Choose):
        yield step.text
    elif isinstance(step, Ask):
        yield step.text
        if step.retry_text:
            yield step.retry_text
    elif isinstance(step, HandOver | Close) and step.text:
        yield step.text


def stored_variables(spec: FlowSpec) -> set[str]:
    """Every variable some step of the flow asks for."""
    return {s.store for s in spec.steps if isinstance(s, Ask | Choose) and s.store}


def problems(spec: FlowSpec) -> list[Problem]:
    """Every reason the flow cannot run as written (empty when it is fine)."""
    found: list[Problem] = []
    found.extend(_trigger_problems(spec.trigger))
    by_id: dict[str, Step] = {}
    for step in spec.steps:
        if step.id in by_id:
            found.append(Problem(step=step.id, message="two steps have this id; give each step its own"))
        by_id.setdefault(step.id, step)
    if spec.start not in by_id:
        found.append(Problem(step=None, message=f"the start step {spec.start!r} is not a step of this flow"))
    stored = stored_variables(spec)
    for step in spec.steps:
        found.extend(_step_problems(step, by_id, stored))
    if spec.start in by_id:
        found.extend(_graph_problems(spec.start, by_id))
    return found


def check(spec: FlowSpec) -> None:
    """Raise :class:`FlowError` listing every problem of the flow."""
    found = problems(spec)
    if found:
        raise FlowError(found)


def _trigger_problems(trigger: Trigger) -> Iterator[Problem]:
    conditions = [name for name in trigger.__struct_fields__ if name != "kind" and getattr(trigger, name) is not None]
    if trigger.kind == "rule" and not conditions:
        yield Problem(
            step=None, message="a rule trigger needs at least one condition (for example time_on_page_at_least)"
        )
    if trigger.url_matches is not None:
        try:
            re.compile(trigger.url_matches, re.IGNORECASE)
        except re.error as exc:
            yield Problem(step=None, message=f"the trigger's url_matches is not a valid regular expression ({exc})")


def _step_problems(step: Step, by_id: dict[str, Step], stored: set[str]) -> Iterator[Problem]:
    if isinstance(step, Choose):
        if not step.replies:
            yield Problem(step=step.id, message="a question needs at least one quick reply")
        if len(step.replies) > MAX_OPTIONS:
            yield Problem(step=step.id, message=f"a question has at most {MAX_OPTIONS} quick replies")
        labels = [r.label.strip().casefold() for r in step.replies]
        if len(set(labels)) != len(labels):
            yield Problem(step=step.id, message="two quick replies share a label; the visitor cannot tell them apart")
        if any(not label for label in labels):
            yield Problem(step=step.id, message="a quick reply's label is blank")
    if isinstance(step, Check):
        if not step.branches:
            yield Problem(step=step.id, message="a condition needs at least one branch")
        for n, branch in enumerate(step.branches, 1):
            when = branch.when
            if all(getattr(when, name) is None for name in when.__struct_fields__):
                yield Problem(step=step.id, message=f"branch {n} has no conditions; use 'otherwise' for the default")
            if when.equals is not None and when.variable is None:
                yield Problem(step=step.id, message=f"branch {n} compares with {when.equals!r} but names no variable")
            if when.variable is not None and when.variable not in stored:
                yield Problem(
                    step=step.id, message=f"branch {n} tests the variable {when.variable!r}, which no step asks"
                )
    for what, target in edges(step):
        if target is None:
            yield Problem(step=step.id, message=f"{what} leads nowhere; choose the step that follows")
        elif target not in by_id:
            yield Problem(step=step.id, message=f"{what} goes to {target!r}, which is not a step of this flow")
    for text in texts(step):
        for name in VARIABLE_RE.findall(text):
            if name not in stored:
                yield Problem(
                    step=step.id,
                    message=f"the text uses {{{name}}}, which no step asks; add a step that stores it or remove it",
                )


def _successors(step: Step, by_id: dict[str, Step]) -> list[str]:
    return [t for _, t in edges(step) if t is not None and t in by_id]


def _graph_problems(start: str, by_id: dict[str, Step]) -> Iterator[Problem]:
    reachable: list[str] = []
    seen = {start}
    todo = [start]
    while todo:
        current = todo.pop()
        reachable.append(current)
        for target in _successors(by_id[current], by_id):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for step_id in by_id:
        if step_id not in seen:
            yield Problem(step=step_id, message=f"never reached from the start step {start!r}; link it or remove it")
    # Steps from which some ending can be reached, found backwards from the endings.
    predecessors: dict[str, list[str]] = {s: [] for s in by_id}
    for step_id, step in by_id.items():
        for target in _successors(step, by_id):
            predecessors[target].append(step_id)
    can_end = {s for s, step in by_id.items() if isinstance(step, ENDINGS)}
    todo = list(can_end)
    while todo:
        for before in predecessors[todo.pop()]:
            if before not in can_end:
                can_end.add(before)
                todo.append(before)
    for step_id in sorted(seen - can_end):
        step = by_id[step_id]
        if all(t in by_id for _, t in edges(step)) and any(True for _ in edges(step)):
            yield Problem(
                step=step_id, message="is in a loop without an exit: no path from it reaches a hand-over or a close"
            )
    yield from _silent_loops(by_id)


def _silent_loops(by_id: dict[str, Step]) -> Iterator[Problem]:
    """Cycles made only of messages and conditions would spin without waiting for the visitor."""
    silent = {s: step for s, step in by_id.items() if isinstance(step, Say | Check)}
    state: dict[str, int] = {}  # 1: on the path, 2: done
    reported: set[str] = set()
    for root, root_step in silent.items():
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(_successors(root_step, by_id)))]
        state[root] = 1
        while stack:
            node, successors = stack[-1]
            for target in successors:
                if target not in silent:
                    continue
                if state.get(target) == 1 and target not in reported:
                    reported.add(target)
                    yield Problem(
                        step=target,
                        message="loops back to itself through messages and conditions only; "
                        "put a question in the loop so the bot waits for the visitor",
                    )
                elif target not in state:
                    state[target] = 1
                    stack.append((target, iter(_successors(silent[target], by_id))))
                    break
            else:
                state[node] = 2
                stack.pop()
