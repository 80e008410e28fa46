"""The team layer with two and three real agents against a real server: presence, collisions, status, alerts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

import httpx
import pytest

from protocol.codec import encode
from protocol.messages import (
    Ack,
    AddNote,
    AgentsOnline,
    CannedResponses,
    CannedResponseSpec,
    DeleteCannedResponse,
    Error,
    ErrorCode,
    GetCannedResponses,
    GetHistory,
    GetNotes,
    Hello,
    History,
    MessageAdded,
    NoteAdded,
    Notes,
    OfflineMessage,
    OpenConversation,
    Result,
    SaveCannedResponse,
    SendMessage,
    SetStatus,
    SetViewing,
    TakenOver,
    TakeOver,
    TeamStatus,
    TransferChat,
    Transferred,
    UnansweredAlert,
    Visitor,
    VisitorChanged,
    VisitorChat,
    VisitorMessage,
    VisitorPresence,
)
from protocol.rules import Plan
from server.rules import RuleConditions, RuleSpec
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer, Tenant

NAMES = ("Anna", "Jonas", "Clara")
E = TypeVar("E")


class Team:
    """An account with three named agents (Anna is the account's first agent)."""

    def __init__(self, live_server: LiveServer, tenant: Tenant) -> None:
        self.live_server = live_server
        self.tenant = tenant
        self.emails = {"Anna": tenant.agent_email}
        for name in NAMES[1:]:
            email = new_id(name.lower()) + "@example.com"
            live_server.add_agent(tenant.account_id, email, DEFAULT_PASSWORD, name)
            self.emails[name] = email
        self.tokens = {name: live_server.login(email, DEFAULT_PASSWORD) for name, email in self.emails.items()}

    async def agent(self, name: str, *, resume_from: int | None = None) -> AgentSocket:
        """A connected agent socket that has its hello, snapshot and team."""
        socket = await AgentSocket.connect(self.live_server.agent_ws_url, self.tokens[name], resume_from=resume_from)
        await socket.hello()
        await socket.wait_for(TeamStatus)
        return socket

    @property
    def visitor_url(self) -> str:
        return self.live_server.visitor_url(self.tenant.account_key)


@pytest.fixture
def team(live_server: LiveServer) -> Team:
    return Team(live_server, live_server.create_account(Plan.PRO, name="Team shop"))


@asynccontextmanager
async def agents(team: Team, *names: str) -> AsyncIterator[list[AgentSocket]]:
    async with AsyncExitStack() as stack:
        sockets = [await stack.enter_async_context(await team.agent(name)) for name in names]
        yield sockets


async def seen(agent: AgentSocket, kind: type[E], predicate: Callable[[E], bool] = lambda _e: True) -> E:
    """An event of ``kind`` received already (in any order) or arriving soon."""
    for event in agent.events:
        if isinstance(event, kind) and predicate(event):
            return event
    return await agent.wait_for(kind, predicate)


async def record_where(agent: AgentSocket, visitor_id: str, predicate: Callable[[Visitor], bool]) -> Visitor:
    """The agent's copy of a visitor once it satisfies ``predicate`` (arrivals and patches applied)."""
    current = agent.visitors.get(visitor_id)
    if current is not None and predicate(current):
        return current
    return await agent.wait_for_visitor(lambda v: v.id == visitor_id and predicate(v))


def hello_of(socket: AgentSocket) -> Hello:
    return next(e for e in socket.events if isinstance(e, Hello))


def name_of(socket: AgentSocket) -> str:
    return hello_of(socket).agent.name


async def test_presence_reaches_the_other_agents_within_a_second(team: Team) -> None:
    async with (
        agents(team, "Anna", "Jonas", "Clara") as (anna, jonas, clara),
        await VisitorSocket.connect(team.visitor_url) as visitor,
    ):
        for agent in (anna, jonas, clara):
            await agent.wait_for(VisitorChanged, lambda e: e.visitor.id == visitor.visitor_id)
        await jonas.ws.send(encode(SetViewing(visitor_ids=[visitor.visitor_id])).decode())
        jonas_name = name_of(jonas)
        for other in (anna, clara):
            seen = await other.wait_for(
                VisitorPresence,
                lambda e: e.visitor_id == visitor.visitor_id and any(a.agent_name == jonas_name for a in e.agents),
                within=1.0,
            )
            assert [(a.agent_name, a.activity) for a in seen.agents] == [(jonas_name, "viewing")]
        # Opening the chat makes Anna "chatting"; a closed viewer list clears Jonas.
        assert isinstance(await anna.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        anna_name = name_of(anna)
        seen = await clara.wait_for(
            VisitorPresence, lambda e: any(a.activity == "chatting" for a in e.agents), within=1.0
        )
        assert (seen.agents[0].agent_name, seen.agents[0].activity) == (anna_name, "chatting")
        await jonas.ws.send(encode(SetViewing(visitor_ids=[])).decode())
        seen = await clara.wait_for(
            VisitorPresence, lambda e: all(a.agent_name != jonas_name for a in e.agents), within=1.0
        )
        assert [a.agent_name for a in seen.agents] == [anna_name]


async def test_simultaneous_opens_have_exactly_one_winner_every_time(team: Team) -> None:
    tries = 25
    async with agents(team, "Anna", "Jonas") as (anna, jonas):
        names = {name_of(anna), name_of(jonas)}
        for _ in range(tries):
            async with await VisitorSocket.connect(team.visitor_url) as visitor:
                vid = visitor.visitor_id
                await anna.wait_for(VisitorChanged, lambda e: e.visitor.id == vid)  # noqa: B023 (awaited at once)
                answers = await asyncio.gather(
                    anna.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id)),
                    jonas.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id)),
                )
                won = [a for a in answers if isinstance(a, Result)]
                lost = [a for a in answers if isinstance(a, Error)]
                assert len(won) == 1, answers
                assert len(lost) == 1, answers
                assert lost[0].code is ErrorCode.CONVERSATION_HELD
                winner = name_of(anna) if isinstance(answers[0], Result) else name_of(jonas)
                assert lost[0].message.startswith(f"{winner} is chatting with this visitor")
                assert winner in names


async def test_take_over_is_explicit_recorded_and_announced(team: Team) -> None:
    async with agents(team, "Anna", "Jonas") as (anna, jonas), await VisitorSocket.connect(team.visitor_url) as visitor:
        anna_name, jonas_name = name_of(anna), name_of(jonas)
        await visitor.send(VisitorChat(id=new_id(), text="Hello?"))
        await anna.wait_for(MessageAdded)
        answered = await anna.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Hi!"))
        assert isinstance(answered, Result)
        # No silent re-assignment: opening or writing is refused, naming Anna.
        for request in (
            OpenConversation(ref=ref(), visitor_id=visitor.visitor_id),
            SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="Me too"),
        ):
            refused = await jonas.request(request)
            assert isinstance(refused, Error)
            assert refused.code is ErrorCode.CONVERSATION_HELD
            assert anna_name in refused.message
        taken = await jonas.request(TakeOver(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(taken, Result)
        notice = await seen(anna, TakenOver)
        assert (notice.from_agent_name, notice.by_agent_name) == (anna_name, jonas_name)
        changed = await record_where(anna, visitor.visitor_id, lambda v: v.chat_agent_name == jonas_name)
        assert changed.chat_status == "active"
        history = await anna.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        system = [m for m in history.messages if m.author == "system"]
        assert [m.text for m in system] == [f"{jonas_name} took over from {anna_name}"]
        # Now Anna is the one refused.
        refused = await anna.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="x"))
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.CONVERSATION_HELD


async def test_status_decides_agents_online_and_automatic_messages_and_survives_a_reconnect(team: Team) -> None:
    rule = RuleSpec(name="Hi", message="Can we help?", conditions=RuleConditions(url_contains="/pricing"))
    team.live_server.add_rule(team.tenant.account_id, rule)
    anna = await team.agent("Anna")
    async with anna:
        away = await anna.request(SetStatus(ref=ref(), status="away", auto=True))
        assert isinstance(away, Result)
        status = await anna.wait_for(TeamStatus, lambda e: any(a.status == "away" for a in e.agents))
        assert next(a for a in status.agents if a.name == name_of(anna)).status == "away"
        # Nobody Online: the widget hears so, and the pricing page gets no automatic message.
        async with await VisitorSocket.connect(team.visitor_url, page="https://shop.example/pricing") as visitor:
            assert visitor.welcome.agents_online is False
            with pytest.raises(TimeoutError):
                await visitor.wait_for(VisitorMessage, within=0.5)
            back = await anna.request(SetStatus(ref=ref(), status="online"))
            assert isinstance(back, Result)
            assert (await visitor.wait_for(AgentsOnline)).online is True
            await anna.request(SetStatus(ref=ref(), status="away"))
            assert (await visitor.wait_for(AgentsOnline)).online is False
    # Kept across reconnects: Anna comes back Away, so visitors still see nobody online.
    again = await team.agent("Anna")
    async with again:
        status = next(e for e in again.events if isinstance(e, TeamStatus))
        assert next(a for a in status.agents if a.name == name_of(again)).status == "away"
        async with await VisitorSocket.connect(team.visitor_url) as visitor:
            assert visitor.welcome.agents_online is False


async def test_offline_message_becomes_an_unanswered_chat(team: Team) -> None:
    async with await VisitorSocket.connect(team.visitor_url) as visitor:
        assert visitor.welcome.agents_online is False
        await visitor.send(OfflineMessage(id=new_id(), text="Please call me back", name="Ada", email="ada@x.example"))
        await visitor.wait_for(Ack)
    anna = await team.agent("Anna")
    async with anna:
        record = anna.visitors[visitor.visitor_id]
        assert record.chat_status == "unanswered"
        assert record.name == "Ada"
        history = await anna.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert [m.text for m in history.messages] == ["Please call me back"]


async def test_unanswered_chat_alerts_every_online_agent_again(team: Team) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.put(
            f"{team.live_server.http_url}/api/v1/team/settings",
            json={"unanswered_alert_seconds": 10},
            headers={"Authorization": f"Bearer {team.tokens['Anna']}"},
        )
    assert response.status_code == 200, response.text
    async with (
        agents(team, "Anna", "Jonas", "Clara") as (anna, jonas, clara),
        await VisitorSocket.connect(team.visitor_url) as visitor,
    ):
        assert isinstance(await clara.request(SetStatus(ref=ref(), status="away")), Result)
        await visitor.send(VisitorChat(id=new_id(), text="Anyone there?"))
        for agent in (anna, jonas):
            alert = await agent.wait_for(UnansweredAlert, within=15)
            assert alert.visitor_id == visitor.visitor_id
        assert not any(isinstance(e, UnansweredAlert) for e in clara.events)  # Away: not re-alerted
        # Taking the chat ends the alerts.
        assert isinstance(await jonas.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        count = sum(isinstance(e, UnansweredAlert) for e in anna.events)
        with pytest.raises(TimeoutError):
            await anna.wait_for(UnansweredAlert, within=11)
        assert sum(isinstance(e, UnansweredAlert) for e in anna.events) == count


async def test_transfer_with_a_note_end_to_end(team: Team) -> None:
    async with (
        agents(team, "Anna", "Jonas", "Clara") as (anna, jonas, clara),
        await VisitorSocket.connect(team.visitor_url) as visitor,
    ):
        await visitor.send(VisitorChat(id=new_id(), text="Refund please"))
        await anna.wait_for(MessageAdded)
        assert isinstance(await anna.request(OpenConversation(ref=ref(), visitor_id=visitor.visitor_id)), Result)
        assert isinstance(await clara.request(SetStatus(ref=ref(), status="away")), Result)
        clara_id, jonas_id = hello_of(clara).agent.id, hello_of(jonas).agent.id
        await anna.wait_for(TeamStatus, lambda e: any(a.id == clara_id and a.status == "away" for a in e.agents))
        refused = await anna.request(TransferChat(ref=ref(), visitor_id=visitor.visitor_id, to_agent_id=clara_id))
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.AGENT_UNAVAILABLE
        refused = await jonas.request(TransferChat(ref=ref(), visitor_id=visitor.visitor_id, to_agent_id=jonas_id))
        assert isinstance(refused, Error)
        assert refused.code is ErrorCode.CONVERSATION_HELD  # only the holder hands a chat on
        done = await anna.request(
            TransferChat(ref=ref(), visitor_id=visitor.visitor_id, to_agent_id=jonas_id, note="Order A-1042")
        )
        assert isinstance(done, Result)
        handed = await seen(jonas, Transferred)
        assert (handed.to_agent_id, handed.note) == (jonas_id, "Order A-1042")
        await record_where(jonas, visitor.visitor_id, lambda v: v.chat_agent_id == jonas_id)
        note = await seen(jonas, NoteAdded)
        assert note.note.text == "Order A-1042"
        sent = await jonas.request(SendMessage(ref=ref(), id=new_id(), visitor_id=visitor.visitor_id, text="On it"))
        assert isinstance(sent, Result)
        system = await visitor.wait_for(VisitorMessage, lambda e: e.message.author == "system")
        assert system.message.text == f"{name_of(anna)} handed the chat to {name_of(jonas)}"


async def test_notes_never_reach_a_visitor_socket(team: Team) -> None:
    async with agents(team, "Anna", "Jonas") as (anna, jonas), await VisitorSocket.connect(team.visitor_url) as visitor:
        secret = "VIP, was rude last time " + new_id()
        note_id = new_id("n")
        added = await anna.request(AddNote(ref=ref(), id=note_id, visitor_id=visitor.visitor_id, text=secret))
        assert isinstance(added, Result)
        again = await anna.request(AddNote(ref=ref(), id=note_id, visitor_id=visitor.visitor_id, text=secret))
        assert isinstance(again, Result)  # a resend is a no-op
        seen = await jonas.wait_for(NoteAdded)
        assert seen.note.text == secret
        notes = await jonas.request(GetNotes(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(notes, Notes)
        assert [n.text for n in notes.notes] == [secret]
        with pytest.raises(TimeoutError):
            await visitor.recv(0.5)
        assert all(secret not in repr(e) for e in visitor.events)
        # A new tab's welcome carries the history, never a note.
        async with await VisitorSocket.connect(team.visitor_url, visitor_id=visitor.visitor_id) as tab:
            assert secret not in repr(tab.welcome)
        history = await anna.request(GetHistory(ref=ref(), visitor_id=visitor.visitor_id))
        assert isinstance(history, History)
        assert all(secret not in m.text for m in history.messages)


async def test_canned_responses_over_websocket_and_rest(team: Team) -> None:
    base = f"{team.live_server.http_url}/api/v1/canned"
    auth = {"Authorization": f"Bearer {team.tokens['Anna']}"}
    async with agents(team, "Anna", "Jonas") as (anna, jonas), httpx.AsyncClient(headers=auth) as http:
        spec = CannedResponseSpec(shortcut="ship", text="Hi {visitor_name}, we ship in 3 days. {agent_name}")
        saved = await anna.request(SaveCannedResponse(ref=ref(), response=spec))
        assert isinstance(saved, Result)
        pushed = await jonas.wait_for(CannedResponses, lambda e: e.ref is None and bool(e.responses))
        assert [r.shortcut for r in pushed.responses] == ["ship"]
        duplicate = await anna.request(SaveCannedResponse(ref=ref(), response=spec))
        assert isinstance(duplicate, Error)
        assert "exists already" in duplicate.message
        response = await http.post(base, json={"shortcut": "ship", "text": "Wir liefern.", "language": "de"})
        assert response.status_code == 201, response.text
        german = response.json()
        listed = (await http.get(base)).json()
        assert [(r["shortcut"], r.get("language", "")) for r in listed] == [("ship", ""), ("ship", "de")]
        answer = await jonas.request(GetCannedResponses(ref=ref()))
        assert isinstance(answer, CannedResponses)
        assert len(answer.responses) == 2
        assert (await http.post(base, json={"shortcut": "bad shortcut", "text": "x"})).status_code == 400
        assert (await http.get(base, headers={"Authorization": ""})).status_code == 401
        deleted = await anna.request(DeleteCannedResponse(ref=ref(), id=german["id"]))
        assert isinstance(deleted, Result)
        assert (await http.delete(f"{base}/{german['id']}")).status_code == 404
