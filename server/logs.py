"""Logging rules of the server: frames (tokens, message texts) never reach a log."""

from __future__ import annotations

import logging

_FRAME_DUMPS = frozenset({"< %s", "> %s"})


class NoFrameDumps(logging.Filter):
    """Drops websockets' DEBUG dumps of whole frames, which uvicorn routes to ``uvicorn.error``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except a frame dump."""
        return not (record.levelno <= logging.DEBUG and record.msg in _FRAME_DUMPS)


class NoLostSocketNoise(logging.Filter):
    """Drops asyncio's per-write warning for a socket whose peer vanished mid-burst (the reader notices)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except that warning."""
        return record.msg != "socket.send() raised exception."


_filter = NoFrameDumps()
_lost = NoLostSocketNoise()


def protect_logs() -> None:
    """Install the filters (idempotent)."""
    for name in ("uvicorn.error", "websockets.server"):
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
    asyncio_logger = logging.getLogger("asyncio")
    if _lost not in asyncio_logger.filters:
        asyncio_logger.addFilter(_lost)
    # aiosqlite logs every statement with its parameters at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
