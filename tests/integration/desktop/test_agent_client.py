"""The real AgentClient and sign-in against a real server on port 0, with real visitor sockets."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from desktop.core.store import Changes, VisitorStore
from desktop.net.auth import AuthError, check_server, login, logout
from desktop.net.client import AgentClient, ConnectionState, RequestError
from protocol.messages import (
    Ack,
    ChatMessage,
    Error,
    GetHistory,
    History,
    OpenConversation,
    PageView,
    Result,
    SendMessage,
    Snapshot,
    VisitorChat,
    VisitorMessage,
)
from protocol.rules import PROTOCOL_VERSION, Plan
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id
from tests.fixtures.server import LiveServer, Tenant
from tests.integration.desktop.proxy import CuttableProxy

TIMEOUT = 15.0


def fast_delays() -> Iterator[float]:
    """Reconnect quickly in tests (the real backoff starts at up to 1 s and grows)."""
    while True:
        yield 0.05


async def eventually(predicate: Callable[[], object], what: str) -> None:
    """Poll until ``predicate()`` holds; fail naming ``what`` after TIMEOUT seconds."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {TIMEOUT}s waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Recorder:
    """Drains the store like the UI's dispatcher does, keeping everything it saw."""

    store: VisitorStore
    states: list[ConnectionState] = field(default_factory=list)
    errors: list[Error] = field(default_factory=list)
    batches: list[Changes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.store.on_dirty = self.schedule

    def schedule(self) -> None:
        asyncio.get_running_loop().call_soon(self.drain)

    def drain(self) -> None:
        changes = self.store.take_changes()
        if changes:
            self.batches.append(changes)

    def messages(self) -> list[ChatMessage]:
        return [m for batch in self.batches for m in batch.messages]

    def arrived(self) -> list[str]:
        return [vid for batch in self.batches for vid in batch.arrived]


class Agent:
    """An AgentClient running on the test's loop with a recorder attached."""

    def __init__(self, server_url: str, token: str) -> None:
        self.store = VisitorStore()
        self.recorder = Recorder(self.store)
        self.client = AgentClient(
            server_url,
            token,
            self.store,
            on_state=self.recorder.states.append,
            on_error=self.recorder.errors.append,
            delays=fast_delays,
        )
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Agent:
        self.task = asyncio.get_running_loop().create_task(self.client.run())
        await eventually(lambda: self.client.state is ConnectionState.ONLINE, "the client to be online")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        if self.task is not None:
            await asyncio.wait_for(self.task, TIMEOUT)


async def sign_in(live: LiveServer, plan: Plan = Plan.PRO) -> tuple[Tenant, str]:
    tenant = live.create_account(plan)
    response = await login(live.http_url, tenant.agent_email, tenant.agent_password)
    return tenant, response.token


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def fresh_snapshot(live: LiveServer, token: str) -> Snapshot:
    """What a newly connecting agent would get right now."""
    async with await AgentSocket.connect(live.agent_ws_url, token) as agent:
        return await agent.wait_for(Snapshot)


# ---------------------------------------------------------------- sign-in


async def test_login_returns_a_token_and_who_we_are(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.STANDARD)
    health = await check_server(live_server.http_url)
    assert health.protocol == PROTOCOL_VERSION
    response = await login(live_server.http_url + "/", tenant.agent_email, tenant.agent_password)
    assert response.token
    assert response.agent.email == tenant.agent_email
    assert response.account.plan is Plan.STANDARD
    assert response.capabilities.proactive_chat


async def test_wrong_password(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    with pytest.raises(AuthError) as info:
        await login(live_server.http_url, tenant.agent_email, "not the password")
    assert info.value.kind == "wrong_password"
    assert "password" in info.value.message


async def test_unreachable_server() -> None:
    with pytest.raises(AuthError) as info:
        await login(f"http://127.0.0.1:{closed_port()}", "a@example.com", "pw")
    assert info.value.kind == "unreachable"
    assert "Cannot reach" in info.value.message
    with pytest.raises(AuthError) as info:
        await check_server("not a url")
    assert info.value.kind == "unreachable"


async def test_logout_revokes_the_token(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server)
    await logout(live_server.http_url, token)
    with pytest.raises(AuthError) as info:
        await logout(live_server.http_url, token)
    assert info.value.kind == "revoked"
    assert tenant.agent_email


# ---------------------------------------------------------------- live list


async def test_snapshot_then_a_new_visitor_arrives_as_a_delta(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server)
    url = live_server.visitor_url(tenant.account_key)
    async with (
        await VisitorSocket.connect(url, page="https://shop.example/a", title="A") as first,
        Agent(live_server.http_url, token) as agent,
    ):
        assert list(agent.store.visitors) == [first.visitor_id]
        assert agent.recorder.states[:2] == [ConnectionState.CONNECTING, ConnectionState.ONLINE]
        snapshot_seq = agent.store.seq
        async with await VisitorSocket.connect(url, page="https://shop.example/b", title="<b>B</b>") as second:
            await eventually(lambda: second.visitor_id in agent.store.visitors, "the second visitor")
            assert agent.store.visitors[second.visitor_id].current_title == "<b>B</b>"
            assert agent.store.seq > snapshot_seq
            await eventually(lambda: second.visitor_id in agent.recorder.arrived(), "an arrival")
            assert first.visitor_id not in agent.recorder.arrived()


async def test_requests_are_answered_by_ref(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server, Plan.FREE)
    async with (
        await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
        Agent(live_server.http_url, token) as agent,
    ):
        with pytest.raises(RequestError) as info:
            await agent.client.request(OpenConversation(ref="open-1", visitor_id=visitor.visitor_id))
        assert info.value.error.code == "plan_required"
        assert info.value.error.ref == "open-1"
        refused = SendMessage(ref="send-1", id=new_id("a"), visitor_id=visitor.visitor_id, text="hi")
        with pytest.raises(RequestError) as info:
            await agent.client.request(refused)
        assert info.value.error.code == "plan_required"
        assert agent.client.queued == []  # refused for good: never resent
        await visitor.send(VisitorChat(id=new_id("m"), text="hello <script>"))
        await eventually(lambda: agent.store.messages_for(visitor.visitor_id), "the visitor's message")
        answer = await agent.client.request(GetHistory(ref="h-1", visitor_id=visitor.visitor_id))
        assert isinstance(answer, History)
        assert [m.text for m in answer.messages] == ["hello <script>"]


async def test_offline_requests_fail_at_once_but_messages_wait(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server)
    client = AgentClient(live_server.http_url, token, VisitorStore())
    with pytest.raises(RequestError) as info:
        await client.request(GetHistory(ref="h", visitor_id="visitor-00000001"))
    assert info.value.offline
    assert tenant.plan is Plan.PRO


# ---------------------------------------------------------------- reconnect


async def test_reconnect_resumes_without_loss_or_duplicates(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server)
    proxy = CuttableProxy("127.0.0.1", int(live_server.http_url.rsplit(":", 1)[1]))
    await proxy.start()
    url = live_server.visitor_url(tenant.account_key)
    try:
        async with (
            await VisitorSocket.connect(url, page="https://shop.example/") as visitor,
            Agent(proxy.http_url, token) as agent,
        ):
            sent: list[str] = []

            async def chat(n: int) -> None:
                """Browse and write; the server's ack means both frames were handled (a socket is ordered)."""
                for _ in range(n):
                    message_id = new_id("m")
                    sent.append(message_id)
                    await visitor.send(PageView(url=f"https://shop.example/p{len(sent)}", title=f"P{len(sent)}"))
                    await visitor.send(VisitorChat(id=message_id, text=f"message {len(sent)}"))
                    ack = await visitor.wait_for(Ack)
                    assert ack.id == message_id

            await chat(3)
            await eventually(lambda: len(agent.store.messages_for(visitor.visitor_id)) == 3, "three messages")
            # The network fails; the website keeps going meanwhile, and a second visitor comes and stays.
            proxy.refusing = True
            proxy.cut()
            await eventually(lambda: agent.client.state is ConnectionState.RECONNECTING, "reconnecting")
            await chat(4)
            async with await VisitorSocket.connect(url, page="https://shop.example/late") as late:
                await late.send(VisitorChat(id=new_id("m"), text="late"))
                await late.wait_for(Ack)
                proxy.refusing = False
                await eventually(lambda: agent.client.connections == 2, "the second sync")
                await chat(2)
                snapshot = await fresh_snapshot(live_server, token)
                await eventually(lambda: agent.store.seq >= snapshot.seq, "the client to catch up")
                assert agent.store.seq == snapshot.seq
                assert agent.recorder.states.count(ConnectionState.ONLINE) == 2
                assert agent.store.visitors == {v.id: v for v in snapshot.visitors}
                ids = [m.id for m in agent.store.messages_for(visitor.visitor_id)]
                assert ids == sent
                seen = Counter(m.id for m in agent.recorder.messages())
                assert all(count == 1 for count in seen.values()), seen
                assert set(seen) == {*sent, *(m.id for m in agent.store.messages_for(late.visitor_id))}
                assert agent.store.visitors[visitor.visitor_id].current_title == f"P{len(sent)}"
                assert late.visitor_id in agent.recorder.arrived()
    finally:
        await proxy.stop()


async def test_messages_sent_offline_are_delivered_exactly_once(live_server: LiveServer) -> None:
    tenant, token = await sign_in(live_server)
    proxy = CuttableProxy("127.0.0.1", int(live_server.http_url.rsplit(":", 1)[1]))
    await proxy.start()
    try:
        async with (
            await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)) as visitor,
            Agent(proxy.http_url, token) as agent,
        ):
            vid = visitor.visitor_id
            assert isinstance(await agent.client.request(OpenConversation(ref="o1", visitor_id=vid)), Result)
            # 1. Written while offline: queued, sent after the reconnect.
            proxy.refusing = True
            proxy.cut()
            await eventually(lambda: not agent.client.online, "offline")
            offline = SendMessage(ref="s1", id=new_id("a"), visitor_id=vid, text="sent while offline")
            pending = asyncio.ensure_future(agent.client.request(offline))
            await eventually(lambda: agent.client.queued == [offline], "the message to be queued")
            assert not pending.done()
            proxy.refusing = False
            assert isinstance(await asyncio.wait_for(pending, TIMEOUT), Result)
            # 2. Sent, stored and delivered, but the answer is lost: the resend must not deliver it twice.
            proxy.dropping_replies = True
            lost = SendMessage(ref="s2", id=new_id("a"), visitor_id=vid, text="answer lost")
            pending = asyncio.ensure_future(agent.client.request(lost))
            got = await visitor.wait_for(VisitorMessage)
            assert got.message.text == "sent while offline"
            got = await visitor.wait_for(VisitorMessage)
            assert got.message.id == lost.id
            assert not pending.done()
            proxy.dropping_replies = False
            proxy.cut()
            assert isinstance(await asyncio.wait_for(pending, TIMEOUT), Result)
            # A marker sent afterwards proves nothing else reached the visitor in between.
            marker = SendMessage(ref="s3", id=new_id("a"), visitor_id=vid, text="marker")
            await agent.client.request(marker)
            got = await visitor.wait_for(VisitorMessage)
            assert got.message.id == marker.id
            texts = [e.message.text for e in visitor.events if isinstance(e, VisitorMessage)]
            assert texts == ["sent while offline", "answer lost", "marker"]
            agent_ids = [m.id for m in agent.store.messages_for(vid) if m.author == "agent"]
            assert agent_ids == [offline.id, lost.id, marker.id]
    finally:
        await proxy.stop()


async def test_revoked_token_stops_the_client(live_server: LiveServer) -> None:
    _tenant, token = await sign_in(live_server)
    async with Agent(live_server.http_url, token) as agent:
        await logout(live_server.http_url, token)
        assert agent.task is not None
        await asyncio.wait_for(asyncio.shield(agent.task), TIMEOUT)
        assert agent.client.state is ConnectionState.UNAUTHORIZED
        assert agent.client.connections == 1
        assert agent.recorder.states[-1] is ConnectionState.UNAUTHORIZED
        assert ConnectionState.RECONNECTING not in agent.recorder.states
