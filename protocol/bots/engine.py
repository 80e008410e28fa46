"""The bot engine: a pure state machine from (flow, state, event) to (next state, effects).

No I/O: the server's adapter stores the state and turns effects into chat messages, visitor fields
and hand-overs; the desktop's preview turns them into lines on screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import msgspec

from protocol.bots.flow import Ask, BotStatus, Check, Choose, Close, FlowSpec, HandOver, Say, Step, When
from protocol.bots.validate import VARIABLE_RE
from protocol.messages import Visitor
from protocol.rules import MAX_FIELD_CHARS

MAX_AUTOMATIC_STEPS: Final = 200
"""Steps taken without the visitor; a validated flow never comes close (loops need a question)."""
EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE: Final = re.compile(r"^\+?[0-9 ()./-]{5,30}$")
RETRY_EMAIL: Final = "That does not look like an e-mail address; please check it and try again."
RETRY_PHONE: Final = "That does not look like a phone number; please check it and try again."
RETRY_CHOICE: Final = "Please choose one of the options."
HAND_OVER_TEXT: Final = "Connecting you to our team"


class BotState(msgspec.Struct, kw_only=True):
    """A bot's progress with one visitor (stored as JSON between events)."""

    flow_id: int
    status: BotStatus = "running"
    waiting_at: str | None = None
    """The question or ask step whose answer the bot waits for."""
    answers: dict[str, str] = msgspec.field(default_factory=dict)
    said: int = 0
    """Messages said so far; numbers each message so the adapter can give it a stable id."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about the visitor when a condition is evaluated."""

    page_url: str = ""
    country_code: str = ""
    language: str = ""
    returning: bool = False
    customer: bool = False
    agents_online: bool = False


def facts_of(visitor: Visitor, *, agents_online: bool) -> Facts:
    """The facts of a live visitor record."""
    return Facts(
        page_url=visitor.current_url or "",
        country_code=visitor.country_code or "",
        language=visitor.language or "",
        returning=visitor.visit_count > 1,
        customer=visitor.customer,
        agents_online=agents_online,
    )


# ---------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class Begin:
    """The trigger fired: the bot starts at the flow's start step."""

    facts: Facts


@dataclass(frozen=True, slots=True)
class Answered:
    """The visitor typed a message while the bot waits."""

    text: str
    facts: Facts


@dataclass(frozen=True, slots=True)
class Replied:
    """The visitor chose the quick reply at ``index`` of the question the bot waits at."""

    index: int
    facts: Facts


@dataclass(frozen=True, slots=True)
class TakenOver:
    """An agent took the conversation: the bot stops at once."""


Event = Begin | Answered | Replied | TakenOver


# ---------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class BotSays:
    """Send a bot message; ``n`` numbers it within the run, ``replies`` are its quick-reply labels."""

    n: int
    step: str
    text: str
    replies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreAnswer:
    """Store an answer into a visitor field (name, email, phone) or a custom variable."""

    variable: str
    value: str


@dataclass(frozen=True, slots=True)
class HandOverToAgent:
    """The chat becomes unanswered and agents are alerted; ``text`` marks the moment for the visitor."""

    n: int
    step: str
    text: str = HAND_OVER_TEXT


@dataclass(frozen=True, slots=True)
class CloseChat:
    """The bot ends the conversation."""


Effect = BotSays | StoreAnswer | HandOverToAgent | CloseChat


@dataclass(frozen=True, slots=True)
class Outcome:
    """The state after an event and what the adapter must do, in order."""

    state: BotState
    effects: tuple[Effect, ...]


def render(text: str, answers: dict[str, str]) -> str:
    """``text`` with each ``{variable}`` replaced by its answer (plain text; an unknown one becomes empty)."""
    return VARIABLE_RE.sub(lambda m: answers.get(m.group(1), ""), text)


def holds(when: When, facts: Facts, answers: dict[str, str]) -> bool:
    """Whether every condition of a branch that is set holds."""
    if when.page_contains is not None and when.page_contains.casefold() not in facts.page_url.casefold():
        return False
    if when.country_in is not None and facts.country_code.upper() not in {c.upper() for c in when.country_in}:
        return False
    if when.language_in is not None:
        primary = facts.language.split("-")[0].split("_")[0].lower()
        if primary not in {lang.lower() for lang in when.language_in}:
            return False
    if when.returning is not None and when.returning != facts.returning:
        return False
    if when.customer is not None and when.customer != facts.customer:
        return False
    if when.agents_online is not None and when.agents_online != facts.agents_online:
        return False
    if when.variable is not None:
        value = answers.get(when.variable)
        if value is None:
            return False
        if when.equals is not None and value.strip().casefold() != when.equals.strip().casefold():
            return False
    return True


class _Run:
    """One call of :func:`advance`: the mutable state and the effects gathered."""

    def __init__(self, flow: FlowSpec, state: BotState) -> None:
        self.steps = {s.id: s for s in flow.steps}
        self.status: BotStatus = state.status
        self.waiting_at = state.waiting_at
        self.answers = dict(state.answers)
        self.said = state.said
        self.effects: list[Effect] = []

    def say(self, step: str, text: str, replies: tuple[str, ...] = ()) -> None:
        self.effects.append(BotSays(n=self.said, step=step, text=render(text, self.answers), replies=replies))
        self.said += 1

    def ask_again(self, step: Ask | Choose, retry: str) -> None:
        replies = tuple(r.label for r in step.replies) if isinstance(step, Choose) else ()
        self.say(step.id, retry, replies)

    def store(self, variable: str, value: str) -> None:
        self.answers[variable] = value
        self.effects.append(StoreAnswer(variable=variable, value=value))

    def hand_over(self, step: str, text: str | None) -> None:
        rendered = render(text, self.answers) if text else HAND_OVER_TEXT
        self.effects.append(HandOverToAgent(n=self.said, step=step, text=rendered))
        self.said += 1
        self.status = "handed_over"
        self.waiting_at = None

    def go(self, target: str | None, facts: Facts) -> None:
        """Walk from ``target`` until the bot waits for the visitor or ends."""
        for _ in range(MAX_AUTOMATIC_STEPS):
            step: Step | None = self.steps.get(target) if target is not None else None
            if step is None:
                # Only an unvalidated flow gets here; a person is the safe fallback.
                self.hand_over(target or "?", None)
                return
            if isinstance(step, Say):
                self.say(step.id, step.text)
                target = step.next
            elif isinstance(step, Choose):
                self.say(step.id, step.text, tuple(r.label for r in step.replies))
                self.waiting_at = step.id
                return
            elif isinstance(step, Ask):
                self.say(step.id, step.text)
                self.waiting_at = step.id
                return
            elif isinstance(step, Check):
                target = next(
                    (b.next for b in step.branches if holds(b.when, facts, self.answers)),
                    step.otherwise,
                )
            elif isinstance(step, HandOver):
                self.hand_over(step.id, step.text)
                return
            else:
                assert isinstance(step, Close)
                if step.text:
                    self.say(step.id, step.text)
                self.effects.append(CloseChat())
                self.status = "closed"
                self.waiting_at = None
                return
        self.hand_over(target or "?", None)

    def outcome(self, flow_id: int) -> Outcome:
        state = BotState(
            flow_id=flow_id, status=self.status, waiting_at=self.waiting_at, answers=self.answers, said=self.said
        )
        return Outcome(state=state, effects=tuple(self.effects))


def start(flow: FlowSpec, flow_id: int, facts: Facts) -> Outcome:
    """Begin a run of ``flow``."""
    return advance(flow, BotState(flow_id=flow_id), Begin(facts=facts))


def advance(flow: FlowSpec, state: BotState, event: Event) -> Outcome:
    """The next state of a bot and its effects after ``event``; a finished bot ignores everything."""
    run = _Run(flow, state)
    if isinstance(event, TakenOver):
        if state.status == "running":
            run.status = "stopped"
            run.waiting_at = None
        return run.outcome(state.flow_id)
    if state.status != "running":
        return Outcome(state=state, effects=())
    if isinstance(event, Begin):
        run.go(flow.start, event.facts)
        return run.outcome(state.flow_id)
    waiting = run.steps.get(state.waiting_at) if state.waiting_at is not None else None
    if isinstance(waiting, Choose):
        index = event.index if isinstance(event, Replied) else _match_label(waiting, event.text)
        if index is None or not 0 <= index < len(waiting.replies):
            run.ask_again(waiting, RETRY_CHOICE)
            return run.outcome(state.flow_id)
        reply = waiting.replies[index]
        if waiting.store:
            run.store(waiting.store, reply.label)
        run.waiting_at = None
        run.go(reply.next, event.facts)
    elif isinstance(waiting, Ask):
        text = _reply_text(waiting, event) if isinstance(event, Replied) else event.text
        value = " ".join(text.split())[:MAX_FIELD_CHARS]
        if not _acceptable(waiting, value):
            default = {"email": RETRY_EMAIL, "phone": RETRY_PHONE}.get(waiting.expect, waiting.text)
            run.ask_again(waiting, waiting.retry_text or default)
            return run.outcome(state.flow_id)
        run.store(waiting.store, value)
        run.waiting_at = None
        run.go(waiting.next, event.facts)
    else:
        # The flow changed under a waiting run, or the state is foreign: let a person answer.
        run.hand_over(state.waiting_at or flow.start, None)
    return run.outcome(state.flow_id)


def _match_label(step: Choose, text: str) -> int | None:
    wanted = " ".join(text.split()).casefold()
    for index, reply in enumerate(step.replies):
        if reply.label.strip().casefold() == wanted:
            return index
    return None


def _reply_text(_step: Ask, event: Replied) -> str:
    # An ask step has no buttons; a stale button press is not an answer.
    return ""


def _acceptable(step: Ask, value: str) -> bool:
    if not value:
        return False
    if step.expect == "email":
        return EMAIL_RE.match(value) is not None
    if step.expect == "phone":
        return PHONE_RE.match(value) is not None and sum(ch.isdigit() for ch in value) >= 5
    return True
