"""The control channel on Redis pub/sub: typed messages (msgspec JSON) to every server process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from redis.exceptions import RedisError

from server import metrics
from server.live.redis.connection import PREFIX, RedisLink
from server.live.seams import Control, ControlHandler

log = logging.getLogger(__name__)

CHANNEL = f"{PREFIX}control"
_RETRY_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0)


class RedisControl:
    """``ControlChannel`` over one Redis channel; every process, the publisher too, receives each message.

    Pub/sub keeps nothing for a process that is disconnected at the moment of a publish; what a
    control message changes is also stored (bans, plans, tokens in SQL), so a socket that connects
    later is checked against the stored state.
    """

    def __init__(self, link: RedisLink) -> None:
        self._link = link
        self._handlers: dict[ControlHandler, None] = {}
        self._encoder = msgspec.json.Encoder()
        self._decoder: msgspec.json.Decoder[Control] = msgspec.json.Decoder(Control)
        self._reader: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, message: Control) -> None:
        """Deliver to every subscribed process."""
        await self._link.call("PUBLISH", CHANNEL, self._encoder.encode(message))

    async def subscribe(self, handler: ControlHandler) -> None:
        """Call ``handler`` for every message published once this returns."""
        self._handlers[handler] = None
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        await asyncio.wait_for(self._listening.wait(), 10)

    async def unsubscribe(self, handler: ControlHandler) -> None:
        """Stop calling ``handler``."""
        self._handlers.pop(handler, None)

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            delay = 0.0
            pubsub = self._link.client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    failures = 0
                    if message["type"] == "subscribe":
                        self._listening.set()
                    elif message["type"] == "message":
                        self._handle(message["data"])
            except (RedisError, OSError) as exc:
                self._listening.clear()
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("Redis control channel lost (%s); reconnecting", exc)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)

    def _handle(self, data: bytes) -> None:
        try:
            message = self._decoder.decode(data)
        except msgspec.ValidationError as exc:
            # A process of another version; acting on half a message would be worse than skipping it.
            log.warning("ignored a control message this version does not understand: %s", exc)
            return
        metrics.CONTROL.inc()
        for handler in list(self._handlers):
            try:
                handler(message)
            except Exception:
                log.exception("control message %s failed", type(message).__name__)

    async def aclose(self) -> None:
        """Stop listening (the shared client is closed by its owner)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        self._handlers.clear()
