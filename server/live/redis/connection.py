"""The Redis client one server process shares between its seams, the Lua scripts and key names."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import socket
import time
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from prometheus_client import Counter
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server import metrics
from server.live.redis.pipeline import AutoPipeline
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
    "visitor_commit",
    "visitor_fresh",
    "visitor_load",
    "visitor_remove",
    "visitor_expire",
    "visitor_scan",
    "lease_renew",
    "lease_claim",
    "lease_reap",
)
PRELUDES = {
    "log_append": ("_append",),
    "visitor_store": ("_revision",),
    "visitor_commit": ("_revision", "_append"),
}
"""Shared Lua functions prepended to a script: ``append_delta`` (_append.lua) appends to an account's
log, ``next_revision`` (_revision.lua) gives a visitor record its next revision."""


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
            socket_connect_timeout=2,  # an unreachable host fails /ready in time, not after the OS' minutes
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
        )
        self.process_id = process_id or new_process_id()
        self._pipeline = AutoPipeline(self.client)
        self._trips: dict[str, Counter] = {}
        lua = files("server.live.redis").joinpath("lua")
        self._sources = {
            name: "".join(lua.joinpath(f"{part}.lua").read_text("utf-8") for part in (*PRELUDES.get(name, ()), name))
            for name in SCRIPTS
        }
        self._shas = {
            name: hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest() for name, text in self._sources.items()
        }

    async def script(self, name: str, keys: list[str], args: list[Any]) -> Any:
        """Run a script by its SHA1 (loading it first when Redis does not know it, as after a restart)."""
        started = time.perf_counter()
        try:
            try:
                return await self._pipeline.execute("EVALSHA", self._shas[name], len(keys), *keys, *args)
            except NoScriptError:
                await self._pipeline.execute("SCRIPT", "LOAD", self._sources[name])
                return await self._pipeline.execute("EVALSHA", self._shas[name], len(keys), *keys, *args)
        finally:
            self._count(name, started)

    async def call(self, name: str, *args: Any) -> Any:
        """Run one command (raw reply: bytes, int or list) and count the round trip."""
        started = time.perf_counter()
        try:
            return await self._pipeline.execute(name, *args)
        finally:
            self._count(name, started)

    def _count(self, op: str, started: float) -> None:
        counter = self._trips.get(op)
        if counter is None:
            counter = self._trips[op] = metrics.REDIS_ROUND_TRIPS.labels(op.lower())
        counter.inc()
        metrics.REDIS_LATENCY.observe(time.perf_counter() - started)

    async def ping(self) -> bool:
        """Whether Redis answers."""
        try:
            return bool(await self.call("PING"))
        except (aioredis.RedisError, OSError) as exc:
            log.debug("Redis does not answer: %s", exc)
            return False

    async def aclose(self) -> None:
        """Close the pipeline's connection and the pool (pub/sub)."""
        await self._pipeline.aclose()
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
