"""The bot engine and flow validation: per-event cost of a conversation step, and validating a large flow.

A server process runs the engine once per visitor event while a bot talks, and validates a flow on every
save; both are pure Python on the event loop, so their cost bounds how many bot events a process handles.

    .venv/bin/python -m bench.bots [--events 20000] [--steps 100] [--runs 5]
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from bench.common import Figure, base_parser, report
from protocol.bots.engine import Answered, Facts, Replied, advance, start
from protocol.bots.flow import FlowSpec
from protocol.bots.validate import problems

FACTS = Facts(page_url="https://shop.example/pricing.html", country_code="AT", language="de-AT")


def conversation() -> FlowSpec:
    """A question, an e-mail ask with a check, a condition and a hand-over: the usual qualifying bot."""
    return msgspec.convert(
        {
            "name": "Bench",
            "trigger": {"kind": "chat_opened_offline"},
            "start": "hello",
            "steps": [
                {
                    "id": "hello",
                    "kind": "question",
                    "text": "Hi! What is it about?",
                    "store": "topic",
                    "replies": [{"label": "Sales", "next": "email"}, {"label": "Support", "next": "email"}],
                },
                {
                    "id": "email",
                    "kind": "ask",
                    "text": "Your e-mail, {topic} fan?",
                    "store": "email",
                    "expect": "email",
                    "next": "route",
                },
                {
                    "id": "route",
                    "kind": "condition",
                    "otherwise": "team",
                    "branches": [{"when": {"country_in": ["DE", "AT"], "page_contains": "/pricing"}, "next": "team"}],
                },
                {"id": "team", "kind": "hand_over", "text": "Thanks! We write to {email}."},
            ],
        },
        FlowSpec,
    )


def chain(steps: int) -> FlowSpec:
    """A flow of ``steps`` steps: questions whose second reply loops back, so every step is in a cycle."""
    body: list[dict[str, Any]] = []
    for n in range(steps - 1):
        back = f"s{max(n - 1, 0)}"
        body.append({"id": f"s{n}", "kind": "question", "text": f"Step {n}?", "store": f"v{n}",
                     "replies": [{"label": "On", "next": f"s{n + 1}"}, {"label": "Back", "next": back}]})  # fmt: skip
    body.append({"id": f"s{steps - 1}", "kind": "hand_over", "text": "Done, {v0}."})
    return msgspec.convert(
        {"name": "Chain", "trigger": {"kind": "first_message"}, "start": "s0", "steps": body}, FlowSpec
    )


def run(events: int = 20_000, steps: int = 100, runs: int = 5) -> list[Figure]:
    """Microseconds per engine event (start, quick reply, typed answer) and per validation of a long flow."""
    spec = conversation()
    per_event: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(max(events // 3, 1)):
            begun = start(spec, 1, FACTS)
            chose = advance(spec, begun.state, Replied(index=0, facts=FACTS))
            done = advance(spec, chose.state, Answered(text="ada@example.com", facts=FACTS))
        per_event.append((time.perf_counter() - t0) * 1e6 / (3 * max(events // 3, 1)))
    assert done.state.status == "handed_over"
    big = chain(steps)
    validation: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        found = problems(big)
        validation.append((time.perf_counter() - t0) * 1000)
    assert found == [], found
    return [
        Figure("engine: one visitor event of a qualifying bot (start, reply, answer)", "us", per_event),
        Figure(f"validate a flow of {steps} steps, every step in a loop", "ms", validation),
    ]


def main() -> None:
    args = base_parser(__doc__.splitlines()[0], events=20_000, steps=100).parse_args()
    report("bots: engine and validation", run(args.events, args.steps, args.runs))


if __name__ == "__main__":
    main()
