"""The team layer's pure rules: the replica of agent sockets, presence, take-over, transfer, notes, alerts."""

from __future__ import annotations

import pytest

from protocol.messages import (
    ChatMessage,
    ErrorCode,
    MessageAdded,
    Note,
    NoteAdded,
    TakenOver,
    Transferred,
    VisitorHello,
    VisitorMessage,
    VisitorPatch,
)
from protocol.rules import Plan
from server.live import core, team
from server.live.core import AgentFrame, RefusedError, TabFrame
from server.live.record import VisitorState
from server.live.team import ConnInfo, TeamReplica
from tests.unit.server.test_live_core import Row

NOW = 1_000_000.0
HELLO = VisitorHello(tab_id="tab-00001", url="https://shop.example/")
ANNA, JONAS, CLARA = (1, "Anna"), (2, "Jonas"), (3, "Clara")
VID = "visitor-0001"


def visitor(**row: object) -> VisitorState:
    state = core.start_visit(Row(**row), HELLO, core.Place(), known=False, now=NOW)  # type: ignore[arg-type]
    core.tab_attached(state, HELLO, new_visit=True, now=NOW)
    return state


def held_by(agent: tuple[int, str]) -> VisitorState:
    state = visitor()
    core.open_chat(state, agent, Plan.PRO)
    return state


def conn(agent: tuple[int, str], status: str = "online", *, viewing: tuple[str, ...] = (), at: float = NOW) -> ConnInfo:
    return ConnInfo(agent[0], agent[1], status, viewing=viewing, seen_at=at)  # type: ignore[arg-type]


# ---------------------------------------------------------------- replica and presence


def test_presence_says_who_does_the_most_on_a_visitor() -> None:
    replica = TeamReplica()
    change = replica.announce("c1", conn(JONAS, viewing=(VID,)))
    assert change.visitors == {VID}
    assert change.members
    replica.announce("c2", conn(CLARA, viewing=(VID,)))
    typing = conn(CLARA, viewing=(VID,))
    typing.typing = frozenset({VID})
    change = replica.announce("c2", typing)
    assert change.visitors == {VID}
    assert not change.members
    presence = replica.presence(VID, holder=ANNA)
    assert [(e.agent_name, e.activity) for e in presence.agents] == [
        ("Anna", "chatting"),
        ("Clara", "typing"),
        ("Jonas", "viewing"),
    ]
    # The holder who also views is listed once, as chatting.
    replica.announce("c3", conn(ANNA, viewing=(VID,)))
    assert [e.agent_name for e in replica.presence(VID, holder=ANNA).agents] == ["Anna", "Clara", "Jonas"]


def test_a_socket_that_closes_or_is_no_longer_announced_is_forgotten() -> None:
    replica = TeamReplica()
    replica.announce("c1", conn(JONAS, viewing=(VID,), at=NOW))
    replica.announce("c2", conn(CLARA, viewing=("visitor-0002",), at=NOW + 25))
    assert replica.connected(JONAS[0])
    change = replica.expire(NOW + 31)  # Jonas's process stopped announcing
    assert change.visitors == {VID}
    assert change.members
    assert not replica.connected(JONAS[0])
    assert replica.presence(VID, holder=None).agents == []
    assert replica.remove("c2").visitors == {"visitor-0002"}
    assert replica.remove("c2").visitors == set()


def test_status_decides_who_can_receive_a_transfer_and_the_team_list() -> None:
    replica = TeamReplica()
    replica.announce("c1", conn(JONAS))
    replica.announce("c2", conn(CLARA, "away"))
    assert replica.available(JONAS[0])
    assert not replica.available(CLARA[0])
    assert replica.set_status(JONAS[0], "away").members
    assert not replica.available(JONAS[0])
    assert not replica.set_status(JONAS[0], "away").members
    status = replica.team({1: ("Anna", "online"), 2: ("Jonas", "away"), 3: ("clara", "away")})
    assert [(m.name, m.status, m.connected) for m in status.agents] == [
        ("Anna", "online", False),
        ("clara", "away", True),
        ("Jonas", "away", True),
    ]


def test_viewing_list_is_deduplicated_and_capped() -> None:
    ids = [f"visitor-{n:04d}" for n in range(40)]
    assert team.viewing_list([ids[1], ids[0], ids[1]]) == (ids[1], ids[0])
    assert len(team.viewing_list(ids)) == team.MAX_VIEWING


# ---------------------------------------------------------------- collision guard


def test_a_chat_held_by_a_colleague_is_refused_naming_them() -> None:
    state = held_by(ANNA)
    team.check_not_held(state, ANNA[0])  # her own
    with pytest.raises(RefusedError) as refused:
        team.check_not_held(state, JONAS[0])
    assert refused.value.code is ErrorCode.CONVERSATION_HELD
    assert refused.value.message.startswith("Anna is chatting with this visitor")
    team.check_not_held(visitor(), JONAS[0])  # nobody holds it
    core.close_chat(state)
    team.check_not_held(state, JONAS[0])  # closed: nobody's


def test_take_over_moves_the_chat_records_it_and_announces_it() -> None:
    state = held_by(ANNA)
    line = team.system_line("sys-000001", VID, team.take_over_text("Jonas", "Anna"), now=NOW)
    effects = team.taken_over(state, JONAS, ANNA, line)
    assert (state.record.chat_agent_id, state.record.chat_agent_name) == JONAS
    assert effects.writes == {"chat_status": "active", "chat_agent_id": JONAS[0]}
    assert MessageAdded(message=line) in effects.deltas
    assert any(isinstance(d, VisitorPatch) and d.visitor_id == VID for d in effects.deltas)
    assert TabFrame(VisitorMessage(message=line)) in effects.tabs
    assert effects.agents == [
        AgentFrame(
            TakenOver(visitor_id=VID, from_agent_id=1, from_agent_name="Anna", by_agent_id=2, by_agent_name="Jonas")
        )
    ]
    assert line.text == "Jonas took over from Anna"
    assert line.author == "system"


def test_transfer_only_by_the_holder_to_an_available_colleague() -> None:
    state = held_by(ANNA)
    with pytest.raises(RefusedError) as refused:
        team.check_transfer(state, JONAS[0], CLARA[0], receiver_available=True)
    assert refused.value.code is ErrorCode.CONVERSATION_HELD
    with pytest.raises(RefusedError) as refused:
        team.check_transfer(state, ANNA[0], CLARA[0], receiver_available=False)
    assert refused.value.code is ErrorCode.AGENT_UNAVAILABLE
    with pytest.raises(RefusedError) as refused:
        team.check_transfer(visitor(), ANNA[0], CLARA[0], receiver_available=True)
    assert refused.value.code is ErrorCode.CONVERSATION_CLOSED
    with pytest.raises(RefusedError):
        team.check_transfer(state, ANNA[0], ANNA[0], receiver_available=True)
    team.check_transfer(state, ANNA[0], JONAS[0], receiver_available=True)
    effects = team.transferred(state, ANNA, JONAS, "refund", None)
    assert state.record.chat_agent_id == JONAS[0]
    assert effects.agents[0].message == Transferred(
        visitor_id=VID, from_agent_id=1, from_agent_name="Anna", to_agent_id=2, to_agent_name="Jonas", note="refund"
    )


def test_notes_go_to_the_agents_log_only() -> None:
    note = Note(id="note-0001", visitor_id=VID, text="VIP", created_at=NOW, agent_id=1, agent_name="Anna")
    effects = team.note_added(note)
    assert effects.deltas == [NoteAdded(note=note)]
    assert effects.tabs == []
    assert effects.agents == []


def test_unanswered_alert_only_while_the_chat_waits() -> None:
    state = visitor()
    stored = ChatMessage(id="message-001", visitor_id=VID, author="visitor", text="hi", sent_at=NOW)
    core.visitor_message(state, stored, from_tab="tab-00001", now=NOW)
    alert = team.unanswered_alert(state, NOW)
    assert alert is not None
    assert (alert.visitor_id, alert.waiting_since) == (VID, NOW)
    core.open_chat(state, ANNA, Plan.PRO)
    assert team.unanswered_alert(state, NOW) is None
    assert team.unanswered_alert(None, NOW) is None
