"""The team layer across real server processes on one Redis and one PostgreSQL: what must outlive a process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from protocol.messages import Ack, MessageAdded, UnansweredAlert, VisitorChat
from server.config import normalize_database_url
from server.db import create_engine
from server.team_store import TeamStore
from tests.fixtures.clients import new_id
from tests.fixtures.cluster import Cluster, LiveAgent

pytestmark = pytest.mark.slow

ALERT_SECONDS = 10
"""The shortest re-alert time an account may set."""


async def armed(cluster: Cluster, account_id: int, visitor_id: str) -> None:
    """Wait until the re-alert of the visitor's chat is in the database."""
    engine = create_engine(normalize_database_url(cluster.database))
    try:
        for _ in range(200):
            if await TeamStore(engine).alert(account_id, visitor_id) is not None:
                return
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
    raise AssertionError(f"the re-alert of {visitor_id}'s chat was not armed within 10 s")


async def test_a_waiting_chat_alerts_again_after_the_process_that_stored_it_died(cluster: Cluster) -> None:
    s1, s2, _s3 = cluster.servers
    tenant = await cluster.create_account()
    token = await cluster.login(s2, tenant.agent_email)
    async with httpx.AsyncClient() as http:
        response = await http.put(
            f"{s2.http_url}/api/v1/team/settings",
            json={"unanswered_alert_seconds": ALERT_SECONDS},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    agent = await LiveAgent.connect(s2, token)
    await agent.wait(agent.snapshot_done, "the snapshot")
    visitor = await cluster.visitor(s1, tenant)
    vid = visitor.visitor_id
    await visitor.send(VisitorChat(id=new_id(), text="Is anybody there?"))
    await visitor.wait_for(Ack)
    await agent.wait(
        lambda: any(isinstance(d, MessageAdded) and d.message.visitor_id == vid for d in agent.deltas()),
        "the visitor's message",
    )

    # The process that stored the message armed the re-alert (in the shared database), then dies; the
    # widget reconnects elsewhere and the visitor writes nothing more.
    await armed(cluster, tenant.account_id, vid)
    s1.kill()
    await visitor.ws.close()
    back = await cluster.visitor(s2, tenant, visitor_id=vid)

    def alerts() -> list[UnansweredAlert]:
        return [e for e in agent.events if isinstance(e, UnansweredAlert) and e.visitor_id == vid]

    await agent.wait(lambda: bool(alerts()), "the re-alert from a surviving process", within=ALERT_SECONDS + 10)
    await agent.wait(lambda: len(alerts()) >= 2, "the next re-alert", within=ALERT_SECONDS + 10)
    assert len({a.waiting_since for a in alerts()}) == 1, "one waiting chat, alerted again and again"
    await back.ws.close()
    await agent.close()
