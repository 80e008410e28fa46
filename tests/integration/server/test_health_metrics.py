"""What a load balancer and a monitoring system use: /health, /ready, /metrics, and the --redis options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from server.embedded import EmbeddedServer
from tests.fixtures.clients import VisitorSocket
from tests.fixtures.redis import RedisServer, redis_server, redis_url
from tests.fixtures.server import LiveServer

__all__ = ["redis_server", "redis_url"]


async def test_health_ready_and_metrics_of_one_process(live_server: LiveServer) -> None:
    tenant = live_server.create_account()
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        assert (await http.get("/health")).text == "ok\n"
        assert (await http.get("/ready")).text == "ready\n"
        async with await VisitorSocket.connect(live_server.visitor_url(tenant.account_key)):
            scraped = await http.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    lines = scraped.text.splitlines()
    assert 'frontdesk_sockets{kind="visitor"} 1.0' in lines
    assert 'frontdesk_sockets{kind="agent"} 0.0' in lines
    assert "# TYPE frontdesk_deltas_total counter" in lines
    assert "# TYPE frontdesk_delta_delivery_seconds histogram" in lines


@pytest.mark.slow
def test_ready_says_when_redis_is_gone(tmp_path: Path, redis_url: str, redis_server: RedisServer) -> None:
    server = EmbeddedServer(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}", port=0, redis_url=redis_url)
    server.start()
    try:
        assert httpx.get(f"{server.http_url}/ready").status_code == 200
        redis_server.stop()
        refused = httpx.get(f"{server.http_url}/ready")
        assert refused.status_code == 503
        assert refused.text == "not ready: redis\n"
        assert httpx.get(f"{server.http_url}/health").status_code == 200  # alive all the same
        redis_server.start()
        again = httpx.get(f"{server.http_url}/ready")
        assert again.status_code == 200, again.text
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--redis", "localhost:6379"], "is not a Redis URL; use redis://HOST:PORT/0"),
        (["--redis", "redis://127.0.0.1:1/0"], "--redis needs a database every process shares"),
        (
            ["--redis", "redis://127.0.0.1:1/0", "--database", "postgresql://x@127.0.0.1:1/x", "--lease", "0"],
            "--lease must be at least 3 seconds",
        ),
    ],
)
def test_serve_refuses_cluster_options_that_cannot_work(options: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert message in done.stderr
