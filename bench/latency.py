"""A visitor's event at the server to pixels in the agent's window, at a sustained event rate.

Processes: the real server (``bench.server`` role, its own process), a visitor generator (real websocket
widget clients sending page views whose URL carries ``time.monotonic()`` at sending), and this process: the
real ``AgentClient`` on the qasync loop feeding the real store, ``StoreDispatcher`` and ``VisitorTableModel``
of a shown offscreen ``QTableView``. A visitor's latency ends when the first viewport paint that completes
after the model applied its change returns (``paintEvent`` overridden to timestamp after painting).

All active visitors' rows fit in the viewport, so every change is actually painted: 25 visitors send
1,000 page views per second in total, which needs the server's per-visitor rate limit raised for the run
(``visitor_rate`` burst 200, 100 per second; the default 10 per second would refuse most frames).

    .venv/bin/python -m bench.latency [--rate 1000] [--seconds 10] [--visitors 25] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from bench.common import Figure, percentile, qt_app, report
from bench.server import Child


def _stamp(url: str | None) -> float | None:
    if not url or "p?t=" not in url:
        return None
    try:
        return float(url.split("p?t=", 1)[1].rstrip(";"))
    except ValueError:
        return None


async def _measure(
    http_url: str, token: str, gen: Child, seconds: float, visitors: int, settle: float = 1.0
) -> dict[str, Any]:
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QTableView

    from bench.common import configure_view
    from desktop.core.clock import Deadline, system_clock
    from desktop.core.store import Changes, VisitorStore
    from desktop.core.visitor_index import Unapplied
    from desktop.integration.resources import state_icon
    from desktop.net.client import AgentClient
    from desktop.ui.dispatcher import StoreDispatcher
    from desktop.ui.legend import StateIconProvider
    from desktop.ui.visitor_model import VisitorTableModel
    from protocol.messages import ServerToAgent, VisitorChanged, VisitorPatch

    received: list[float] = []  # stamps applied to the store, not yet in the model
    applied: list[float] = []  # stamps in the model, not yet painted
    latencies: list[float] = []
    store_lat: list[float] = []
    seen: set[float] = set()  # a later delta repeats the last page's URL (the visitor going offline): count once

    class BenchStore(VisitorStore):
        """The real store; records when a stamped page view is applied."""

        def apply(self, event: ServerToAgent) -> None:
            super().apply(event)
            url = None
            if isinstance(event, VisitorChanged):
                url = event.visitor.current_url
            elif isinstance(event, VisitorPatch) and isinstance(event.current_url, str):
                url = event.current_url
            if url is not None:
                t = _stamp(url)
                if t is not None and t not in seen:
                    seen.add(t)
                    store_lat.append((time.monotonic() - t) * 1000)
                    received.append(t)

    class PaintedView(QTableView):
        """A table view that notes when each paint has completed."""

        paints = 0

        def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
            super().paintEvent(event)
            self.paints += 1
            if applied:
                now = time.monotonic()
                latencies.extend((now - t) * 1000 for t in applied)
                applied.clear()

    store = BenchStore()
    dispatcher = StoreDispatcher(store)
    model = VisitorTableModel(store, system_clock, StateIconProvider(state_icon))
    view = PaintedView()
    configure_view(view, model)
    view.show()

    def apply_changes(changes: Changes, deadline: Deadline | None) -> Unapplied:
        left = model.apply_changes(changes, deadline)
        if not (left[0] or left[1]):  # a batch the deadline cut: its events count from a later paint (the worse)
            applied.extend(received)
            received.clear()
        return left

    dispatcher.apply_with(apply_changes)  # as desktop.session wires the app's list
    client = AgentClient(http_url, token, store)
    task = asyncio.get_running_loop().create_task(client.run())
    deadline = time.monotonic() + 60
    while not (client.online and store.seq and model.rowCount() >= visitors):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the agent saw {model.rowCount()} of {visitors} visitors")
        await asyncio.sleep(0.05)
    gen.send("warm")  # one page view per visitor through the whole path before measuring
    await asyncio.get_running_loop().run_in_executor(None, gen.read, 60.0)
    await asyncio.sleep(settle)
    latencies.clear()
    store_lat.clear()
    visible_rows = view.rowAt(view.viewport().height() - 1)
    paints0 = view.paints
    gen.send("go")
    t0 = time.monotonic()
    await asyncio.sleep(seconds + 1.5 * settle)  # the last events reach the window
    elapsed = time.monotonic() - t0
    sent = await asyncio.get_running_loop().run_in_executor(None, gen.read, 60.0)
    await client.close()
    await asyncio.wait({task}, timeout=10)
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    dispatcher.detach()
    result = {
        "latencies": latencies,
        "store_lat": store_lat,
        "sent": sent["sent"],
        "send_seconds": sent["seconds"],
        "paints_per_s": (view.paints - paints0) / elapsed,
        "rows": model.rowCount(),
        "all_visible": visible_rows < 0 or visible_rows >= model.rowCount() - 1,
    }
    # Delete the Qt objects while the application lives (deleting them at interpreter exit can crash).
    view.hide()
    view.setModel(None)
    for obj in (view, model, dispatcher):
        obj.deleteLater()
    await asyncio.sleep(0.05)
    return result


def measure(rate: float, seconds: float, visitors: int, settle: float = 1.0) -> dict[str, Any]:
    """One run with fresh server and generator processes."""
    import qasync

    app = qt_app()
    server = Child("--role", "server", "--settings", json.dumps({"visitor_rate": [200, 100]}))
    gen: Child | None = None
    try:
        info = server.read(120)
        url = f"{info['ws']}/ws/visitor?account={info['account_key']}"
        gen = Child(
            "--role", "visitors", "--url", url, "--mode", "active", "--n", str(visitors), "--rate", str(rate),
            "--seconds", str(seconds), "--chat-rate", "0",
        )  # fmt: skip
        gen.read(120)
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        try:
            result: dict[str, Any] = loop.run_until_complete(
                asyncio.wait_for(_measure(info["http"], info["token"], gen, seconds, visitors, settle), seconds + 150)
            )
            return result
        finally:
            loop.close()
            asyncio.set_event_loop(None)
    finally:
        if gen is not None:
            gen.close()
        server.close()


def run(
    rate: float = 1000.0, seconds: float = 10.0, visitors: int = 25, runs: int = 3, settle: float = 1.0
) -> list[Figure]:
    """Several runs; p50/p99 per run."""
    results = [measure(rate, seconds, visitors, settle) for _ in range(runs)]
    p50 = Figure(
        f"server event -> painted row, p50, {rate:,.0f} events/s", "ms",
        [percentile(r["latencies"], 50) for r in results], "< 50 ms",
    )  # fmt: skip
    p99 = Figure("  p99", "ms", [percentile(r["latencies"], 99) for r in results], "< 100 ms")
    mx = Figure("  max", "ms", [max(r["latencies"], default=float("nan")) for r in results])
    st = Figure("  of which visitor -> applied to the agent's store, p50", "ms",
                [percentile(r["store_lat"], 50) for r in results])  # fmt: skip
    st99 = Figure("  of which visitor -> applied to the agent's store, p99", "ms",
                  [percentile(r["store_lat"], 99) for r in results])  # fmt: skip
    got = Figure("  events painted per second", "/s", [len(r["latencies"]) / r["send_seconds"] for r in results])
    got.note = f"sent {results[-1]['sent']:,} in {results[-1]['send_seconds']:.1f} s; all rows visible: " + str(
        all(r["all_visible"] for r in results)
    )
    paints = Figure("  viewport paints per second", "/s", [r["paints_per_s"] for r in results])
    return [p50, p99, mx, st, st99, got, paints]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visitors", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    report(
        "latency: server event to pixels in the agent's window (real client on qasync)",
        run(args.rate, args.seconds, args.visitors, args.runs),
    )


if __name__ == "__main__":
    main()
