"""The retention job on SQLite: how fast expired rows go, and how long the event loop is held meanwhile.

A ticker task records the gap between its wake-ups while the job deletes; the largest gap is what a
socket handler on the same loop would have waited at worst.

    .venv/bin/python -m bench.retention [--messages 100000] [--visitors 20000] [--batch 500] [--runs 3]
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.common import Figure, base_parser, report
from protocol.rules import Plan
from server import db
from server.retention import DAY, RetentionJob
from server.store import Retention, Store

NOW = 1_800_000_000.0


async def _fill(store: Store, account_id: int, messages: int, visitors: int) -> None:
    old = NOW - 400 * DAY
    async with store.engine.begin() as conn:
        await conn.execute(
            db.visitors.insert(),
            [
                {
                    "account_id": account_id,
                    "id": f"v{i:010d}",
                    "first_seen_at": old,
                    "last_seen_at": old,
                    "visit_count": 1,
                    "custom": {},
                    "customer": False,
                    "auto_messaged": False,
                    "banned": False,
                    "ban_reason": "",
                    "chat_status": "none",
                }
                for i in range(visitors)
            ],
        )
        await conn.execute(
            db.messages.insert(),
            [
                {
                    "account_id": account_id,
                    "visitor_id": f"v{i % max(visitors, 1):010d}",
                    "id": f"m{i:010d}",
                    "author": "visitor",
                    "text": "an old question about tea",
                    "sent_at": old,
                    "offline": i % 5 == 0,
                }
                for i in range(messages)
            ],
        )


async def _once(messages: int, visitors: int, batch: int) -> tuple[float, float, float]:
    """(rows per second, largest loop stall in ms, total seconds) of one purge."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
        await db.migrate(engine)
        store = Store(engine)
        account_id = await store.create_account(
            name="Bench", plan=Plan.PRO, account_key="acc_bench", api_key_hash="h" * 64, allowed_origins=[]
        )
        await store.update_account(account_id, retention=Retention(visitor_days=30, message_days=30, offline_days=30))
        await _fill(store, account_id, messages, visitors)
        stalls: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0)
                now = time.perf_counter()
                stalls.append((now - last) * 1000)
                last = now

        watch = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        purged = await RetentionJob(store, clock=lambda: NOW, batch=batch).run_once()
        seconds = time.perf_counter() - t0
        done.set()
        await watch
        async with engine.connect() as conn:
            left = (await conn.execute(sa.select(sa.func.count()).select_from(db.messages))).scalar()
        await engine.dispose()
        assert left == 0, left
        rows = purged.messages + purged.offline_messages + purged.visitors
        return rows / seconds, max(stalls, default=0.0), seconds


async def _idle_stall(seconds: float) -> float:
    """The longest gap between wake-ups of the same ticker with nothing else running (the machine's noise)."""
    worst = 0.0
    last = time.perf_counter()
    end = last + seconds
    while last < end:
        await asyncio.sleep(0)
        now = time.perf_counter()
        worst = max(worst, (now - last) * 1000)
        last = now
    return worst


def run(messages: int = 100_000, visitors: int = 20_000, batch: int = 500, runs: int = 3) -> list[Figure]:
    """Rows deleted per second and the longest event-loop stall while the job runs."""
    rates: list[float] = []
    stalls: list[float] = []
    idle: list[float] = []
    for _ in range(runs):
        rate, stall, seconds = asyncio.run(_once(messages, visitors, batch))
        rates.append(rate)
        stalls.append(stall)
        idle.append(asyncio.run(_idle_stall(seconds)))
    return [
        Figure(f"retention purge, {messages:,} messages + {visitors:,} visitors, batch {batch}", "rows/s", rates),
        Figure("  longest event-loop stall during the purge", "ms", stalls),
        Figure("  longest stall of an idle loop for as long (machine noise)", "ms", idle),
    ]


def main() -> None:
    args = base_parser(__doc__.splitlines()[0], messages=100_000, visitors=20_000, batch=500).parse_args()
    report("retention: batched deletes on SQLite", run(args.messages, args.visitors, args.batch, args.runs))


if __name__ == "__main__":
    main()
