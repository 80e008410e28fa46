"""Deletes what an account's retention settings say has expired, in small batches off the live path."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from server.store import Store

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(slots=True)
class Purged:
    """How many rows one run deleted."""

    visitors: int = 0
    messages: int = 0
    offline_messages: int = 0
    ip_bans: int = 0


class RetentionJob:
    """Runs every ``interval`` seconds; each batch is its own short transaction, with a yield between."""

    def __init__(
        self,
        store: Store,
        *,
        present: Callable[[int], Awaitable[set[str]]] | None = None,
        clock: Callable[[], float] = time.time,
        batch: int = 500,
        interval: float = 3600.0,
    ) -> None:
        self._store = store
        self._present = present
        self._clock = clock
        self._batch = batch
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> Purged:
        """Delete everything expired now, account by account."""
        now = self._clock()
        purged = Purged()
        for account_id in await self._store.account_ids():
            account = await self._store.account(account_id)
            if account is None:
                continue
            retention = account.retention
            # On the site now (presence, over all processes): not departed, whatever the row says.
            keep = await self._present(account_id) if self._present is not None else set()
            purged.visitors += await self._drain(
                partial(
                    self._store.purge_departed_visitors,
                    account_id,
                    last_seen_before=now - retention.visitor_days * DAY,
                    keep=keep,
                    batch=self._batch,
                )
            )
            for offline, days in ((False, retention.message_days), (True, retention.offline_days)):
                deleted = await self._drain(
                    partial(
                        self._store.purge_messages,
                        account_id,
                        sent_before=now - days * DAY,
                        offline=offline,
                        batch=self._batch,
                    )
                )
                if offline:
                    purged.offline_messages += deleted
                else:
                    purged.messages += deleted
        purged.ip_bans = await self._store.purge_ip_bans(expired_before=now)
        return purged

    async def _drain(self, step: Callable[[], Awaitable[int]]) -> int:
        total = 0
        while True:
            deleted = await step()
            total += deleted
            if deleted < self._batch:
                return total
            await asyncio.sleep(0)  # let sockets and other writes in between batches

    def start(self) -> None:
        """Run periodically on the current loop (the first run a minute after start, away from the reconnect storm)."""
        self._task = asyncio.get_running_loop().create_task(self._forever())

    async def stop(self) -> None:
        """Stop the periodic runs."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _forever(self) -> None:
        await asyncio.sleep(min(60.0, self._interval))
        while True:
            try:
                purged = await self.run_once()
                if purged.visitors or purged.messages or purged.offline_messages or purged.ip_bans:
                    log.info(
                        "retention: deleted %d departed visitors, %d messages, %d offline messages, %d IP bans",
                        purged.visitors,
                        purged.messages,
                        purged.offline_messages,
                        purged.ip_bans,
                    )
            except Exception:
                log.exception("retention run failed; retrying at the next interval")
            await asyncio.sleep(self._interval)
