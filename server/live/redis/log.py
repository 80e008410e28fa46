"""The per-account delta log on Redis: a counter and a capped stream, appended and published by one script.

Live delivery: one pub/sub connection per process, subscribed to the channels of the accounts
whose agents this process holds. Each account has a feed (a queue and a task) that hands its
listeners contiguous entries: a gap (a lost message, a reconnect) is filled from the stream, and
when that is impossible (trimmed, or the epoch changed because Redis lost the log) the listeners
get ``reset``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from server import metrics
from server.live.redis.connection import PREFIX, RedisLink, account_key
from server.live.seams import LogEntry, LogListener, LogPosition

log = logging.getLogger(__name__)

_RESYNC = object()
"""Queued for a feed when its subscription was renewed after a lost connection."""
_RETRY_SECONDS = (0.05, 0.1, 0.25, 0.5, 1.0)


def _channel(account_id: int) -> str:
    return account_key(account_id, "deltas")


def _keys(account_id: int) -> list[str]:
    return [account_key(account_id, "log"), account_key(account_id, "stream")]


def log_keys(account_id: int) -> tuple[str, str, str]:
    """The account's log meta hash, stream and pub/sub channel (for scripts that append with other work)."""
    return account_key(account_id, "log"), account_key(account_id, "stream"), _channel(account_id)


@dataclass(eq=False)
class _Feed:
    """One account's live entries on this process."""

    account_id: int
    listeners: dict[LogListener, None] = field(default_factory=dict)
    queue: asyncio.Queue[object] = field(default_factory=asyncio.Queue)
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    epoch: str = ""
    last: int = 0
    task: asyncio.Task[None] | None = None


class RedisDeltaLog:
    """``DeltaLog`` on Redis (see the module's docstring)."""

    def __init__(self, link: RedisLink, history_size: int) -> None:
        self._link = link
        self._size = str(history_size)
        self.history_size = self._size
        """Entries the stream keeps (a script argument)."""
        self._feeds: dict[int, _Feed] = {}
        self._by_channel: dict[bytes, _Feed] = {}
        self._lock = asyncio.Lock()
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._closed = False

    # ------------------------------------------------------------------ commands

    async def append(self, account_id: int, body: bytes) -> int:
        """Give ``body`` the account's next seq, keep it in the stream and publish it, in one script."""
        _epoch, seq = await self._link.script("log_append", _keys(account_id), [body, self._size, _channel(account_id)])
        metrics.DELTAS.inc()
        return int(seq)

    async def position(self, account_id: int) -> LogPosition:
        """The account's epoch and last seq (creating the log when absent)."""
        epoch, seq = await self._link.script("log_open", _keys(account_id), [])
        return LogPosition(epoch.decode(), int(seq))

    async def since(self, account_id: int, after: int, epoch: str) -> list[LogEntry] | None:
        """Every entry after ``after``, or None when trimmed, ahead of the log or of another epoch."""
        found = await self._link.script("log_since", _keys(account_id), [str(after), epoch])
        if found is None:
            return None
        return [LogEntry(int(found[i]), found[i + 1]) for i in range(0, len(found), 2)]

    async def forget(self, account_id: int) -> None:
        """Delete the account's kept entries (an erasure); the counter and the epoch stay.

        One DEL is atomic with the append script: every entry appended before it is gone, so
        ``since`` from before now finds nothing to start from and answers None (a snapshot).
        """
        await self._link.call("DEL", account_key(account_id, "stream"))

    # ------------------------------------------------------------------ live delivery

    async def subscribe(self, account_id: int, listener: LogListener) -> None:
        """Deliver every entry appended after this returns (and perhaps a few before) to ``listener``."""
        async with self._lock:
            feed = self._feeds.get(account_id)
            if feed is not None:
                feed.listeners[listener] = None
                return
            await self._ensure_reader()
            feed = _Feed(account_id)
            feed.listeners[listener] = None
            self._feeds[account_id] = feed
            self._by_channel[_channel(account_id).encode()] = feed
            try:
                assert self._pubsub is not None
                await self._pubsub.subscribe(_channel(account_id))
                await asyncio.wait_for(feed.subscribed.wait(), 10)
                feed.epoch, feed.last = await self.position(account_id)
            except BaseException:
                self._drop(feed)
                raise
            feed.task = asyncio.get_running_loop().create_task(self._run_feed(feed))

    async def unsubscribe(self, account_id: int, listener: LogListener) -> None:
        """Stop delivering to ``listener``; the account's channel is left when it was the last one."""
        async with self._lock:
            feed = self._feeds.get(account_id)
            if feed is None:
                return
            feed.listeners.pop(listener, None)
            if feed.listeners:
                return
            self._drop(feed)
            if self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(_channel(account_id))
        if feed.task is not None:
            feed.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed.task

    def _drop(self, feed: _Feed) -> None:
        self._feeds.pop(feed.account_id, None)
        self._by_channel.pop(_channel(feed.account_id).encode(), None)

    async def _ensure_reader(self) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())
        await asyncio.wait_for(self._connected.wait(), 10)

    async def _read_forever(self) -> None:
        """Read the pub/sub connection, reconnecting (and resubscribing every feed) when it drops."""
        failures = 0
        while not self._closed:
            delay = 0.0
            pubsub = self._link.client.pubsub()
            try:
                # A channel of this process's own keeps the connection subscribed while no feed is.
                await pubsub.subscribe(f"{PREFIX}process:{self._link.process_id}")
                channels = [_channel(a) for a in self._feeds]
                if channels:
                    await pubsub.subscribe(*channels)
                self._pubsub = pubsub
                self._connected.set()
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is not None:
                        failures = 0
                        self._dispatch(message)
            except (RedisError, OSError) as exc:
                self._connected.clear()
                delay = _RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)]
                failures += 1
                if failures in (1, 10) or failures % 100 == 0:
                    log.warning("Redis pub/sub connection lost (%s); reconnecting", exc)
            finally:
                self._pubsub = None
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)

    def _dispatch(self, message: dict[str, object]) -> None:
        channel = message.get("channel")
        feed = self._by_channel.get(channel) if isinstance(channel, bytes) else None
        if feed is None:
            return
        kind = message.get("type")
        if kind == "subscribe":
            if feed.subscribed.is_set():
                feed.queue.put_nowait(_RESYNC)  # a reconnect: deltas may have been missed meanwhile
            feed.subscribed.set()
        elif kind == "message":
            feed.queue.put_nowait(message.get("data"))

    async def _run_feed(self, feed: _Feed) -> None:
        """Turn one account's published payloads into contiguous entries for its listeners."""
        while True:
            item = await feed.queue.get()
            failures = 0
            while True:
                try:
                    if item is _RESYNC:
                        await self._resync(feed)
                    elif isinstance(item, bytes):
                        await self._receive(feed, item)
                    break
                except (RedisError, OSError) as exc:
                    # Redis is unreachable: keep trying to resync; nothing is skipped meanwhile.
                    if failures == 0:
                        log.warning("delta feed of account %d interrupted: %s", feed.account_id, exc)
                    item = _RESYNC
                    await asyncio.sleep(_RETRY_SECONDS[min(failures, len(_RETRY_SECONDS) - 1)])
                    failures += 1

    async def _receive(self, feed: _Feed, payload: bytes) -> None:
        epoch_b, seq_b, at_b, body = payload.split(b" ", 3)
        epoch, seq = epoch_b.decode(), int(seq_b)
        if epoch != feed.epoch:
            await self._resync(feed)
            return
        if seq <= feed.last:
            return  # already delivered by a gap fill
        if seq > feed.last + 1:
            metrics.LOG_GAPS.inc()
            await self._fill(feed)
            return
        feed.last = seq
        metrics.DELIVERED.inc()
        metrics.DELIVERY_LATENCY.observe(max(0.0, time.time() - int(at_b) / 1_000_000))
        entry = LogEntry(seq, body)
        for listener in list(feed.listeners):
            listener.entry(feed.account_id, entry)

    async def _fill(self, feed: _Feed) -> None:
        """Deliver what the stream holds after the last delivered entry, or reset the listeners."""
        entries = await self.since(feed.account_id, feed.last, feed.epoch)
        if entries is None:
            await self._reset(feed)
            return
        for entry in entries:
            if entry.seq == feed.last + 1:
                feed.last = entry.seq
                metrics.DELIVERED.inc()
                for listener in list(feed.listeners):
                    listener.entry(feed.account_id, entry)

    async def _resync(self, feed: _Feed) -> None:
        """After a reconnect or an unknown epoch: continue from the stream, or reset when the log is another."""
        position = await self.position(feed.account_id)
        if position.epoch != feed.epoch:
            await self._reset(feed)
            return
        if position.seq > feed.last:
            metrics.LOG_GAPS.inc()
            await self._fill(feed)

    async def _reset(self, feed: _Feed) -> None:
        position = await self.position(feed.account_id)
        log.warning(
            "delta log of account %d lost continuity (epoch %s -> %s); agents get a fresh snapshot",
            feed.account_id,
            feed.epoch,
            position.epoch,
        )
        metrics.LOG_RESETS.inc()
        feed.epoch, feed.last = position
        for listener in list(feed.listeners):
            listener.reset(feed.account_id, position.epoch)

    async def aclose(self) -> None:
        """Stop the reader and every feed (the shared client is closed by its owner)."""
        self._closed = True
        tasks = [f.task for f in self._feeds.values() if f.task is not None]
        if self._reader is not None:
            tasks.append(self._reader)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._feeds.clear()
        self._by_channel.clear()
