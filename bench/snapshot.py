"""A paged snapshot from the server's presence to the desktop's store: time to the first page and to the last.

Synthetic visitors are stored in the embedded server's in-memory presence (as the live hub stores them),
then the real ``AgentClient`` connects and applies the pages to a real ``VisitorStore``. The server runs
in a thread of the same process, so server and client share one core and the GIL: the figures are an
upper bound for an agent on its own machine.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from typing import Any

from bench.common import Figure, base_parser, make_visitors, report


async def _preload(services: Any, account_id: int, n: int) -> None:
    from server.live.record import VisitorState, encode_all

    await services.hub.account(account_id)
    presence = services.hub.seams.presence
    for visitor in make_visitors(n, now=time.time()):
        await presence.store(account_id, visitor.id, encode_all(VisitorState(record=visitor)))


async def _connect_once(http_url: str, token: str) -> tuple[float, float, int]:
    from desktop.core.store import VisitorStore
    from desktop.net.client import AgentClient

    store = VisitorStore()
    first: list[float] = []
    store.on_dirty = lambda: None if first else first.append(time.perf_counter())
    client = AgentClient(http_url, token, store)
    start = time.perf_counter()
    task = asyncio.get_running_loop().create_task(client.run())
    while not client.online:
        if task.done():
            raise RuntimeError(f"the client stopped: {client.detail}")
        await asyncio.sleep(0.002)
    done = time.perf_counter()
    await client.close()
    await task
    return (first[0] - start) * 1000, (done - start) * 1000, len(store.visitors)


def run(visitors: int = 100_000, runs: int = 3) -> list[Figure]:
    """Connect ``runs`` times to an account of ``visitors``; first-page and whole-snapshot times."""
    import httpx

    from protocol.rules import Plan
    from server import admin
    from server.embedded import EmbeddedServer

    password = "bench-password-1"
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as directory:
        server = EmbeddedServer(f"sqlite+aiosqlite:///{directory}/bench.sqlite3", port=0)
        server.start()
        try:
            created = server.call(
                admin.create_account,
                server.services,
                name="Bench shop",
                plan=Plan.PRO,
                agent_email="agent@bench.example",
                agent_password=password,
            )
            server.call(_preload, server.services, created.account_id, visitors)
            token = httpx.post(
                f"{server.http_url}/api/v1/auth/login",
                json={"email": "agent@bench.example", "password": password},
                timeout=30,
            ).json()["token"]
            results = [asyncio.run(_connect_once(server.http_url, token)) for _ in range(runs)]
        finally:
            server.stop()
    listed = {n for _first, _all, n in results}
    note = f"{visitors:,} visitors in pages of 1,000; listed {sorted(listed)}"
    return [
        Figure(
            f"paged snapshot of {visitors:,} visitors: first page in the store",
            "ms",
            [r[0] for r in results],
            "< 1000 ms",
            note,
        ),
        Figure("  the whole snapshot in the store, client online", "ms", [r[1] for r in results], "< 5000 ms"),
    ]


def main() -> None:
    """Command line: ``python -m bench.snapshot [--visitors N] [--runs N]``."""
    args = base_parser(__doc__ or "", visitors=100_000).parse_args()
    report("snapshot: presence -> paged snapshot -> desktop store", run(args.visitors, args.runs))


if __name__ == "__main__":
    main()
