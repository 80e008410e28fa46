"""Three real server processes on one Redis and one PostgreSQL: deltas, crashes, rules, bans, plans, Redis restarts.

Every socket here is a real websocket to a real ``frontdesk-server serve`` process; the processes
share nothing but Redis and the database, as on separate machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from desktop.core.store import VisitorStore
from protocol.codec import encode
from protocol.messages import (
    Ack,
    Ban,
    Banned,
    ChatMessage,
    CloseCode,
    Delta,
    Error,
    ErrorCode,
    Identify,
    MessageAdded,
    PageView,
    Result,
    Resumed,
    SendMessage,
    Snapshot,
    Visitor,
    VisitorChanged,
    VisitorChat,
    VisitorLeft,
    VisitorMessage,
)
from protocol.rules import Plan
from tests.fixtures.clients import VisitorSocket, new_id, ref
from tests.fixtures.cluster import LEASE_SECONDS, LEAVE_GRACE_SECONDS, Cluster, ClusterTenant, LiveAgent, ServerProcess
from tests.fixtures.redis import RedisServer

pytestmark = pytest.mark.slow

SOON = 1.0 * float(os.environ.get("FRONTDESK_TEST_TIME_FACTOR", "1") or 1)
"""What "within 1 s" allows (slow CI machines set FRONTDESK_TEST_TIME_FACTOR)."""


async def _log_position(redis: RedisServer, account_id: int) -> int:
    """The account's last seq, read from Redis itself."""
    from server.live.redis.connection import RedisLink  # noqa: PLC0415
    from server.live.redis.log import RedisDeltaLog  # noqa: PLC0415

    link = RedisLink(redis.url)
    try:
        return (await RedisDeltaLog(link, 10).position(account_id)).seq
    finally:
        await link.aclose()


async def _quiet_position(cluster: Cluster, account_id: int) -> int:
    """The log position once it stopped moving for half a second (all queued work appended)."""
    last = -1
    while True:
        seq = await _log_position(cluster.redis, account_id)
        if seq == last:
            return seq
        last = seq
        await asyncio.sleep(0.5)


async def _messages(server: ServerProcess, token: str, visitor_id: str) -> list[ChatMessage]:
    async with httpx.AsyncClient() as http:
        response = await http.get(
            f"{server.http_url}/api/v1/visitors/{visitor_id}/messages", headers={"Authorization": f"Bearer {token}"}
        )
    response.raise_for_status()
    return [ChatMessage(**m) for m in response.json()]


def _deltas_after(agent: LiveAgent, after: int) -> list[Delta]:
    return [d for d in agent.deltas() if d.seq > after]


def _assert_contiguous(deltas: list[Delta], first: int, last: int, who: str) -> None:
    seqs = [d.seq for d in deltas]
    assert seqs == list(range(first, last + 1)), f"{who}: seqs not contiguous from {first} to {last}: {seqs[:20]}"


def _store_of(agent: LiveAgent) -> VisitorStore:
    store = VisitorStore()
    for event in agent.events:
        store.apply(event)
    return store


async def _snapshot(server: ServerProcess, token: str) -> tuple[int, dict[str, Visitor]]:
    """A fresh agent's snapshot (every page): its seq and visitors by id."""
    fresh = await LiveAgent.connect(server, token)
    try:
        await fresh.wait(fresh.snapshot_done, "the last snapshot page")
        first = next(e for e in fresh.events if isinstance(e, Snapshot))
        return first.seq, {v.id: v for v in fresh.snapshot_visitors()}
    finally:
        await fresh.close()


async def test_every_agent_gets_every_delta_in_order_and_the_store_matches_a_snapshot(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s1, tenant.agent_email)
    a1 = await LiveAgent.connect(s1, token)
    a2 = await LiveAgent.connect(s2, token)
    visitors = [
        await VisitorSocket.connect(
            cluster.servers[i % 3].visitor_url(tenant.account_key), page=f"https://shop.example/start/{i}"
        )
        for i in range(9)
    ]
    # Visitor 0 opens a second tab on another process: still one visitor.
    second_tab = await VisitorSocket.connect(
        s2.visitor_url(tenant.account_key), visitor_id=visitors[0].visitor_id, page="https://shop.example/tab2"
    )
    for step in range(3):
        for i, visitor in enumerate(visitors):
            await visitor.send(PageView(url=f"https://shop.example/p/{i}/{step}", title=f"Page {step}"))
    await visitors[1].send(VisitorChat(id=new_id("m"), text="hello from visitor 1"))
    await visitors[1].wait_for(Ack)
    answer = await a2.request(SendMessage(ref=ref(), visitor_id=visitors[2].visitor_id, id=new_id("m"), text="hi"))
    assert isinstance(answer, Result)
    await visitors[2].wait_for(VisitorMessage)
    await visitors[3].ws.close()  # offline now, gone after the grace period
    await second_tab.ws.close()  # visitor 0 keeps its first tab: stays online
    await a1.wait(
        lambda: any(isinstance(d, VisitorLeft) and d.visitor_id == visitors[3].visitor_id for d in a1.deltas()),
        "visitor 3 leaving",
        within=LEAVE_GRACE_SECONDS + 5,
    )
    last = await _quiet_position(cluster, tenant.account_id)
    await a1.until_seq(last)
    await a2.until_seq(last)

    log1 = _deltas_after(a1, a1.hello.seq)
    log2 = _deltas_after(a2, a2.hello.seq)
    _assert_contiguous(log1, a1.hello.seq + 1, last, "agent on process 1")
    _assert_contiguous(log2, a2.hello.seq + 1, last, "agent on process 2")
    assert log2 == [d for d in log1 if d.seq > a2.hello.seq]  # identical logs
    assert len(log1) > 9 * 3

    store = _store_of(a1)
    seq, snapshot = await _snapshot(s3, token)
    assert seq == last
    assert dict(store.visitors) == snapshot
    assert visitors[3].visitor_id not in store.visitors
    assert store.visitors[visitors[0].visitor_id].online
    for visitor in visitors:
        await visitor.ws.close()
    await a1.close()
    await a2.close()


async def test_a_process_killed_mid_stream_loses_nothing(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s3, tenant.agent_email)
    witness = await LiveAgent.connect(s3, token)  # on a process that stays up throughout
    doomed = await LiveAgent.connect(s1, token)
    on_s1 = await VisitorSocket.connect(s1.visitor_url(tenant.account_key), page="https://shop.example/s1")
    on_s2 = await VisitorSocket.connect(s2.visitor_url(tenant.account_key), page="https://shop.example/s2")
    sent: list[str] = []
    acked: list[str] = []

    async def chat(visitor: VisitorSocket, n: int) -> None:
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            for i in range(n):
                message_id = new_id("m")
                sent.append(message_id)
                await visitor.send(VisitorChat(id=message_id, text=f"message {i}"))
                ack = await visitor.wait_for(Ack, lambda a, m=message_id: a.id == m)  # type: ignore[misc]
                acked.append(ack.id)
                await visitor.send(PageView(url=f"https://shop.example/p{i}", title="P"))

    talker = asyncio.create_task(chat(on_s1, 10_000))  # stopped by the kill
    await doomed.wait(lambda: len(doomed.deltas()) >= 20, "deltas before the kill")
    cluster.servers[0].kill()
    await talker
    await doomed.wait(lambda: doomed.ended, "the killed process's socket closing")
    before_kill = doomed.last_seq()

    # The widget reconnects elsewhere and resends what was not acknowledged (same ids: stored once).
    moved = await VisitorSocket.connect(
        s2.visitor_url(tenant.account_key), visitor_id=on_s1.visitor_id, page="https://shop.example/moved"
    )
    for message_id in [m for m in sent if m not in acked]:
        await moved.send(VisitorChat(id=message_id, text="resent"))
        await moved.wait_for(Ack, lambda a, m=message_id: a.id == m)  # type: ignore[misc]
    await on_s2.send(PageView(url="https://shop.example/after", title="After"))

    # The agent resumes on another process with exactly the deltas it missed.
    resumed = await LiveAgent.connect(s2, token, resume_from=before_kill, epoch=doomed.hello.epoch)
    await resumed.wait(lambda: any(isinstance(e, Resumed | Snapshot) for e in resumed.events), "resume")
    answer = next(e for e in resumed.events if isinstance(e, Resumed | Snapshot))
    assert isinstance(answer, Resumed), answer
    assert answer.from_seq == before_kill
    last = await _quiet_position(cluster, tenant.account_id)
    await resumed.until_seq(last)
    await witness.until_seq(last)
    combined = _deltas_after(doomed, witness.hello.seq) + _deltas_after(resumed, before_kill)
    assert combined == _deltas_after(witness, witness.hello.seq)
    _assert_contiguous(combined, witness.hello.seq + 1, last, "killed agent, resumed")

    stored = await _messages(s2, token, on_s1.visitor_id)
    stored_ids = [m.id for m in stored if m.author == "visitor"]
    assert len(stored_ids) == len(set(stored_ids))  # once each
    assert set(acked) <= set(stored_ids)
    assert set(sent) == set(stored_ids)  # the resent ones too

    await on_s2.ws.close()
    await moved.ws.close()
    await witness.close()
    await resumed.close()


async def test_a_dead_process_s_visitors_leave_after_lease_and_grace(cluster: Cluster) -> None:
    s1, _s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s3, tenant.agent_email)
    witness = await LiveAgent.connect(s3, token)
    stranded = [await VisitorSocket.connect(s1.visitor_url(tenant.account_key)) for _ in range(3)]
    ids = {v.visitor_id for v in stranded}
    await witness.wait(lambda: ids <= {v for v in _store_of(witness).visitors}, "the visitors of process 1")
    killed_at = asyncio.get_running_loop().time()
    s1.kill()

    def left() -> list[str]:
        return [d.visitor_id for d in witness.deltas() if isinstance(d, VisitorLeft)]

    await witness.wait(lambda: ids <= set(left()), "the stranded visitors leaving", within=LEASE_SECONDS + 10)
    took = asyncio.get_running_loop().time() - killed_at
    assert sorted(left()) == sorted(ids)  # one visitor_left each
    assert took >= LEAVE_GRACE_SECONDS  # not before the grace period
    assert ids.isdisjoint(_store_of(witness).visitors)
    await witness.close()


async def test_fifty_visitors_on_two_processes_matching_a_rule_at_once_get_one_message_each(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    await cluster.admin(
        "rule", "add", "--account-id", str(tenant.account_id), "--name", "Offer", "--message", "10% off today",
        "--url-contains", "/offer",
    )  # fmt: skip
    token = await cluster.login(s3, tenant.agent_email)
    agent = await LiveAgent.connect(s3, token)  # rules fire only while an agent is online
    first_tabs = [await VisitorSocket.connect(s1.visitor_url(tenant.account_key)) for _ in range(50)]
    second_tabs = [
        await VisitorSocket.connect(s2.visitor_url(tenant.account_key), visitor_id=v.visitor_id) for v in first_tabs
    ]
    await asyncio.gather(
        *(tab.send(PageView(url="https://shop.example/offer", title="Offer")) for tab in [*first_tabs, *second_tabs])
    )

    def auto_messages() -> list[MessageAdded]:
        return [d for d in agent.deltas() if isinstance(d, MessageAdded) and d.message.author == "auto"]

    await agent.wait(lambda: len(auto_messages()) >= 50, "50 automatic messages", within=30)
    await _quiet_position(cluster, tenant.account_id)
    await asyncio.sleep(1)  # a second firing would have had time to arrive
    by_visitor = [m.message.visitor_id for m in auto_messages()]
    assert sorted(by_visitor) == sorted(v.visitor_id for v in first_tabs)  # 50 firings, one each
    for tab in first_tabs[:5]:
        stored = await _messages(s1, token, tab.visitor_id)
        assert [m.text for m in stored if m.author == "auto"] == ["10% off today"]
    for tab in [*first_tabs, *second_tabs]:
        await tab.ws.close()
    await agent.close()


async def _closed_with(visitor: VisitorSocket, within: float) -> tuple[list[object], int | None]:
    """Frames until the server closed the socket, and the close code."""
    frames: list[object] = []
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                frames.append(await visitor.recv(within))
    return frames, visitor.ws.close_code


async def test_a_ban_closes_the_visitor_s_tabs_on_every_process_and_refuses_reconnects(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s1, tenant.agent_email)
    agent = await LiveAgent.connect(s1, token)
    first = await VisitorSocket.connect(s1.visitor_url(tenant.account_key))
    tabs = [first] + [
        await VisitorSocket.connect(s.visitor_url(tenant.account_key), visitor_id=first.visitor_id) for s in (s2, s3)
    ]
    answer = await agent.request(Ban(ref=ref(), visitor_id=first.visitor_id, reason="spam"))
    assert isinstance(answer, Result)
    for tab in tabs:
        frames, code = await _closed_with(tab, SOON)
        assert any(isinstance(f, Banned) for f in frames)
        assert code is not None
    for server in cluster.servers:
        with pytest.raises(ConnectionRefusedError):
            await VisitorSocket.connect(server.visitor_url(tenant.account_key), visitor_id=first.visitor_id)
    await agent.close()


async def test_logout_and_plan_changes_reach_every_process(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account(Plan.PRO)
    token = await cluster.login(s1, tenant.agent_email)
    agents = [await LiveAgent.connect(s, token) for s in cluster.servers]
    assert all(a.hello.capabilities.auto_messages for a in agents)

    # A plan change from the admin command line: every process's agents reconnect to learn it.
    await cluster.admin("account", "set-plan", "--account-id", str(tenant.account_id), "--plan", "free")
    for agent in agents:
        await agent.wait(lambda a=agent: a.ended, "the plan change closing the socket", within=SOON)  # type: ignore[misc]
        assert agent.ws.close_code == 1012
    again = [await LiveAgent.connect(s, token) for s in cluster.servers]
    assert not any(a.hello.capabilities.auto_messages for a in again)

    # Signing out on one process closes the token's sockets on every process.
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{s3.http_url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    for agent in again:
        await agent.wait(lambda a=agent: a.ended, "the sign-out closing the socket", within=SOON)  # type: ignore[misc]
        assert any(isinstance(e, Error) and e.code == ErrorCode.UNAUTHORIZED for e in agent.events)
        assert agent.ws.close_code == CloseCode.UNAUTHORIZED
    with pytest.raises(AssertionError):
        await LiveAgent.connect(s2, token)


async def test_a_redis_restart_gives_resume_unavailable_and_a_correct_snapshot(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s1, tenant.agent_email)
    agent = await LiveAgent.connect(s2, token)
    visitor = await VisitorSocket.connect(s1.visitor_url(tenant.account_key))
    await visitor.send(PageView(url="https://shop.example/before", title="Before"))
    await agent.until_seq(await _quiet_position(cluster, tenant.account_id))
    held = agent.last_seq()

    cluster.redis.restart()  # every key is gone: the logs, presence, leases
    # Every process notices (its log feed, its next lease renewal) and closes its sockets, so that agents
    # resume and widgets register their visitors again.
    await agent.wait(lambda: agent.ended, "the reset closing the agent's socket", within=15)
    _frames, code = await _closed_with(visitor, 15)
    assert code == 1012
    for server in cluster.servers:
        await server.wait_ready()
    await asyncio.sleep(2)  # every process has renewed its lease since (once a second)

    reconnected = await VisitorSocket.connect(
        s1.visitor_url(tenant.account_key), visitor_id=visitor.visitor_id, page="https://shop.example/after"
    )
    back = await LiveAgent.connect(s2, token, resume_from=held, epoch=agent.hello.epoch)
    await back.wait(back.snapshot_done, "a snapshot")
    answer = next(e for e in back.events if isinstance(e, Resumed | Snapshot))
    assert isinstance(answer, Snapshot), "a seq of the lost log must never resume"
    assert answer.reason == "resume_unavailable"
    assert answer.seq > held
    assert back.hello.epoch != agent.hello.epoch
    assert visitor.visitor_id in {v.id for v in back.snapshot_visitors()}

    # The snapshot and the deltas after it agree with a fresh snapshot: no delta of the old log survives.
    await reconnected.send(PageView(url="https://shop.example/later", title="Later"))
    last = await _quiet_position(cluster, tenant.account_id)
    await back.until_seq(last)
    store = _store_of(back)
    _seq, snapshot = await _snapshot(s3, token)
    assert dict(store.visitors) == snapshot
    assert store.visitors[visitor.visitor_id].current_url == "https://shop.example/later"
    await reconnected.ws.close()
    await back.close()


__all__ = ["ClusterTenant"]


async def test_an_erasure_from_the_command_line_reaches_presence_and_the_replay_history(cluster: Cluster) -> None:
    s1, s2, s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s2, tenant.agent_email)
    agent = await LiveAgent.connect(s2, token)
    await agent.wait(agent.snapshot_done, "the snapshot")
    visitor = await cluster.visitor(s1, tenant)
    vid = visitor.visitor_id
    await visitor.send(Identify(name="Grace Hopper", email="grace@example.com"))
    await visitor.send(VisitorChat(id=new_id(), text="my order 4711"))
    await visitor.wait_for(Ack)
    await agent.wait(
        lambda: any(isinstance(d, MessageAdded) and d.message.visitor_id == vid for d in agent.deltas()),
        "the visitor's message",
    )
    before = agent.last_seq()

    # The command line reaches only SQL and Redis; the process holding the visitor erases them live.
    erased = await cluster.admin("visitor", "erase", "--account-id", str(tenant.account_id), "--visitor-id", vid)
    assert erased == {"visitor_id": vid, "erased": True, "live": "told every running server process"}

    def after() -> list[Delta]:
        return [d for d in agent.deltas() if d.seq > before]

    def anonymous() -> bool:
        return any(isinstance(d, VisitorChanged) and d.visitor.id == vid and d.visitor.name is None for d in after())

    await agent.wait(anonymous, "the visitor turning anonymous")
    assert any(isinstance(d, VisitorLeft) and d.visitor_id == vid for d in after())
    # A fresh agent on a third process sees the anonymous visitor still on the site.
    fresh = await LiveAgent.connect(s3, token)
    await fresh.wait(fresh.snapshot_done, "the snapshot")
    (listed,) = [v for v in fresh.snapshot_visitors() if v.id == vid]
    assert (listed.name, listed.email) == (None, None)
    # Resuming from before the erasure replays nothing that held them: a fresh snapshot comes instead.
    resumed = await LiveAgent.connect(s3, token, resume_from=before, epoch=agent.hello.epoch)
    await resumed.wait(resumed.snapshot_done, "the snapshot")
    snapshot = next(e for e in resumed.events if isinstance(e, Snapshot))
    assert snapshot.reason == "resume_unavailable"
    assert "Grace" not in encode(snapshot).decode()
    for socket in (agent, fresh, resumed):
        await socket.close()
    await visitor.ws.close()
