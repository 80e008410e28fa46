"""The seams on Redis: one delta log, presence and control channel shared by every server process.

Keys of one account carry a hash tag (``fd:{acc:42}:...``) so an account's keys share a slot on
Redis Cluster. This module imports the Redis client only when a Redis URL is given: the embedded
one-process server runs without the optional ``redis`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.config import Settings
from server.live.memory import memory_seams
from server.live.seams import ControlChannel, Seams

if TYPE_CHECKING:
    from server.live.redis.connection import RedisLink


async def open_seams(settings: Settings) -> tuple[Seams, RedisLink | None]:
    """Redis seams when ``settings.redis_url`` is set (Redis must answer), else the in-memory ones."""
    if not settings.redis_url:
        return memory_seams(settings.history_size), None
    from server.live.redis.connection import open_redis_seams  # noqa: PLC0415 - the optional extra

    return await open_redis_seams(
        settings.redis_url, history_size=settings.history_size, lease_seconds=settings.lease_seconds
    )


async def open_control(settings: Settings) -> tuple[ControlChannel, RedisLink] | None:
    """Only the control channel (an admin command telling running processes), when a Redis URL is set."""
    if not settings.redis_url:
        return None
    from server.live.redis.connection import RedisLink  # noqa: PLC0415 - the optional extra
    from server.live.redis.control import RedisControl  # noqa: PLC0415

    link = RedisLink(settings.redis_url)
    return RedisControl(link), link


async def close_seams(seams: Seams, link: RedisLink | None) -> None:
    """Close the seams, then the Redis connections they share."""
    try:
        await seams.aclose()
    finally:
        if link is not None:
            await link.aclose()
