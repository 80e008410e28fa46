"""Bot events as live-core effects, without sockets: what agents and the visitor's tabs get."""

from __future__ import annotations

from protocol.bots.flow import BotRun
from protocol.messages import ChatClosed, ChatMessage, MessageAdded, Visitor, VisitorMessage, VisitorPatch
from server.bots.live import answers_stored, bot_changed, bot_closed, bot_message_sent, handed_over, visitor_answered
from server.live.core import TabFrame
from server.live.record import VisitorState

NOW = 1_000_000.0


def state(**fields: object) -> VisitorState:
    record = Visitor(id="visitor01", label="Visitor 01", first_seen_at=NOW, visit_started_at=NOW,
                     last_activity_at=NOW - 5, **fields)  # type: ignore[arg-type]  # fmt: skip
    return VisitorState(record=record)


def message(author: str = "bot") -> ChatMessage:
    return ChatMessage(id="bot-0001-0000", visitor_id="visitor01", author=author, text="Hi", sent_at=NOW)  # type: ignore[arg-type]


def test_a_bot_message_reaches_the_tabs_and_the_agents() -> None:
    s = state()
    effects = bot_message_sent(s, message())
    assert effects.tabs == [TabFrame(VisitorMessage(message=message()))]
    assert effects.deltas == [MessageAdded(message=message())]
    assert s.has_messages is True


def test_a_visitors_answer_to_a_bot_raises_no_alert() -> None:
    s = state()
    effects = visitor_answered(s, message("visitor"), from_tab="tab1", now=NOW)
    assert s.record.chat_status == "none"
    assert s.record.unread == 0
    assert s.record.last_activity_at == NOW
    assert effects.tabs == [TabFrame(VisitorMessage(message=message("visitor")), except_tab="tab1")]
    assert effects.deltas[-1] == VisitorPatch(visitor_id="visitor01", last_activity_at=NOW)


def test_answers_land_in_the_fields_and_custom_variables_without_making_a_customer() -> None:
    s = state(custom={"plan": "pro"})
    effects = answers_stored(s, {"name": "Ada", "topic": "Sales"})
    assert (s.record.name, s.record.label, s.record.customer) == ("Ada", "Ada", False)
    assert s.record.custom == {"plan": "pro", "topic": "Sales"}
    assert effects.writes == {"name": "Ada", "custom": {"plan": "pro", "topic": "Sales"}}
    assert effects.store == {"identity"}


def test_hand_over_makes_the_chat_unanswered_unless_an_agent_has_it() -> None:
    s = state()
    effects = handed_over(s)
    assert (s.record.chat_status, s.record.in_chat) == ("unanswered", True)
    assert effects.writes["chat_status"] == "unanswered"
    taken = state(chat_status="active", in_chat=True)
    assert handed_over(taken).deltas == []
    assert taken.record.chat_status == "active"


def test_close_and_the_bot_state_on_the_record() -> None:
    s = state(chat_status="unanswered", in_chat=True)
    effects = bot_closed(s)
    assert s.record.chat_status == "closed"
    assert TabFrame(ChatClosed()) in effects.tabs
    run = BotRun(flow_id=1, flow_name="Sales", status="running", answers={"name": "Ada"})
    changed = bot_changed(s, run)
    assert s.record.bot == run
    assert changed.store == {"bot"}
    assert changed.deltas == [VisitorPatch(visitor_id="visitor01", bot=run)]
    assert bot_changed(s, run).deltas == [], "no delta when nothing changed"
