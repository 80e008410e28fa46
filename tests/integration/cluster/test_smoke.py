"""The cluster fixture itself: three processes on one Redis and one PostgreSQL, an account usable on each."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.slow


async def test_three_processes_share_accounts_and_sign_ins(cluster: Cluster) -> None:
    tenant = await cluster.create_account()
    token = await cluster.login(cluster.servers[0], tenant.agent_email)
    for server in cluster.servers:
        async with await cluster.agent(server, token) as agent:
            hello = await agent.hello()
            assert hello.account.id == tenant.account_id
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{server.http_url}/ready")).text == "ready\n"
