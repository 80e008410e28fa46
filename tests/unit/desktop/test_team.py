"""The team policy the app mirrors: presence, who may open what, the Chats lists, alerts, auto-away, canned."""

from __future__ import annotations

import pytest

from desktop.core.store import SeqGap, VisitorStore
from desktop.core.team import (
    AlertStep,
    AutoAway,
    ChatBucket,
    OpenKind,
    RepeatingAlert,
    bucket_counts,
    chats,
    effective_status,
    expand_canned,
    format_waiting,
    initials,
    match_canned,
    needs_answer,
    open_decision,
    slash_query,
    waiting_since,
)
from protocol.messages import (
    CannedResponse,
    CannedResponses,
    ChatMessage,
    Note,
    NoteAdded,
    Notes,
    PresenceEntry,
    TeamMember,
    TeamStatus,
    VisitorPresence,
)
from tests.unit.desktop.factory import NOW, changed, left, make_visitor, snapshot, visitor_id

ME, ANNA = 3, 4


def supported(store: VisitorStore) -> bool:
    """Read through a call, so the type checker does not narrow the attribute across applies."""
    return store.team.supported


def auto_active(auto: AutoAway) -> bool:
    """Read through a call (see ``supported``)."""
    return auto.active


def entry(agent_id: int, name: str, activity: str) -> PresenceEntry:
    return PresenceEntry(agent_id=agent_id, agent_name=name, activity=activity)  # type: ignore[arg-type]


def message(n: int, author: str, at: float) -> ChatMessage:
    return ChatMessage(id=f"msg-{n:08d}", visitor_id=visitor_id(1), author=author, text="x", sent_at=at)  # type: ignore[arg-type]


def note(n: int, at: float) -> Note:
    return Note(
        id=f"note-{n:08d}", visitor_id=visitor_id(1), text=f"n{n}", created_at=at, agent_id=ANNA, agent_name="A"
    )


# ---------------------------------------------------------------- presence in the store


def test_presence_marks_the_row_changed_and_is_dropped_on_every_sync() -> None:
    store = VisitorStore()
    store.apply(snapshot([make_visitor(1), make_visitor(2)]))
    store.take_changes()
    store.apply(
        VisitorPresence(visitor_id=visitor_id(1), agents=[entry(ME, "Me", "viewing"), entry(ANNA, "Anna", "chatting")])
    )
    changes = store.take_changes()
    assert changes.upserted == {visitor_id(1)}
    assert len(changes.team) == 1
    # The strongest activity first, and an agent never sees themself as a colleague.
    assert [e.agent_name for e in store.team.others_on(visitor_id(1), ME)] == ["Anna"]
    assert store.team.presence[visitor_id(1)][0].activity == "chatting"
    store.apply(VisitorPresence(visitor_id=visitor_id(1), agents=[]))
    assert store.team.others_on(visitor_id(1), ME) == ()
    assert store.take_changes().upserted == {visitor_id(1)}
    # Clearing a visitor nobody was on changes no row.
    store.apply(VisitorPresence(visitor_id=visitor_id(2), agents=[]))
    assert store.take_changes().upserted == set()
    store.apply(VisitorPresence(visitor_id=visitor_id(2), agents=[entry(ANNA, "Anna", "typing")]))
    store.apply(snapshot([make_visitor(2)], seq=20))
    assert store.team.presence == {}


def test_presence_and_notes_go_with_a_visitor_who_leaves() -> None:
    store = VisitorStore()
    store.apply(snapshot([make_visitor(1)]))
    store.apply(VisitorPresence(visitor_id=visitor_id(1), agents=[entry(ANNA, "Anna", "viewing")]))
    store.apply(NoteAdded(seq=11, note=note(1, NOW)))
    store.apply(left(12, 1))
    assert store.team.presence == {}
    assert store.team.notes_for(visitor_id(1)) == []


def test_notes_are_deltas_in_the_seq_and_merge_with_fetched_ones() -> None:
    store = VisitorStore()
    store.apply(snapshot([make_visitor(1)]))
    store.apply(NoteAdded(seq=11, note=note(2, NOW)))
    store.apply(NoteAdded(seq=11, note=note(9, NOW)))  # a replayed duplicate changes nothing
    assert store.seq == 11
    with pytest.raises(SeqGap):
        store.apply(NoteAdded(seq=13, note=note(3, NOW)))
    store.apply(Notes(ref="r", visitor_id=visitor_id(1), notes=[note(1, NOW - 10), note(2, NOW)]))
    assert [n.text for n in store.team.notes_for(visitor_id(1))] == ["n1", "n2"]
    store.apply(changed(12, make_visitor(1, name="Ada")))  # the seq goes on after a note
    assert store.seq == 12


def test_team_status_marks_the_server_as_team_capable_and_lists_transfer_targets() -> None:
    store = VisitorStore()
    assert not supported(store)
    store.apply(
        TeamStatus(
            agents=[
                TeamMember(id=ME, name="Me", status="online", connected=True),
                TeamMember(id=ANNA, name="anna", status="online", connected=True),
                TeamMember(id=5, name="Bert", status="away", connected=True),
                TeamMember(id=6, name="Carl", status="online", connected=False),
                TeamMember(id=7, name="Ada", status="online", connected=True),
            ]
        )
    )
    assert supported(store)
    assert [m.name for m in store.team.online_colleagues(ME)] == ["Ada", "anna"]
    store.apply(CannedResponses(responses=[CannedResponse(id=1, shortcut="hi", text="Hello")]))
    assert [c.shortcut for c in store.team.canned] == ["hi"]


def test_initials() -> None:
    assert initials("Anna Berg") == "AB"
    assert initials("jonas") == "JO"
    assert initials("Jean-Luc Picard") == "JP"
    assert initials("") == "?"
    assert initials("Q") == "Q"


# ---------------------------------------------------------------- who may open what


def test_a_chat_held_by_a_colleague_needs_a_take_over() -> None:
    held = make_visitor(1, chat_status="active", chat_agent_id=ANNA, chat_agent_name="Anna", in_chat=True)
    decision = open_decision(held, ME)
    assert decision.kind is OpenKind.TAKE_OVER
    assert decision.holder == "Anna"
    mine = make_visitor(1, chat_status="active", chat_agent_id=ME, chat_agent_name="Me")
    assert open_decision(mine, ME).kind is OpenKind.OPEN
    unassigned = make_visitor(1, chat_status="unanswered")
    assert open_decision(unassigned, ME).kind is OpenKind.OPEN
    # A closed chat is nobody's any more: opening it starts a new one.
    closed = make_visitor(1, chat_status="closed", chat_agent_id=ANNA, chat_agent_name="Anna")
    assert open_decision(closed, ME).kind is OpenKind.OPEN
    assert open_decision(make_visitor(1, chat_status="active", chat_agent_id=ANNA), ME).holder == "another agent"


# ---------------------------------------------------------------- Chats panel


def test_chat_lists_counts_and_waiting_order() -> None:
    visitors = [
        make_visitor(1, chat_status="active", chat_agent_id=ME),
        make_visitor(2, chat_status="unanswered"),
        make_visitor(3, chat_status="active", chat_agent_id=ANNA),
        make_visitor(4, chat_status="unanswered"),
        make_visitor(5, chat_status="closed", chat_agent_id=ME),
        make_visitor(6),
    ]
    waiting = {visitor_id(2): NOW - 10, visitor_id(4): NOW - 100}
    assert [v.id for v in chats(visitors, ChatBucket.MINE, ME, waiting)] == [visitor_id(1)]
    assert [v.id for v in chats(visitors, ChatBucket.UNASSIGNED, ME, waiting)] == [visitor_id(4), visitor_id(2)]
    assert [v.id for v in chats(visitors, ChatBucket.ALL_OPEN, ME, waiting)][:2] == [visitor_id(4), visitor_id(2)]
    assert bucket_counts(visitors, ME) == {ChatBucket.MINE: 1, ChatBucket.UNASSIGNED: 2, ChatBucket.ALL_OPEN: 4}
    assert bucket_counts(visitors, None)[ChatBucket.MINE] == 0


def test_waiting_since_starts_at_the_first_unanswered_visitor_message() -> None:
    assert waiting_since([]) is None
    talk = [message(1, "visitor", 10), message(2, "visitor", 20), message(3, "agent", 30)]
    assert waiting_since(talk) is None
    assert waiting_since([*talk, message(4, "visitor", 40), message(5, "auto", 45), message(6, "visitor", 50)]) == 40
    assert waiting_since(talk[:2]) == 10


def test_needs_answer_only_for_unanswered_chats_not_held_by_a_colleague() -> None:
    assert needs_answer(make_visitor(1, chat_status="unanswered"), ME)
    assert needs_answer(make_visitor(1, chat_status="unanswered", chat_agent_id=ME), ME)
    assert not needs_answer(make_visitor(1, chat_status="unanswered", chat_agent_id=ANNA), ME)
    assert not needs_answer(make_visitor(1, chat_status="active"), ME)
    assert not needs_answer(make_visitor(1, chat_status="unanswered", banned=True), ME)


def test_format_waiting() -> None:
    assert format_waiting(45.9) == "45 s"
    assert format_waiting(187) == "3:07"
    assert format_waiting(3723) == "1:02:03"
    assert format_waiting(-3) == "0 s"


# ---------------------------------------------------------------- repeating alert


def test_alert_repeats_until_the_chat_is_taken() -> None:
    alert = RepeatingAlert(repeat_seconds=30)
    assert alert.update(["a"], now=0) == AlertStep(notify=("a",), ring=True, count=1)
    assert not alert.update(["a"], now=10).ring
    assert alert.update(["a"], now=30).ring  # still waiting: the sound repeats
    assert not alert.update(["a"], now=31).ring
    # A new chat rings at once and is notified.
    assert alert.update(["a", "b"], now=35) == AlertStep(notify=("b",), ring=True, count=2)
    # A colleague took "a".
    assert alert.update(["b"], now=40) == AlertStep(withdraw=("a",), count=1)
    # The server re-alerts after N seconds.
    assert alert.update(["b"], now=41, escalated=["b"]) == AlertStep(notify=("b",), ring=True, count=1)
    assert alert.update([], now=200) == AlertStep(withdraw=("b",))
    assert alert.update(["c"], now=201).ring


def test_alert_without_repeat_rings_once_per_chat() -> None:
    alert = RepeatingAlert(repeat_seconds=0)
    assert alert.update(["a"], now=0).ring
    assert not alert.update(["a"], now=1000).ring


# ---------------------------------------------------------------- auto-away


def test_auto_away_follows_idle_time_and_never_overrides_a_manual_away() -> None:
    auto = AutoAway(idle_after=300)
    assert auto.step("online", 10) is None
    assert auto.step("online", 300) == "away"
    assert auto.active
    assert effective_status("online", auto.active) == "away"
    assert auto.step("online", 400) is None
    assert auto.step("online", 1) == "online"  # input again: back
    assert not auto_active(auto)
    assert auto.step("away", 1000) is None  # a manual Away stays Away
    assert auto.step("online", 1000) == "away"
    assert auto.step("away", 1000) == "away"  # chose Away while auto-away: auto-away ends, status stays
    assert not auto_active(auto)


def test_auto_away_without_an_idle_source_keeps_manual_status() -> None:
    auto = AutoAway(idle_after=300)
    assert auto.step("online", None) is None
    assert auto.step("online", 500) == "away"
    assert auto.step("online", None) == "online"  # the source went away: back to the chosen status
    assert AutoAway(idle_after=None).step("online", 10_000) is None


# ---------------------------------------------------------------- canned responses


def test_slash_query() -> None:
    assert slash_query("/ship") == "ship"
    assert slash_query("/") == ""
    assert slash_query("/ship it") is None
    assert slash_query("hello /ship") is None


def test_canned_search_prefers_shortcut_then_the_visitors_language() -> None:
    responses = [
        CannedResponse(id=1, shortcut="shipping", text="We ship in 3 days", language="en"),
        CannedResponse(id=2, shortcut="shipping", text="Wir liefern in 3 Tagen", language="de"),
        CannedResponse(id=3, shortcut="hello", text="Hi, about shipping: ask me", language=""),
        CannedResponse(id=4, shortcut="refund", text="Refunds take a week"),
    ]
    assert [r.id for r in match_canned(responses, "ship", "de-AT")] == [2, 1, 3]
    assert [r.id for r in match_canned(responses, "SHIP", None)] == [1, 2, 3]  # no language: stable order
    assert next(r.id for r in match_canned(responses, "", "en")) == 1
    assert match_canned(responses, "nothing", "en") == []


def test_placeholders_are_filled_and_other_braces_stay() -> None:
    text = "Hi {visitor_name}, {agent_name} here. {unknown}"
    assert expand_canned(text, visitor_name="Ada", agent_name="Jonas") == "Hi Ada, Jonas here. {unknown}"
    assert expand_canned(text, visitor_name="", agent_name="Jonas") == "Hi, Jonas here. {unknown}"
