"""The seams on Redis: one delta log, presence and control channel shared by every server process.

``open_redis_seams`` connects, loads the Lua scripts and starts this process's lease. Keys of one
account carry a hash tag (``fd:{acc:42}:...``) so an account's keys share a slot on Redis Cluster.
"""

from __future__ import annotations

from server.live.redis.connection import RedisLink, open_redis_seams

__all__ = ["RedisLink", "open_redis_seams"]
