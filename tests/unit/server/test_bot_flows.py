"""The bot engine and flow validation, without sockets: every step kind, conditions, variables, errors."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from protocol.bots.engine import (
    HAND_OVER_TEXT,
    RETRY_CHOICE,
    RETRY_EMAIL,
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
    facts_of,
    holds,
    render,
    start,
)
from protocol.bots.flow import Flow, FlowExport, FlowSpec, When
from protocol.bots.validate import FlowError, check, problems
from protocol.messages import PageVisit, Visitor
from server.bots.triggers import compile_flow, due, time_based

FACTS = Facts(page_url="https://shop.example/pricing", country_code="DE", language="de-DE")


def flow(steps: list[dict[str, Any]], start: str = "hello", **extra: Any) -> FlowSpec:
    body = {"name": "Sales", "trigger": {"kind": "chat_opened_offline"}, "start": start, "steps": steps, **extra}
    return msgspec.convert(body, FlowSpec)


SALES = flow(
    [
        {"id": "hello", "kind": "message", "text": "Hi! I am the shop's assistant.", "next": "topic"},
        {
            "id": "topic",
            "kind": "question",
            "text": "What can we help with?",
            "store": "topic",
            "replies": [{"label": "Pricing", "next": "name"}, {"label": "Just looking", "next": "bye"}],
        },
        {"id": "name", "kind": "ask", "text": "Your name?", "store": "name", "next": "email"},
        {"id": "email", "kind": "ask", "text": "Thanks {name}, your e-mail?", "store": "email", "expect": "email",
         "next": "route"},
        {
            "id": "route",
            "kind": "condition",
            "branches": [{"when": {"agents_online": True}, "next": "team"}],
            "otherwise": "later",
        },
        {"id": "team", "kind": "hand_over"},
        {"id": "later", "kind": "close", "text": "We will write to {email} about {topic}."},
        {"id": "bye", "kind": "close", "text": "Enjoy your visit!"},
    ]
)  # fmt: skip


def says(outcome: Outcome) -> list[str]:
    return [e.text for e in outcome.effects if isinstance(e, BotSays)]


def test_a_visitor_walks_the_flow_to_a_hand_over() -> None:
    first = start(SALES, 7, FACTS)
    assert says(first) == ["Hi! I am the shop's assistant.", "What can we help with?"]
    assert first.effects[1] == BotSays(
        n=1, step="topic", text="What can we help with?", replies=("Pricing", "Just looking")
    )
    assert first.state == BotState(flow_id=7, waiting_at="topic", said=2)

    chose = advance(SALES, first.state, Replied(index=0, facts=FACTS))
    assert chose.effects == (StoreAnswer("topic", "Pricing"), BotSays(n=2, step="name", text="Your name?"))

    named = advance(SALES, chose.state, Answered(text="  Ada   Lovelace ", facts=FACTS))
    assert named.effects[0] == StoreAnswer("name", "Ada Lovelace")
    assert says(named) == ["Thanks Ada Lovelace, your e-mail?"]

    online = Facts(agents_online=True)
    mailed = advance(SALES, named.state, Answered(text="ada@example.com", facts=online))
    assert mailed.effects == (
        StoreAnswer("email", "ada@example.com"),
        HandOverToAgent(n=4, step="team", text=HAND_OVER_TEXT),
    )
    assert mailed.state.status == "handed_over"
    assert mailed.state.answers == {"topic": "Pricing", "name": "Ada Lovelace", "email": "ada@example.com"}


def test_condition_otherwise_and_close_with_variables() -> None:
    state = start(SALES, 1, FACTS).state
    for event in (Replied(index=0, facts=FACTS), Answered(text="Ada", facts=FACTS)):
        state = advance(SALES, state, event).state
    closed = advance(SALES, state, Answered(text="ada@example.com", facts=Facts(agents_online=False)))
    assert says(closed) == ["We will write to ada@example.com about Pricing."]
    assert closed.effects[-1] == CloseChat()
    assert closed.state.status == "closed"


def test_a_typed_answer_matching_a_label_counts_as_the_quick_reply() -> None:
    state = start(SALES, 1, FACTS).state
    outcome = advance(SALES, state, Answered(text="just LOOKING", facts=FACTS))
    assert outcome.effects == (
        StoreAnswer("topic", "Just looking"),
        BotSays(n=2, step="bye", text="Enjoy your visit!"),
        CloseChat(),
    )


def test_an_unknown_answer_to_a_question_asks_again_with_the_buttons() -> None:
    state = start(SALES, 1, FACTS).state
    outcome = advance(SALES, state, Answered(text="how much is it?", facts=FACTS))
    assert outcome.effects == (BotSays(n=2, step="topic", text=RETRY_CHOICE, replies=("Pricing", "Just looking")),)
    assert outcome.state.waiting_at == "topic"
    out_of_range = advance(SALES, state, Replied(index=5, facts=FACTS))
    assert says(out_of_range) == [RETRY_CHOICE]


def test_a_malformed_email_is_asked_again_and_nothing_is_stored() -> None:
    state = start(SALES, 1, FACTS).state
    for event in (Replied(index=0, facts=FACTS), Answered(text="Ada", facts=FACTS)):
        state = advance(SALES, state, event).state
    outcome = advance(SALES, state, Answered(text="ada at example", facts=FACTS))
    assert outcome.effects == (BotSays(n=4, step="email", text=RETRY_EMAIL),)
    assert "email" not in outcome.state.answers
    blank = advance(SALES, state, Answered(text="   ", facts=FACTS))
    assert says(blank) == [RETRY_EMAIL]


@pytest.mark.parametrize(("answer", "ok"), [("+49 30 1234-567", True), ("call me", False), ("12", False)])
def test_phone_answers_are_checked(answer: str, ok: bool) -> None:
    spec = flow(
        [
            {"id": "hello", "kind": "ask", "text": "Phone?", "store": "phone", "expect": "phone",
             "retry_text": "Digits please", "next": "end"},
            {"id": "end", "kind": "hand_over", "text": "We call {phone}"},
        ]
    )  # fmt: skip
    outcome = advance(spec, start(spec, 1, FACTS).state, Answered(text=answer, facts=FACTS))
    if ok:
        assert outcome.effects[-1] == HandOverToAgent(n=1, step="end", text=f"We call {answer}")
    else:
        assert says(outcome) == ["Digits please"]


def test_an_agent_taking_over_stops_the_bot_at_once() -> None:
    state = start(SALES, 1, FACTS).state
    stopped = advance(SALES, state, TakenOver())
    assert stopped.effects == ()
    assert stopped.state.status == "stopped"
    assert stopped.state.waiting_at is None
    later = advance(SALES, stopped.state, Replied(index=0, facts=FACTS))
    assert later == Outcome(state=stopped.state, effects=()), "a stopped bot says nothing more"


def test_a_finished_bot_ignores_further_messages() -> None:
    state = start(SALES, 1, FACTS).state
    closed = advance(SALES, state, Replied(index=1, facts=FACTS)).state
    assert advance(SALES, closed, Answered(text="hello?", facts=FACTS)).effects == ()
    assert advance(SALES, closed, TakenOver()).state.status == "closed"


def test_a_state_waiting_at_a_removed_step_hands_over() -> None:
    state = BotState(flow_id=1, waiting_at="gone", said=3)
    outcome = advance(SALES, state, Answered(text="hi", facts=FACTS))
    assert outcome.effects[-1] == HandOverToAgent(n=3, step="gone")
    assert outcome.state.status == "handed_over"


@pytest.mark.parametrize(
    ("when", "facts", "expected"),
    [
        ({"page_contains": "/PRICING"}, FACTS, True),
        ({"page_contains": "/checkout"}, FACTS, False),
        ({"country_in": ["at", "de"]}, FACTS, True),
        ({"country_in": ["FR"]}, FACTS, False),
        ({"language_in": ["de"]}, FACTS, True),
        ({"language_in": ["en"]}, FACTS, False),
        ({"returning": True}, Facts(returning=True), True),
        ({"returning": True}, FACTS, False),
        ({"customer": False}, FACTS, True),
        ({"customer": True}, Facts(customer=True), True),
        ({"agents_online": False}, FACTS, True),
        ({"agents_online": True}, FACTS, False),
        ({"variable": "topic", "equals": "pricing"}, FACTS, True),
        ({"variable": "topic", "equals": "support"}, FACTS, False),
        ({"variable": "topic"}, FACTS, True),
        ({"variable": "budget"}, FACTS, False),
        ({"page_contains": "pricing", "country_in": ["FR"]}, FACTS, False),
    ],
)
def test_conditions(when: dict[str, Any], facts: Facts, expected: bool) -> None:
    assert holds(msgspec.convert(when, When), facts, {"topic": "Pricing"}) is expected


def test_render_keeps_answers_as_plain_text_and_does_not_expand_twice() -> None:
    assert render("Hi {name}!", {"name": "<b>{email}</b>", "email": "x"}) == "Hi <b>{email}</b>!"
    assert render("{unknown} and {Not a var} and {}", {}) == " and {Not a var} and {}"


def test_facts_of_a_live_visitor() -> None:
    visitor = Visitor(
        id="visitor01", label="V", first_seen_at=1, visit_started_at=1, last_activity_at=1, visit_count=3,
        country_code="AT", language="de-AT", current_url="https://x/a", customer=True,
    )  # fmt: skip
    assert facts_of(visitor, agents_online=True) == Facts(
        page_url="https://x/a", country_code="AT", language="de-AT", returning=True, customer=True, agents_online=True
    )


def test_the_sales_flow_is_valid_and_round_trips_as_json() -> None:
    assert problems(SALES) == []
    exported = msgspec.json.encode(FlowExport(flow=SALES))
    assert msgspec.json.decode(exported, type=FlowExport).flow == SALES


# ---------------------------------------------------------------- validation


def messages_of(spec: FlowSpec) -> list[tuple[str | None, str]]:
    return [(p.step, p.message) for p in problems(spec)]


def test_a_step_that_leads_nowhere_is_named() -> None:
    spec = flow([{"id": "hello", "kind": "message", "text": "Hi"}])
    assert messages_of(spec) == [("hello", "next leads nowhere; choose the step that follows")]
    with pytest.raises(FlowError, match=r"^step 'hello': next leads nowhere"):
        check(spec)


def test_unknown_step_references_are_named() -> None:
    spec = flow(
        [
            {"id": "hello", "kind": "question", "text": "?", "replies": [{"label": "A", "next": "nope"}]},
            {"id": "end", "kind": "close"},
        ]
    )
    found = messages_of(spec)
    assert ("hello", "quick reply 'A' goes to 'nope', which is not a step of this flow") in found
    assert ("end", "never reached from the start step 'hello'; link it or remove it") in found
    with pytest.raises(FlowError, match=r"step 'hello': quick reply 'A' goes to 'nope'"):
        check(spec)


def test_an_unknown_start_and_duplicate_ids() -> None:
    spec = flow([{"id": "a", "kind": "close"}, {"id": "a", "kind": "hand_over"}], start="b")
    found = messages_of(spec)
    assert (None, "the start step 'b' is not a step of this flow") in found
    assert ("a", "two steps have this id; give each step its own") in found


def test_empty_quick_replies_are_refused() -> None:
    spec = flow([{"id": "hello", "kind": "question", "text": "Pick one", "replies": []}])
    assert ("hello", "a question needs at least one quick reply") in messages_of(spec)
    twins = flow(
        [
            {"id": "hello", "kind": "question", "text": "?",
             "replies": [{"label": "Yes", "next": "end"}, {"label": " yes", "next": "end"}]},
            {"id": "end", "kind": "close"},
        ]
    )  # fmt: skip
    assert messages_of(twins) == [("hello", "two quick replies share a label; the visitor cannot tell them apart")]


def test_a_loop_without_an_exit_is_refused() -> None:
    spec = flow(
        [
            {"id": "hello", "kind": "ask", "text": "Name?", "store": "name", "next": "again"},
            {"id": "again", "kind": "question", "text": "Sure?", "replies": [{"label": "No", "next": "hello"}]},
            {"id": "end", "kind": "close"},
        ]
    )
    found = messages_of(spec)
    loop = "is in a loop without an exit: no path from it reaches a hand-over or a close"
    assert ("hello", loop) in found
    assert ("again", loop) in found


def test_a_loop_with_an_exit_is_fine_but_a_silent_loop_is_not() -> None:
    retry = flow(
        [
            {"id": "hello", "kind": "question", "text": "Sure?",
             "replies": [{"label": "No", "next": "hello"}, {"label": "Yes", "next": "end"}]},
            {"id": "end", "kind": "close"},
        ]
    )  # fmt: skip
    assert problems(retry) == []
    spin = flow(
        [
            {"id": "hello", "kind": "message", "text": "Hi", "next": "check"},
            {"id": "check", "kind": "condition", "branches": [{"when": {"agents_online": True}, "next": "end"}],
             "otherwise": "hello"},
            {"id": "end", "kind": "hand_over"},
        ]
    )  # fmt: skip
    found = messages_of(spin)
    assert len(found) == 1
    assert found[0][1].startswith("loops back to itself through messages and conditions only")


def test_a_variable_that_is_never_asked_is_named() -> None:
    spec = flow([{"id": "hello", "kind": "hand_over", "text": "Thanks {name}, we have {order_id}"}])
    assert messages_of(spec) == [
        ("hello", "the text uses {name}, which no step asks; add a step that stores it or remove it"),
        ("hello", "the text uses {order_id}, which no step asks; add a step that stores it or remove it"),
    ]


def test_branch_problems_are_named() -> None:
    spec = flow(
        [
            {"id": "hello", "kind": "condition",
             "branches": [{"when": {}, "next": "end"}, {"when": {"equals": "x"}, "next": "end"},
                          {"when": {"variable": "plan"}, "next": "end"}]},
            {"id": "end", "kind": "close"},
        ]
    )  # fmt: skip
    assert messages_of(spec) == [
        ("hello", "branch 1 has no conditions; use 'otherwise' for the default"),
        ("hello", "branch 2 compares with 'x' but names no variable"),
        ("hello", "branch 3 tests the variable 'plan', which no step asks"),
        ("hello", "otherwise leads nowhere; choose the step that follows"),
    ]


def test_trigger_problems() -> None:
    bare = flow([{"id": "hello", "kind": "close"}], trigger={"kind": "rule"})
    assert messages_of(bare) == [
        (None, "a rule trigger needs at least one condition (for example time_on_page_at_least)")
    ]
    broken = flow([{"id": "hello", "kind": "close"}], trigger={"kind": "rule", "url_matches": "("})
    assert messages_of(broken)[0][1].startswith("the trigger's url_matches is not a valid regular expression")


def test_schema_errors_name_the_field() -> None:
    with pytest.raises(msgspec.ValidationError, match=r"steps\[0\]"):
        flow([{"id": "hello", "kind": "teleport"}])
    with pytest.raises(msgspec.ValidationError, match="store"):
        flow([{"id": "hello", "kind": "ask", "text": "?", "store": "Not A Var", "next": "x"}])


# ---------------------------------------------------------------- triggers


def stored(flow_id: int, trigger: dict[str, Any], *, enabled: bool = True, repeat: bool = False) -> Flow:
    spec = flow([{"id": "hello", "kind": "hand_over"}], trigger=trigger, enabled=enabled, repeat=repeat)
    return Flow(id=flow_id, account_id=1, spec=spec, updated_at=0)


NOW = 1_000_000.0
VISITOR = Visitor(
    id="visitor01", label="V", first_seen_at=NOW - 100, visit_started_at=NOW - 100, last_activity_at=NOW,
    current_url="https://shop.example/pricing", referrer="https://www.google.com/", visit_count=2,
    pages=(PageVisit(url="https://shop.example/pricing", at=NOW - 30),),
)  # fmt: skip


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"kind": "rule", "time_on_page_at_least": 30}, True),
        ({"kind": "rule", "time_on_page_at_least": 31}, False),
        ({"kind": "rule", "time_on_site_at_least": 100}, True),
        ({"kind": "rule", "url_contains": "/PRICING"}, True),
        ({"kind": "rule", "url_matches": "^https://shop"}, True),
        ({"kind": "rule", "url_matches": "checkout"}, False),
        ({"kind": "rule", "referrer_contains": "google"}, True),
        ({"kind": "rule", "returning_visitor": True}, True),
        ({"kind": "rule", "returning_visitor": False}, False),
        ({"kind": "rule", "visit_count_at_least": 3}, False),
    ],
)
def test_rule_triggers_use_the_auto_message_conditions(trigger: dict[str, Any], expected: bool) -> None:
    flows = [compile_flow(stored(1, trigger))]
    found = due(flows, "rule", VISITOR, NOW, agents_online=True, fired=frozenset())
    assert (found is not None) is expected


def test_chat_opened_offline_only_when_nobody_is_online() -> None:
    flows = [compile_flow(stored(1, {"kind": "chat_opened_offline"}))]
    assert due(flows, "chat_opened_offline", VISITOR, NOW, agents_online=True, fired=frozenset()) is None
    assert due(flows, "chat_opened_offline", VISITOR, NOW, agents_online=False, fired=frozenset()) is not None
    assert due(flows, "first_message", VISITOR, NOW, agents_online=False, fired=frozenset()) is None


def test_first_message_trigger_with_a_condition_and_once_per_visitor() -> None:
    flows = [
        compile_flow(stored(1, {"kind": "first_message", "url_contains": "/contact"})),
        compile_flow(stored(2, {"kind": "first_message"}, enabled=False)),
        compile_flow(stored(3, {"kind": "first_message"})),
        compile_flow(stored(4, {"kind": "first_message"}, repeat=True)),
    ]
    first = due(flows, "first_message", VISITOR, NOW, agents_online=True, fired=frozenset())
    assert first is not None
    assert first.id == 3
    again = due(flows, "first_message", VISITOR, NOW, agents_online=True, fired=frozenset({3, 4}))
    assert again is not None
    assert again.id == 4, "a repeating flow runs again"
    assert time_based(flows) is False
    assert time_based([compile_flow(stored(5, {"kind": "rule", "time_on_page_at_least": 5}))]) is True
