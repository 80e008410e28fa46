"""The objects one server process is made of, created and closed together."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.config import Settings, normalize_database_url
from server.db import create_engine, migrate
from server.geo import Geolocator
from server.live.hub import Hub
from server.live.redis import close_seams, open_control, open_seams
from server.live.seams import ControlChannel, Seams
from server.ratelimit import FailureLimiter
from server.retention import RetentionJob
from server.store import Store

if TYPE_CHECKING:
    from server.live.redis.connection import RedisLink


@dataclass(slots=True)
class Services:
    """Settings, database and (when serving) the live hub."""

    settings: Settings
    engine: AsyncEngine
    store: Store
    geo: Geolocator
    hub: Hub | None = None
    retention: RetentionJob | None = None
    """Deletes what expired (serving processes only)."""
    seams: Seams | None = None
    """Delta log, presence and control channel (in memory, or shared on Redis); only when serving."""
    redis: RedisLink | None = None
    """The shared Redis connections when running with ``--redis``."""
    control: ControlChannel | None = None
    """Where an admin change is announced to every process (the seams' channel, or Redis' for a command)."""
    logins: FailureLimiter = field(default_factory=lambda: FailureLimiter(max_failures=10, window_seconds=60))
    """Failed sign-ins per client address and per target e-mail: guessing passwords gets slow."""


async def open_services(settings: Settings, *, serve: bool) -> Services:
    """Connect, migrate, and (when ``serve``) start the hub."""
    engine = create_engine(normalize_database_url(settings.database_url))
    try:
        await migrate(engine)
        store = Store(engine)
        geo = Geolocator(settings.geoip_path)
    except BaseException:
        await engine.dispose()
        raise
    services = Services(settings=settings, engine=engine, store=store, geo=geo)
    if serve:
        try:
            services.seams, services.redis = await open_seams(settings)
            services.control = services.seams.control
            services.hub = Hub(store, settings, geo, services.seams)
            await services.hub.start()
            services.retention = RetentionJob(
                store, present=services.hub.present_ids, interval=settings.retention_interval_seconds
            )
            services.retention.start()
        except BaseException:
            if services.seams is not None:
                await close_seams(services.seams, services.redis)
            geo.close()
            await engine.dispose()
            raise
    else:
        opened = await open_control(settings)
        if opened is not None:
            services.control, services.redis = opened
    return services


async def close_services(services: Services) -> None:
    """Stop the hub (pending writes finish) and close the database."""
    if services.retention is not None:
        await services.retention.stop()
    if services.hub is not None:
        await services.hub.stop()
    if services.seams is not None:
        await close_seams(services.seams, services.redis)
    elif services.redis is not None:
        await services.redis.aclose()
    services.geo.close()
    await services.engine.dispose()


async def services_ready(services: Services) -> list[str]:
    """What does not answer right now ("database", "redis"); empty when the process can take traffic."""
    problems = []
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the log of the request that needs it says why
        problems.append("database")
    if services.redis is not None and not await services.redis.ping():
        problems.append("redis")
    return problems
