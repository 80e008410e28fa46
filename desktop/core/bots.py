"""Bots in the app, without Qt: the backend the editor talks to, a preview that runs the pure engine,
and the plain-text forms of branch conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, TypeVar

import msgspec

from protocol.bots.engine import (
    Answered,
    BotSays,
    BotState,
    CloseChat,
    Facts,
    HandOverToAgent,
    Outcome,
    Replied,
    StoreAnswer,
    TakenOver,
    advance,
    start,
)
from protocol.bots.flow import (
    Ask,
    Branch,
    Check,
    Choose,
    Close,
    Flow,
    FlowSpec,
    HandOver,
    Problem,
    QuickReply,
    Say,
    Step,
    Validation,
    When,
)

STEP_KINDS: Final = ("message", "question", "ask", "condition", "hand_over", "close")


class BotBackendError(Exception):
    """The server refused or could not do a bot request; ``problems`` lists a flow's problems, if that was why."""

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []


class BotBackend(Protocol):
    """What the bot editor asks of the server (raises :class:`BotBackendError`)."""

    async def list_flows(self) -> list[Flow]:
        """Every bot of the account."""
        ...

    async def save_flow(self, flow_id: int | None, spec: FlowSpec) -> Flow:
        """Add a bot (``flow_id`` None) or replace one."""
        ...

    async def delete_flow(self, flow_id: int) -> None:
        """Delete a bot."""
        ...

    async def validate(self, body: bytes) -> Validation:
        """The problems of a flow given as JSON."""
        ...

    async def import_flow(self, body: bytes) -> Flow:
        """Add a bot from an export file."""
        ...

    async def export_flow(self, flow_id: int) -> bytes:
        """A bot as an export file."""
        ...


# ---------------------------------------------------------------- the preview


@dataclass(frozen=True, slots=True)
class PreviewLine:
    """One line of the preview's transcript."""

    author: Literal["bot", "visitor", "system"]
    text: str
    replies: tuple[str, ...] = ()


@dataclass(slots=True)
class Preview:
    """Runs a flow in the app with the same engine the server uses; nothing is sent anywhere."""

    spec: FlowSpec
    facts: Facts = field(default_factory=Facts)
    lines: list[PreviewLine] = field(default_factory=list)
    state: BotState = field(default_factory=lambda: BotState(flow_id=0))

    def begin(self) -> None:
        """Start (or restart) the flow from its start step."""
        self.lines.clear()
        self._apply(start(self.spec, 0, self.facts))

    def answer(self, text: str) -> None:
        """The visitor types ``text``."""
        self.lines.append(PreviewLine("visitor", text))
        self._apply(advance(self.spec, self.state, Answered(text=text, facts=self.facts)))

    def choose(self, index: int) -> None:
        """The visitor presses the quick reply at ``index`` of the last question."""
        replies = self.replies
        self.lines.append(PreviewLine("visitor", replies[index] if 0 <= index < len(replies) else "?"))
        self._apply(advance(self.spec, self.state, Replied(index=index, facts=self.facts)))

    def take_over(self) -> None:
        """An agent takes the chat."""
        self._apply(advance(self.spec, self.state, TakenOver()))
        self.lines.append(PreviewLine("system", "An agent took over; the bot stopped."))

    @property
    def replies(self) -> tuple[str, ...]:
        """The quick replies offered now (empty unless the bot waits at a question)."""
        if self.state.status != "running" or self.state.waiting_at is None:
            return ()
        for line in reversed(self.lines):
            if line.author == "bot":
                return line.replies
        return ()

    @property
    def running(self) -> bool:
        """Whether the bot still talks."""
        return self.state.status == "running"

    def _apply(self, outcome: Outcome) -> None:
        self.state = outcome.state
        for effect in outcome.effects:
            if isinstance(effect, BotSays):
                self.lines.append(PreviewLine("bot", effect.text, effect.replies))
            elif isinstance(effect, StoreAnswer):
                self.lines.append(PreviewLine("system", f"Stored {effect.variable} = {effect.value}"))
            elif isinstance(effect, HandOverToAgent):
                self.lines.append(PreviewLine("system", effect.text))
                self.lines.append(PreviewLine("system", "Handed over: the chat is now unanswered for agents."))
            elif isinstance(effect, CloseChat):
                self.lines.append(PreviewLine("system", "The bot closed the conversation."))


# ---------------------------------------------------------------- forms


_TRUE: Final = frozenset({"yes", "true", "1", "on"})
_FALSE: Final = frozenset({"no", "false", "0", "off"})


class FormError(ValueError):
    """Text in the editor's form that cannot become part of a flow; the message says what to write."""


S = TypeVar("S", bound=msgspec.Struct)


def format_conditions(conditions: msgspec.Struct, skip: tuple[str, ...] = ()) -> str:
    """Conditions as ``key=value; key=value`` (lists comma-separated, yes/no for flags)."""
    parts: list[str] = []
    for name in conditions.__struct_fields__:
        value = getattr(conditions, name)
        if value is None or name in skip:
            continue
        if isinstance(value, bool):
            parts.append(f"{name}={'yes' if value else 'no'}")
        elif isinstance(value, list):
            parts.append(f"{name}={','.join(value)}")
        else:
            parts.append(f"{name}={value}")
    return "; ".join(parts)


def parse_conditions(text: str, struct: type[S], **fixed: object) -> S:
    """The inverse of :func:`format_conditions`; raises :class:`FormError` naming the part that is wrong."""
    fields = [name for name in struct.__struct_fields__ if name not in fixed]
    hints = {name: repr(t) for name, t in _annotations(struct).items()}
    values: dict[str, object] = dict(fixed)
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in fields:
            raise FormError(f"{part!r} is not a condition; write key=value with one of: {', '.join(fields)}")
        hint = hints.get(key, "")
        if "BoolType" in hint:
            if value.lower() not in _TRUE | _FALSE:
                raise FormError(f"{key} is yes or no, not {value!r}")
            values[key] = value.lower() in _TRUE
        elif "ListType" in hint:
            values[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif "IntType" in hint:
            if not value.isdigit():
                raise FormError(f"{key} is a whole number, not {value!r}")
            values[key] = int(value)
        else:
            values[key] = value
    try:
        return msgspec.convert(values, struct)
    except msgspec.ValidationError as exc:
        raise FormError(f"the conditions are not valid: {exc}") from None


def _annotations(kind: type[msgspec.Struct]) -> dict[str, object]:
    info = msgspec.inspect.type_info(kind)
    assert isinstance(info, msgspec.inspect.StructType)
    return {f.name: f.type for f in info.fields}


def format_when(when: When) -> str:
    """A branch's conditions as text."""
    return format_conditions(when)


def parse_when(text: str) -> When:
    """A branch's conditions from text."""
    return parse_conditions(text, When)


ARROW: Final = "->"


def _split_arrow(line: str) -> tuple[str, str | None]:
    head, sep, target = line.rpartition(ARROW)
    if not sep:
        return line.strip(), None
    return head.strip(), target.strip() or None


def format_replies(replies: list[QuickReply]) -> str:
    """A question's quick replies, one ``Label -> next step`` a line."""
    return "\n".join(f"{r.label} {ARROW} {r.next}" if r.next else r.label for r in replies)


def parse_replies(text: str) -> list[QuickReply]:
    """The inverse of :func:`format_replies` (blank lines are skipped)."""
    replies: list[QuickReply] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        label, target = _split_arrow(line)
        try:
            replies.append(msgspec.convert({"label": label, "next": target}, QuickReply))
        except msgspec.ValidationError as exc:
            raise FormError(f"quick reply on line {n} is not valid ({exc}); write: Label -> next step") from None
    return replies


def format_branches(branches: list[Branch]) -> str:
    """A condition's branches, one ``key=value; key=value -> next step`` a line."""
    return "\n".join(f"{format_when(b.when)} {ARROW} {b.next or ''}".rstrip() for b in branches)


def parse_branches(text: str) -> list[Branch]:
    """The inverse of :func:`format_branches` (blank lines are skipped)."""
    branches: list[Branch] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        conditions, target = _split_arrow(line)
        try:
            when = parse_when(conditions)
        except FormError as exc:
            raise FormError(f"branch on line {n}: {exc}") from None
        branches.append(Branch(when=when, next=target))
    return branches


def new_step(kind: str, step_id: str) -> Step:
    """A fresh step of ``kind`` with placeholder text, for the editor's "Add step"."""
    if kind == "message":
        return Say(id=step_id, text="Hello!")
    if kind == "question":
        return Choose(id=step_id, text="How can we help?", replies=[])
    if kind == "ask":
        return Ask(id=step_id, text="What is your name?", store="name")
    if kind == "condition":
        return Check(id=step_id, branches=[])
    if kind == "hand_over":
        return HandOver(id=step_id)
    if kind == "close":
        return Close(id=step_id)
    raise FormError(f"{kind!r} is not a step kind; use one of {', '.join(STEP_KINDS)}")


def step_kind(step: Step) -> str:
    """The ``kind`` tag of a step."""
    return str(type(step).__struct_config__.tag)


def unique_step_id(existing: set[str], base: str) -> str:
    """``base``, or ``base2``, ``base3``... whichever is not taken."""
    if base not in existing:
        return base
    n = 2
    while f"{base}{n}" in existing:
        n += 1
    return f"{base}{n}"


def blank_flow(name: str = "New bot") -> FlowSpec:
    """A small valid flow to start editing from: a greeting that hands over."""
    return msgspec.convert(
        {
            "name": name,
            "trigger": {"kind": "chat_opened_offline"},
            "start": "hello",
            "steps": [
                {"id": "hello", "kind": "message", "text": "Hi! Nobody is online right now.", "next": "handover"},
                {"id": "handover", "kind": "hand_over"},
            ],
        },
        FlowSpec,
    )
