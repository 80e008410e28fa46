"""The team layer's SQL on PostgreSQL: exactly one winner of simultaneous opens, take-over, notes, canned."""

from __future__ import annotations

import asyncio

import pytest

from protocol.messages import (
    AddNote,
    CannedResponses,
    CannedResponseSpec,
    Error,
    ErrorCode,
    GetCannedResponses,
    GetNotes,
    Hello,
    Notes,
    OpenConversation,
    Result,
    SaveCannedResponse,
    SetStatus,
    TakeOver,
    TeamStatus,
    VisitorChanged,
)
from protocol.rules import Plan
from server.embedded import EmbeddedServer
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.postgres import postgres_cluster, postgres_url
from tests.fixtures.server import DEFAULT_PASSWORD, LiveServer

__all__ = ["postgres_cluster", "postgres_url"]


@pytest.mark.slow
async def test_team_layer_on_postgresql(postgres_url: str) -> None:
    server = EmbeddedServer(postgres_url)
    server.start()
    try:
        live = LiveServer(server)
        tenant = live.create_account(Plan.PRO)
        live.add_agent(tenant.account_id, "jonas@pg.example", DEFAULT_PASSWORD, "Jonas")
        tokens = [
            live.login(tenant.agent_email, DEFAULT_PASSWORD),
            live.login("jonas@pg.example", DEFAULT_PASSWORD),
        ]
        anna = await AgentSocket.connect(live.agent_ws_url, tokens[0])
        jonas = await AgentSocket.connect(live.agent_ws_url, tokens[1])
        async with anna, jonas:
            for agent in (anna, jonas):
                await agent.wait_for(TeamStatus)
            for _ in range(10):
                async with await VisitorSocket.connect(live.visitor_url(tenant.account_key)) as visitor:
                    vid = visitor.visitor_id
                    await anna.wait_for(VisitorChanged, lambda e: e.visitor.id == vid)  # noqa: B023
                    answers = await asyncio.gather(
                        anna.request(OpenConversation(ref=ref(), visitor_id=vid)),
                        jonas.request(OpenConversation(ref=ref(), visitor_id=vid)),
                    )
                    assert sorted(type(a).__name__ for a in answers) == ["Error", "Result"], answers
                    lost = next(a for a in answers if isinstance(a, Error))
                    assert lost.code is ErrorCode.CONVERSATION_HELD
                    loser = jonas if isinstance(answers[1], Error) else anna
                    assert isinstance(await loser.request(TakeOver(ref=ref(), visitor_id=vid)), Result)
                    note = AddNote(ref=ref(), id=new_id("n"), visitor_id=vid, text="on PostgreSQL")
                    assert isinstance(await loser.request(note), Result)
                    notes = await anna.request(GetNotes(ref=ref(), visitor_id=vid))
                    assert isinstance(notes, Notes)
                    assert [n.text for n in notes.notes] == ["on PostgreSQL"]
            spec = CannedResponseSpec(shortcut="hi", text="Hello {visitor_name}")
            assert isinstance(await anna.request(SaveCannedResponse(ref=ref(), response=spec)), Result)
            canned = await jonas.request(GetCannedResponses(ref=ref()))
            assert isinstance(canned, CannedResponses)
            assert [c.shortcut for c in canned.responses] == ["hi"]
            assert isinstance(await anna.request(SetStatus(ref=ref(), status="away")), Result)
        # The status survives a reconnect (it is stored).
        async with await AgentSocket.connect(live.agent_ws_url, tokens[0]) as again:
            team = await again.wait_for(TeamStatus)
            hello = next(e for e in again.events if isinstance(e, Hello))
            me = next(a for a in team.agents if a.id == hello.agent.id)
            assert me.status == "away"
    finally:
        server.stop()
