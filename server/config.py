"""Settings of one server process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

from protocol.rules import LEAVE_GRACE_SECONDS

DEFAULT_PORT = 8765


def default_database_url() -> str:
    """The SQLite file in the user's data directory (created on first use)."""
    directory = Path(platformdirs.user_data_dir("frontdesk", appauthor=False))
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{directory / 'frontdesk.sqlite3'}"


def normalize_database_url(url: str | None) -> str:
    """An async SQLAlchemy URL from what a user types (``sqlite:///x``, ``postgresql://...``)."""
    if not url:
        return default_database_url()
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url.removeprefix("sqlite:")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


@dataclass(frozen=True, kw_only=True)
class RateLimit:
    """A token bucket: ``burst`` frames at once, refilled at ``per_second``."""

    burst: float
    per_second: float
    close_after: int = 50
    """Frames refused in a row before the socket closes with 4429."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a server process can be configured with."""

    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    geoip_path: Path | None = None
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed for every account besides localhost and each account's own list."""
    leave_grace_seconds: float = LEAVE_GRACE_SECONDS
    auth_timeout_seconds: float = 5.0
    history_size: int = 10_000
    """Deltas kept per account for agents that resume."""
    rule_tick_seconds: float = 1.0
    activity_publish_seconds: float = 5.0
    """At most one activity delta per visitor in this interval (presence stays exact in memory)."""
    agent_rate: RateLimit = RateLimit(burst=200, per_second=50)
    visitor_rate: RateLimit = RateLimit(burst=60, per_second=10)
    outbox_limit: int = 5_000
    """Frames queued for one slow socket before it is dropped (an agent then resumes)."""
    access_log: bool = False
    ip_ban_days: float = 30.0
    """How long a ban that covers IP addresses refuses them (addresses change hands)."""
    retention_interval_seconds: float = 3600.0
    """How often expired visitors and messages are deleted (each account's retention settings say what)."""
    forwarded_allow_ips: str | None = None
    """Proxies whose X-Forwarded-For is trusted (uvicorn's option), e.g. ``127.0.0.1``."""
    redis_url: str | None = None
    """``redis://HOST:PORT/DB``: share live state with the other processes (None: this process alone)."""
    lease_seconds: float = 10.0
    """A process that has not renewed its lease for this long is dead: its visitors' tabs are dropped."""
