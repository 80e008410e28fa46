"""Logging rules of the server: frames (tokens, message texts) and client IP addresses never reach a log."""

from __future__ import annotations

import ipaddress
import logging
import re

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


_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\]?(?![\w:])")


def _redact_v6(match: re.Match[str]) -> str:
    text = match.group(0)
    for candidate in (text.strip("[]"), text.strip("[]").rsplit(":", 1)[0]):
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        return "<address>" if candidate == text.strip("[]") else "<address>:" + text.rsplit(":", 1)[1]
    return text


def redact_addresses(text: str) -> str:
    """``text`` with every IPv4 and IPv6 address replaced by ``<address>``."""
    if "." not in text and ":" not in text:
        return text
    return _IPV6.sub(_redact_v6, _IPV4.sub("<address>", text))


class NoClientAddresses(logging.Filter):
    """Removes IP addresses from uvicorn's and websockets' records (uvicorn logs each websocket with its client).

    Frontdesk keeps no IP address anywhere, logs included; the listening address at start-up stays.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, with its addresses redacted."""
        if isinstance(record.msg, str) and "running on" in record.msg:
            return True
        message = record.getMessage()
        redacted = redact_addresses(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


_filter = NoFrameDumps()
_addresses = NoClientAddresses()
_lost = NoLostSocketNoise()


def protect_logs() -> None:
    """Install the filters (idempotent)."""
    for name in ("uvicorn.error", "websockets.server"):
        logger = logging.getLogger(name)
        if _filter not in logger.filters:
            logger.addFilter(_filter)
    for name in ("uvicorn.error", "uvicorn.access", "websockets.server"):
        logger = logging.getLogger(name)
        if _addresses not in logger.filters:
            logger.addFilter(_addresses)
    asyncio_logger = logging.getLogger("asyncio")
    if _lost not in asyncio_logger.filters:
        asyncio_logger.addFilter(_lost)
    # aiosqlite logs every statement with its parameters at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
