"""Resume after a dropped connection, bounded history, leaving with a grace period, returning visitors."""

from __future__ import annotations

from protocol.messages import (
    Ack,
    Delta,
    GetTrail,
    Leave,
    MessageAdded,
    MessageUpdated,
    PageView,
    PageVisit,
    Resumed,
    Snapshot,
    Trail,
    VisitorActivity,
    VisitorChanged,
    VisitorChat,
    VisitorLeft,
    VisitorPatch,
)
from protocol.rules import Plan
from tests.fixtures.clients import AgentSocket, VisitorSocket, new_id, ref
from tests.fixtures.server import LiveServer


def _deltas(agent: AgentSocket) -> list[Delta]:
    kinds = (VisitorChanged, VisitorPatch, VisitorLeft, VisitorActivity, MessageAdded, MessageUpdated)
    return [e for e in agent.events if isinstance(e, kinds)]


async def test_resume_replays_exactly_what_was_missed(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    url = live_server.visitor_url(tenant.account_key)
    async with await VisitorSocket.connect(url) as visitor:
        first = await AgentSocket.connect(live_server.agent_ws_url, token)
        first_hello = await first.hello()
        snapshot = await first.wait_for(Snapshot)
        assert [v.id for v in snapshot.visitors] == [visitor.visitor_id]
        await visitor.send(VisitorChat(id=new_id(), text="one"))
        await first.wait_for(MessageAdded)
        await first.wait_for_visitor()
        last_seen = max(d.seq for d in _deltas(first))
        await first.ws.close()

        # Missed while disconnected:
        await visitor.send(PageView(url="https://shop.example/cart", title="Cart"))
        texts = ["two", "three", "four"]
        for text in texts:
            message_id = new_id()
            await visitor.send(VisitorChat(id=message_id, text=text))
            ack = await visitor.wait_for(Ack)  # stored; the page view before it handled
            while ack.id != message_id:
                ack = await visitor.wait_for(Ack)

        async with await AgentSocket.connect(
            live_server.agent_ws_url, token, resume_from=last_seen, epoch=first_hello.epoch
        ) as second:
            hello = await second.hello()
            resumed = await second.recv()
            assert isinstance(resumed, Resumed)
            assert resumed.from_seq == last_seen
            await second.wait_for(MessageAdded, lambda e: e.message.text == "four")
            await second.wait_for(VisitorPatch, lambda e: e.seq == resumed.seq)
            replayed = _deltas(second)
            pages = [d.page for d in replayed if isinstance(d, VisitorPatch) and isinstance(d.page, PageVisit)]
            assert [p.url for p in pages] == ["https://shop.example/cart"], "a page view carries its new page"
            seqs = [d.seq for d in replayed]
            assert seqs == list(range(last_seen + 1, last_seen + 1 + len(seqs))), "contiguous, no gap, no repeat"
            assert seqs[-1] == hello.seq == resumed.seq
            assert [d.message.text for d in replayed if isinstance(d, MessageAdded)] == texts

            # Live deltas continue right after the replay.
            await visitor.send(VisitorChat(id=new_id(), text="five"))
            live = await second.wait_for(MessageAdded)
            assert live.seq == resumed.seq + 1
            assert live.message.text == "five"


async def test_resume_from_a_seq_no_longer_kept_sends_a_fresh_snapshot(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(history_size=3)
    tenant = server.create_account(Plan.PRO)
    token = server.login(tenant.agent_email, tenant.agent_password)
    async with await VisitorSocket.connect(server.visitor_url(tenant.account_key)) as visitor:
        async with await AgentSocket.connect(server.agent_ws_url, token) as first:
            hello = await first.hello()
        for n in range(4):
            await visitor.send(VisitorChat(id=new_id(), text=f"message {n}"))
            await visitor.wait_for(Ack)
        async with await AgentSocket.connect(
            server.agent_ws_url, token, resume_from=hello.seq, epoch=hello.epoch
        ) as second:
            await second.hello()
            snapshot = await second.recv()
            assert isinstance(snapshot, Snapshot)
            assert snapshot.reason == "resume_unavailable"
            assert snapshot.seq > hello.seq
            assert [v.id for v in snapshot.visitors] == [visitor.visitor_id]
            assert snapshot.visitors[0].unread == 4

        # A seq from the future (another server's) cannot be resumed either.
        async with await AgentSocket.connect(
            server.agent_ws_url, token, resume_from=snapshot.seq + 10, epoch=hello.epoch
        ) as third:
            await third.hello()
            again = await third.recv()
            assert isinstance(again, Snapshot)
            assert again.reason == "resume_unavailable"


async def test_a_seq_of_another_epoch_is_never_resumed(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as first:
        hello = await first.hello()
    for epoch in ("another-life", None):
        async with await AgentSocket.connect(
            live_server.agent_ws_url, token, resume_from=hello.seq, epoch=epoch
        ) as again:
            assert (await again.hello()).epoch == hello.epoch
            snapshot = await again.recv()
            assert isinstance(snapshot, Snapshot), f"epoch {epoch!r} must not resume"
            assert snapshot.reason == "resume_unavailable"
    async with await AgentSocket.connect(
        live_server.agent_ws_url, token, resume_from=hello.seq, epoch=hello.epoch
    ) as same:
        await same.hello()
        assert isinstance(await same.recv(), Resumed)


async def test_visitor_leaves_after_the_grace_period(live_server_factory) -> None:  # type: ignore[no-untyped-def]
    server: LiveServer = live_server_factory(leave_grace_seconds=0.3)
    tenant = server.create_account(Plan.PRO)
    token = server.login(tenant.agent_email, tenant.agent_password)
    async with await AgentSocket.connect(server.agent_ws_url, token) as agent:
        await agent.hello()
        visitor = await VisitorSocket.connect(server.visitor_url(tenant.account_key))
        await agent.wait_for_visitor(lambda v: v.online)
        await visitor.send(Leave())
        offline = await agent.wait_for_visitor(lambda v: not v.online)
        assert offline.left_at is not None
        left = await agent.wait_for(VisitorLeft)
        assert left.visitor_id == visitor.visitor_id

        # Coming back is a new visit of the same (returning) visitor.
        async with await VisitorSocket.connect(
            server.visitor_url(tenant.account_key), visitor_id=visitor.visitor_id
        ) as back:
            returned = await agent.wait_for_visitor(lambda v: v.online)
            assert back.visitor_id == visitor.visitor_id
            assert returned.visit_count == 2


async def test_reload_within_the_grace_period_continues_the_visit(live_server: LiveServer) -> None:
    tenant = live_server.create_account(Plan.PRO)
    token = live_server.login(tenant.agent_email, tenant.agent_password)
    url = live_server.visitor_url(tenant.account_key)
    async with await AgentSocket.connect(live_server.agent_ws_url, token) as agent:
        await agent.hello()
        visitor = await VisitorSocket.connect(url, page="https://shop.example/a", title="A")
        await visitor.ws.close()
        await agent.wait_for_visitor(lambda v: not v.online)
        async with await VisitorSocket.connect(
            url, visitor_id=visitor.visitor_id, page="https://shop.example/b", title="B"
        ):
            back = await agent.wait_for_visitor(lambda v: v.online)
            assert back.visit_count == 1
            assert back.current_title == "B"
            trail = await agent.request(GetTrail(ref=ref(), visitor_id=visitor.visitor_id))
            assert isinstance(trail, Trail)
            assert [p.url for p in trail.pages] == ["https://shop.example/a", "https://shop.example/b"]
