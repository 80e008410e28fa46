"""The team layer across two hubs (two server processes) on shared seams and one database.

Anna's socket is on hub A, Jonas's on hub B: presence, the open race, status and take-over must
reach the agent on the other process.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from protocol.messages import (
    AgentsOnline,
    Auth,
    Error,
    ErrorCode,
    OpenConversation,
    Result,
    SetStatus,
    SetViewing,
    TakenOver,
    TakeOver,
    TeamStatus,
    VisitorPresence,
)
from protocol.rules import PROTOCOL_VERSION
from server.live.hub import AgentConn, Hub
from server.outbox import Outbox
from tests.fixtures.sockets import RecordingSocket, agent_events_of, visitor_events_of
from tests.integration.server.test_two_hubs import (
    Cluster,
    cluster,
    eventually,
)

__all__ = ["cluster"]


async def connect(cluster: Cluster, hub: Hub, email: str, name: str) -> tuple[AgentConn, RecordingSocket]:
    """An agent socket on one hub (the agent is created on first use)."""
    row = await cluster.store.agent_by_email(email)
    if row is None:
        await cluster.store.add_agent(account_id=cluster.account_id, email=email, name=name, password_hash="x")
        row = await cluster.store.agent_by_email(email)
    assert row is not None
    socket = RecordingSocket()
    conn = AgentConn(Outbox(cast(Any, socket), 1000), row, "token-" + name)
    await hub.agent_connected(conn, await cluster.account(hub), Auth(token="t", protocol=PROTOCOL_VERSION))
    return conn, socket


def answers(socket: RecordingSocket, ref: str) -> list[object]:
    return [e for e in agent_events_of(socket) if getattr(e, "ref", None) == ref]


async def test_presence_status_and_take_over_reach_the_other_process(cluster: Cluster) -> None:
    hub_a, hub_b = cluster.hubs
    anna, anna_socket = await connect(cluster, hub_a, "anna@shop.example", "Anna")
    jonas, jonas_socket = await connect(cluster, hub_b, "jonas@shop.example", "Jonas")
    _tab, tab_socket = await cluster.tab(hub_a, "visitor-0001", "tab-000001")

    # Jonas (hub B) views the visitor: Anna (hub A) sees it.
    await hub_b.agent_request(jonas, SetViewing(visitor_ids=["visitor-0001"]))

    def jonas_viewing() -> bool:
        return any(
            isinstance(e, VisitorPresence) and [(a.agent_name, a.activity) for a in e.agents] == [("Jonas", "viewing")]
            for e in agent_events_of(anna_socket)
        )

    await eventually(jonas_viewing, "Jonas's presence on hub A")

    # Both open at once, each on their own process: exactly one wins.
    await asyncio.gather(
        hub_a.agent_request(anna, OpenConversation(ref="open-a", visitor_id="visitor-0001")),
        hub_b.agent_request(jonas, OpenConversation(ref="open-b", visitor_id="visitor-0001")),
    )
    await eventually(lambda: bool(answers(anna_socket, "open-a") and answers(jonas_socket, "open-b")), "answers")
    results = [*answers(anna_socket, "open-a"), *answers(jonas_socket, "open-b")]
    assert sorted(type(r).__name__ for r in results) == ["Error", "Result"]
    [lost] = [r for r in results if isinstance(r, Error)]
    assert lost.code is ErrorCode.CONVERSATION_HELD
    anna_won = isinstance(answers(anna_socket, "open-a")[0], Result)
    winner, winner_socket, loser, loser_hub = (
        (anna, anna_socket, jonas, hub_b) if anna_won else (jonas, jonas_socket, anna, hub_a)
    )
    assert lost.message.startswith(f"{winner.agent.name} is chatting")

    # The loser takes over on their process; the winner, on the other, is told.
    await loser_hub.agent_request(loser, TakeOver(ref="take", visitor_id="visitor-0001"))

    def told() -> list[TakenOver]:
        return [e for e in agent_events_of(winner_socket) if isinstance(e, TakenOver)]

    await eventually(lambda: bool(told()), "the take-over announced on the other hub")
    assert (told()[0].from_agent_name, told()[0].by_agent_name) == (winner.agent.name, loser.agent.name)

    # Jonas goes Away on hub B: Anna sees it on hub A; with Anna Away too, the widget hears nobody is online.
    await hub_b.agent_request(jonas, SetStatus(ref="away-b", status="away"))

    def jonas_away() -> bool:
        return any(
            isinstance(e, TeamStatus) and any(a.name == "Jonas" and a.status == "away" for a in e.agents)
            for e in agent_events_of(anna_socket)
        )

    await eventually(jonas_away, "Jonas Away on hub A")
    await hub_a.agent_request(anna, SetStatus(ref="away-a", status="away"))
    await eventually(
        lambda: any(isinstance(e, AgentsOnline) and not e.online for e in visitor_events_of(tab_socket)),
        "the widget told nobody is online",
    )
    assert await hub_a.seams.presence.agents(cluster.account_id) == 0
