"""The Redis client one server process shares between its seams, the Lua scripts and key names."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import metrics
from server.live.seams import Seams

log = logging.getLogger(__name__)
PREFIX = "fd:"
SCRIPTS = (
    "log_open",
    "log_append",
    "log_since",
    "tab_attach",
    "tab_detach",
    "visitor_store",
    "visitor_load",
    "visitor_remove",
    "visitor_expire",
    "visitor_scan",
    "lease_renew",
    "lease_claim",
    "lease_reap",
)


def account_key(account_id: int, name: str) -> str:
    """A key of one account; the hash tag keeps an account's keys in one Redis Cluster slot."""
    return f"{PREFIX}{{acc:{account_id}}}:{name}"


def new_process_id() -> str:
    """A name for this server process, unique over restarts and machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class RedisLink:
    """One ``redis.asyncio`` client (a connection pool), the loaded scripts and this process's id."""

    def __init__(self, url: str, *, process_id: str | None = None) -> None:
        self.url = url
        # Two quick retries: a pooled connection left stale by a Redis restart reconnects on the first one,
        # while a Redis that is down fails within a fraction of a second (from_url's default never retries).
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            health_check_interval=10,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self.process_id = process_id or new_process_id()
        lua = files("server.live.redis").joinpath("lua")
        self._scripts: dict[str, AsyncScript] = {
            name: self.client.register_script(lua.joinpath(f"{name}.lua").read_text("utf-8")) for name in SCRIPTS
        }

    async def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run a loaded script (EVALSHA, loading it again after a Redis restart) and count the round trip."""
        started = time.perf_counter()
        try:
            return await self._scripts[name](keys=keys, args=args)
        finally:
            metrics.REDIS_ROUND_TRIPS.labels(name).inc()
            metrics.REDIS_LATENCY.observe(time.perf_counter() - started)

    async def call(self, name: str, *args: Any) -> Any:
        """Run one command and count the round trip."""
        started = time.perf_counter()
        try:
            return await self.client.execute_command(name, *args)  # type: ignore[no-untyped-call]
        finally:
            metrics.REDIS_ROUND_TRIPS.labels(name.lower()).inc()
            metrics.REDIS_LATENCY.observe(time.perf_counter() - started)

    async def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(await self.call("PING"))
        except (aioredis.RedisError, OSError) as exc:
            log.debug("Redis does not answer: %s", exc)
            return False

    async def aclose(self) -> None:
        """Close the pool."""
        await self.client.aclose()


async def open_redis_seams(url: str, *, history_size: int, lease_seconds: float) -> tuple[Seams, RedisLink]:
    """Connect to Redis and build the three seams on it (Redis must answer, else this raises)."""
    from server.live.redis.control import RedisControl  # noqa: PLC0415 - the modules import this one
    from server.live.redis.log import RedisDeltaLog  # noqa: PLC0415
    from server.live.redis.presence import RedisPresence  # noqa: PLC0415

    link = RedisLink(url)
    try:
        await link.call("PING")
        presence = RedisPresence(link, lease_seconds=lease_seconds)
        await presence.heartbeat()
    except BaseException:
        await link.aclose()
        raise
    seams = Seams(log=RedisDeltaLog(link, history_size), presence=presence, control=RedisControl(link))
    return seams, link
