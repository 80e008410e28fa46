"""A bot flow as stored, exchanged over REST and imported/exported as JSON (msgspec structs)."""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec

from protocol.rules import MAX_MESSAGE_CHARS, Plan

MAX_STEPS: Final = 100
MAX_OPTIONS: Final = 10
MAX_LABEL_CHARS: Final = 60

StepId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
"""A step's name, unique in its flow; other steps point at it."""
Variable = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
"""``name``, ``email``, ``phone`` (the visitor's fields) or a custom variable."""
BotText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_LABEL_CHARS)]
Needle = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Seconds = Annotated[int, msgspec.Meta(ge=0, le=86_400 * 7)]

VISITOR_FIELDS: Final = frozenset({"name", "email", "phone"})
"""Variables stored into the visitor's own fields; every other variable is a custom field."""
Expect = Literal["text", "email", "phone"]


class _Step(msgspec.Struct, tag_field="kind", kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """Base of every step."""

    id: StepId


class Say(_Step, tag="message", kw_only=True):
    """The bot says something and goes on."""

    text: BotText
    next: StepId | None = None


class QuickReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One button of a question."""

    label: Label
    next: StepId | None = None


class Choose(_Step, tag="question", kw_only=True):
    """A question answered with one of its quick-reply buttons; the label is stored when ``store`` is set."""

    text: BotText
    replies: list[QuickReply]
    store: Variable | None = None


class Ask(_Step, tag="ask", kw_only=True):
    """A free-text question; the answer goes into a visitor field or custom variable."""

    text: BotText
    store: Variable
    expect: Expect = "text"
    """``email`` and ``phone`` answers are checked and asked again with ``retry_text`` when malformed."""
    retry_text: BotText | None = None
    next: StepId | None = None


class When(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """What must be known for a branch; every condition that is set must hold (text ignores case)."""

    page_contains: Needle | None = None
    country_in: list[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")]] | None = None
    language_in: list[Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2,3}$")]] | None = None
    returning: bool | None = None
    customer: bool | None = None
    agents_online: bool | None = None
    variable: Variable | None = None
    """With ``equals``: the variable's value (ignoring case); alone: the variable is known."""
    equals: Annotated[str, msgspec.Meta(max_length=MAX_LABEL_CHARS)] | None = None


class Branch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One arm of a condition."""

    when: When
    next: StepId | None = None


class Check(_Step, tag="condition", kw_only=True):
    """Goes to the first branch whose conditions hold, else to ``otherwise``."""

    branches: list[Branch]
    otherwise: StepId | None = None


class HandOver(_Step, tag="hand_over", kw_only=True):
    """Ends the bot: the chat becomes unanswered and agents are alerted."""

    text: BotText | None = None


class Close(_Step, tag="close", kw_only=True):
    """Ends the bot and the conversation."""

    text: BotText | None = None


Step = Say | Choose | Ask | Check | HandOver | Close
ENDINGS: Final = (HandOver, Close)
TriggerKind = Literal["rule", "chat_opened_offline", "first_message"]


class Trigger(msgspec.Struct, kw_only=True, omit_defaults=True, forbid_unknown_fields=True):
    """When a bot starts.

    ``rule``: the conditions of automatic messages (every one that is set must hold);
    ``chat_opened_offline``: the visitor opens the chat and no agent is online;
    ``first_message``: the visitor's first message of a conversation. Conditions narrow the last two as well.
    """

    kind: TriggerKind
    time_on_page_at_least: Seconds | None = None
    time_on_site_at_least: Seconds | None = None
    url_contains: Needle | None = None
    url_matches: Needle | None = None
    referrer_contains: Needle | None = None
    returning_visitor: bool | None = None
    visit_count_at_least: Annotated[int, msgspec.Meta(ge=1)] | None = None


class FlowSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A bot as an admin writes it (REST body and JSON export)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    trigger: Trigger
    start: StepId
    steps: Annotated[list[Step], msgspec.Meta(min_length=1, max_length=MAX_STEPS)]
    enabled: bool = True
    repeat: bool = False
    """Run again for the same visitor each time the trigger fires (default: once per visitor and trigger)."""


class Flow(msgspec.Struct, kw_only=True):
    """A stored bot."""

    id: int
    account_id: int
    spec: FlowSpec
    updated_at: float


class Problem(msgspec.Struct, kw_only=True):
    """One validation error; ``step`` names the step at fault (None: the flow as a whole)."""

    step: str | None
    message: str


class Validation(msgspec.Struct, kw_only=True):
    """POST /api/v1/bots/validate: the problems of a flow (empty when it can be saved)."""

    ok: bool
    problems: list[Problem]


class FlowExport(msgspec.Struct, kw_only=True):
    """The JSON file a flow is exported to and imported from."""

    format: Literal["frontdesk-bot"] = "frontdesk-bot"
    version: Literal[1] = 1
    flow: FlowSpec


BotStatus = Literal["running", "handed_over", "closed", "stopped"]
"""running: the bot talks; handed_over: waiting for an agent; closed: the bot ended it; stopped: an agent took over."""


class BotRun(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A bot's conversation with one visitor, as agents see it on the visitor record."""

    flow_id: int
    flow_name: str
    status: BotStatus
    answers: dict[str, str] = msgspec.field(default_factory=dict)


class FlowRefused(msgspec.Struct, kw_only=True):
    """Body of a 400 answer to a flow that cannot be saved: ``ApiError``'s fields plus every problem."""

    code: Literal["invalid_flow"] = "invalid_flow"
    message: str
    problems: list[Problem]


def bots_allowed(plan: Plan) -> bool:
    """Bots come with STANDARD and PRO, like proactive chat and automatic messages."""
    return plan in (Plan.STANDARD, Plan.PRO)
