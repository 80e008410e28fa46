"""The objects one server process is made of, created and closed together."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from server.config import Settings, normalize_database_url
from server.db import create_engine, migrate
from server.geo import Geolocator
from server.live.hub import Hub
from server.live.memory import memory_seams
from server.ratelimit import FailureLimiter
from server.retention import RetentionJob
from server.store import Store


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
        services.hub = Hub(store, settings, geo, memory_seams(settings.history_size))
        await services.hub.start()
        services.retention = RetentionJob(
            store, present=services.hub.present_ids, interval=settings.retention_interval_seconds
        )
        services.retention.start()
    return services


async def close_services(services: Services) -> None:
    """Stop the hub (pending writes finish) and close the database."""
    if services.retention is not None:
        await services.retention.stop()
    if services.hub is not None:
        await services.hub.stop()
        await services.hub.seams.aclose()
    services.geo.close()
    await services.engine.dispose()
