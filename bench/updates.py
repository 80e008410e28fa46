"""Sustained visitor updates through store -> StoreDispatcher -> VisitorTableModel -> shown view, on a Qt loop.

A feeder timer decodes pre-encoded server frames (half page views carrying the whole visitor record, half
activity deltas) and applies them to the real VisitorStore at the requested rate; the real StoreDispatcher
drains once per frame into the real model of a shown offscreen QTableView, which repaints as Qt schedules.
A 1 ms precise QTimer probe records the gaps between its firings: a gap is how long the event loop was
blocked (a stall). The view is sorted by the current page column, so page views reposition rows. Python's
cyclic collector runs as in the app (``GuiThreadCollector``: on a GUI-thread timer, long-lived objects frozen);
the longest collection of each run is reported. The baseline is the same probe over the same shown list with
no updates: what the machine's load alone does to the gaps.

    .venv/bin/python -m bench.updates [--size 10000 --size 100000] [--rate 10000] [--seconds 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Final

import msgspec

from bench.common import NOW, Figure, add_json_option, close_view, make_visitors, percentile, qt_app, real_model, report

TICK_MS: Final = 5
"""The feeder wakes this often and applies what the rate owes since its last wake."""

WORST_GAPS: Final = 10
"""The longest probe gaps of a run whose contents are broken down (model, feeder, collector, the rest)."""


def _frames(visitors: list[msgspec.Struct], count: int, first_seq: int) -> list[bytes]:
    """``count`` encoded deltas: alternating page views (patches) and activity, over random visitors."""
    import random

    from protocol.codec import encode
    from protocol.messages import PageVisit, Visitor, VisitorActivity, VisitorPatch

    rng = random.Random(7)
    pages = [(f"https://shop.example/p/{k}", f"Product {k:03d} – Bramble & Brew") for k in range(200)]
    frames: list[bytes] = []
    for k in range(count):
        v = visitors[rng.randrange(len(visitors))]
        assert isinstance(v, Visitor)
        at = NOW + 1 + k * 1e-4
        seq = first_seq + k
        if k % 2:
            frames.append(encode(VisitorActivity(seq=seq, visitor_id=v.id, at=at)))
        else:
            url, title = pages[rng.randrange(len(pages))]
            patch = VisitorPatch(
                seq=seq,
                visitor_id=v.id,
                page=PageVisit(url=url, title=title, at=at),
                current_url=url,
                current_title=title,
                last_activity_at=at,
            )
            frames.append(encode(patch))
    return frames


class _Pauses:
    """Durations of the cyclic collector's passes (``gc.callbacks``), by generation, while installed."""

    def __init__(self) -> None:
        self.passes: list[tuple[int, float]] = []
        self.spans: list[tuple[float, float]] = []  # (start, end) of each pass, perf_counter seconds
        self._start = 0.0

    def __enter__(self) -> _Pauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            end = time.perf_counter()
            self.passes.append((info["generation"], (end - self._start) * 1000))
            self.spans.append((self._start, end))

    def longest(self, generation: int | None = None) -> float:
        """The longest pass (of one generation), 0 when none ran."""
        return max((ms for gen, ms in self.passes if generation in (None, gen)), default=0.0)


def _inside(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """Milliseconds of ``spans`` that overlap the interval (start, end)."""
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in spans) * 1000


def _breakdown(
    gaps: list[tuple[float, float]], parts: dict[str, list[tuple[float, float]]], worst: int = WORST_GAPS
) -> dict[str, float]:
    """What filled the ``worst`` longest probe gaps: median milliseconds of each part, the rest as 'other'."""
    longest = sorted(gaps, key=lambda g: g[1] - g[0], reverse=True)[:worst]
    out: dict[str, float] = {}
    other: list[float] = [(b - a) * 1000 for a, b in longest]
    for name, spans in parts.items():
        inside = [_inside(spans, a, b) for a, b in longest]
        out[name] = percentile(inside, 50)
        other = [o - i for o, i in zip(other, inside, strict=True)]
    out["other"] = percentile(other, 50)
    return out


def measure(n: int, rate: int, seconds: float, sort_column: int) -> dict[str, float]:
    """One run: apply ``rate`` deltas/s for ``seconds`` to a model of ``n`` rows; stall and throughput figures.

    ``rate`` 0 is the baseline: the probe alone over the shown list for ``seconds``.
    """
    from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer

    from bench.common import paint
    from desktop.core.clock import Deadline
    from desktop.core.store import Changes
    from desktop.core.visitor_index import Unapplied
    from desktop.net.client import decode_event
    from desktop.ui.dispatcher import StoreDispatcher
    from desktop.ui.gc_guard import GuiThreadCollector

    qt_app()
    loop = QEventLoop()
    visitors = make_visitors(n)
    setup = real_model(visitors)
    store, model, view = setup.store, setup.model, setup.view
    view.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    paint(view)  # the first paint of the shown list (~10 ms) is start-up, not a stall of the run
    dispatcher = StoreDispatcher(store)
    apply_ms: list[float] = []
    feed_ms: list[float] = []
    model_spans: list[tuple[float, float]] = []
    feed_spans: list[tuple[float, float]] = []

    def apply_changes(changes: Changes, deadline: Deadline | None) -> Unapplied:
        t0 = time.perf_counter()
        left = model.apply_changes(changes, deadline)
        t1 = time.perf_counter()
        apply_ms.append((t1 - t0) * 1000)
        model_spans.append((t0, t1))
        return left

    dispatcher.apply_with(apply_changes)  # as desktop.session wires the app's list
    total = int(rate * seconds)
    frames = _frames(list(visitors), total, store.seq + 1)
    collector = GuiThreadCollector()  # as desktop.app.main_async installs it
    collector.check()  # its first check freezes the start-up heap, as the app's does 250 ms after start

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.paints += 1
            return False

    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    gaps: list[float] = []
    spans: list[tuple[float, float]] = []
    last = [time.perf_counter()]
    applied = [0]
    start = time.perf_counter()

    cpu_gaps: list[float] = []  # the same gaps in this thread's CPU time: without the time the OS ran others
    last_cpu = [time.thread_time()]

    def probe() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append((now - last[0]) * 1000)
        cpu_gaps.append((cpu - last_cpu[0]) * 1000)
        spans.append((last[0], now))
        last[0], last_cpu[0] = now, cpu

    def feed() -> None:
        t0 = time.perf_counter()
        due = min(total, int((time.perf_counter() - start) * rate))
        i = applied[0]
        apply = store.apply
        while i < due:
            apply(decode_event(frames[i]))
            i += 1
        applied[0] = i
        t1 = time.perf_counter()
        feed_ms.append((t1 - t0) * 1000)
        feed_spans.append((t0, t1))
        if i >= total and time.perf_counter() - start >= seconds:
            feeder.stop()
            QTimer.singleShot(100, loop.quit)  # let the last drain and paint happen

    probe_timer = QTimer()
    probe_timer.setTimerType(Qt.TimerType.PreciseTimer)
    probe_timer.setInterval(1)
    probe_timer.timeout.connect(probe)
    feeder = QTimer()
    feeder.setTimerType(Qt.TimerType.PreciseTimer)
    feeder.setInterval(TICK_MS)
    feeder.timeout.connect(feed)
    bound = QTimer()  # never runs away, even when the machine cannot keep up
    bound.setSingleShot(True)
    bound.setInterval(int(seconds * 1000 * 3 + 5000))
    bound.timeout.connect(loop.quit)
    bound.start()
    last[0] = start = time.perf_counter()
    last_cpu[0] = time.thread_time()
    probe_timer.start()
    feeder.start()
    with _Pauses() as pauses:
        loop.exec()
    bound.stop()
    collector.stop()
    elapsed = time.perf_counter() - start - 0.1
    probe_timer.stop()
    feeder.stop()
    backlog = dispatcher.backlog
    dispatcher.detach()
    worst = _breakdown(spans, {"model": model_spans, "feed": feed_spans, "gc": pauses.spans})
    result = {
        "max_gap_ms": max(gaps) if gaps else float("nan"),
        "p99_gap_ms": percentile(gaps, 99),
        "max_cpu_gap_ms": max(cpu_gaps) if cpu_gaps else float("nan"),
        "achieved_per_s": applied[0] / elapsed if elapsed > 0 else float("nan"),
        "drains": float(dispatcher.drains),
        "paints": float(counter.paints),
        "rows": float(model.rowCount()),
        "backlog": float(backlog),
        "apply_median_ms": percentile(apply_ms, 50),
        "apply_max_ms": max(apply_ms) if apply_ms else float("nan"),
        "feed_median_ms": percentile(feed_ms, 50),
        "gc_max_ms": pauses.longest(),
        "gc_full_max_ms": pauses.longest(2),
        "gc_passes": float(len(pauses.passes)),
        **{f"worst_{part}_ms": ms for part, ms in worst.items()},
    }
    view.viewport().removeEventFilter(counter)
    close_view(view)
    return result


def release(n: int, rate: int, sort_column: int, seconds: float = 1.0, paced: bool = False) -> dict[str, float]:
    """The reorder hold kept through ``seconds`` of traffic (pointer over the list), then released: its cost.

    The deltas go to the model one frame's worth at a time while it holds its order. At once (``paced``
    False, a model without a pacer) the release applies every deferred move, arrival and departure and
    the view repaints. Paced, as the app runs it, the real ``StoreDispatcher`` drains it a budgeted chunk
    per frame (drained here by hand, a repaint after each): the longest turn and the frames it took.
    """
    from PySide6.QtCore import Qt

    from bench.common import paint
    from desktop.net.client import decode_event
    from desktop.ui.dispatcher import StoreDispatcher

    visitors = make_visitors(n)
    setup = real_model(visitors)
    store, model, view = setup.store, setup.model, setup.view
    dispatcher = StoreDispatcher(store, frame_ms=3_600_000)  # its timer never fires: drained by hand below
    if paced:
        model.set_pacer(dispatcher.pace(model.release_step))
    view.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    view.selectRow(5)
    model.hold()
    per_frame = max(1, rate * 16 // 1000)
    frames = _frames(list(visitors), int(rate * seconds), store.seq + 1)
    for i in range(0, len(frames), per_frame):
        for frame in frames[i : i + per_frame]:
            store.apply(decode_event(frame))
        model.apply_changes(store.take_changes())
    deferred = model.visitor_index.deferred
    t0 = time.perf_counter()
    model.release()
    t1 = time.perf_counter()
    paint(view)
    t2 = time.perf_counter()
    steps: list[float] = [(t1 - t0) * 1000]
    turns: list[float] = [(t2 - t0) * 1000]
    while dispatcher.pacing:
        t0 = time.perf_counter()
        dispatcher.drain_chunk()
        t1 = time.perf_counter()
        paint(view)
        t2 = time.perf_counter()
        steps.append((t1 - t0) * 1000)
        turns.append((t2 - t0) * 1000)
    dispatcher.detach()
    close_view(view)
    return {
        "release_ms": max(steps),
        "drain_median_ms": percentile(steps[1:], 50) if len(steps) > 1 else steps[0],
        "paint_ms": turns[-1] - steps[-1],
        "turn_ms": max(turns),
        "frames": float(len(turns)),
        "total_ms": sum(turns),
        "deferred": float(deferred),
    }


def costs(n: int, rate: int, sort_column: int, batches: int = 10) -> dict[str, float]:
    """Steady-state cost per update of each stage, measured outside the event loop (no feedback between them).

    One batch is what one 16 ms frame brings at ``rate`` updates per second.
    """
    from PySide6.QtCore import Qt

    from bench.common import paint
    from desktop.net.client import decode_event

    visitors = make_visitors(n)
    setup = real_model(visitors)
    store, model, view = setup.store, setup.model, setup.view
    view.sortByColumn(sort_column, Qt.SortOrder.AscendingOrder)
    per_frame = max(1, rate * 16 // 1000)
    frames = _frames(list(visitors), per_frame * batches, store.seq + 1)
    t_decode = t_store = t_model = t_paint = 0.0
    for b in range(batches):
        t0 = time.perf_counter()
        events = [decode_event(f) for f in frames[b * per_frame : (b + 1) * per_frame]]
        t1 = time.perf_counter()
        for event in events:
            store.apply(event)
        changes = store.take_changes()
        t2 = time.perf_counter()
        model.apply_changes(changes)
        t3 = time.perf_counter()
        paint(view)
        t4 = time.perf_counter()
        t_decode, t_store, t_model, t_paint = (
            t_decode + t1 - t0,
            t_store + t2 - t1,
            t_model + t3 - t2,
            t_paint + t4 - t3,
        )
    count = per_frame * batches
    close_view(view)
    out = {
        "decode_us": t_decode / count * 1e6,
        "store_us": t_store / count * 1e6,
        "model_us": t_model / count * 1e6,
        "paint_ms": t_paint / batches * 1000,
    }
    # CPU seconds one second of this traffic needs: every update, plus one paint per 16 ms frame.
    out["cpu_per_s"] = rate * (out["decode_us"] + out["store_us"] + out["model_us"]) / 1e6 + 60 * out["paint_ms"] / 1000
    return out


def release_figures(sizes: list[int], rate: int, runs: int) -> list[Figure]:
    """Releasing a hold kept through 1 s of ``rate`` deltas/s at each size, at once and a chunk per frame."""
    from desktop.core.ordering import Column

    figures: list[Figure] = []
    for n in sizes:
        held = [release(n, rate, Column.PAGE) for _ in range(runs)]
        figures += [
            Figure(
                f"releasing a hold kept through 1 s of {rate:,} updates/s, {n:,}",
                "ms",
                [r["release_ms"] for r in held],
                "< 16 ms" if n <= 10_000 else "< 50 ms",
            ),
            Figure(f"  repaint after that release, {n:,}", "ms", [r["paint_ms"] for r in held]),
            Figure(f"  changes the hold deferred, {n:,}", "", [r["deferred"] for r in held]),
        ]
        spread = [release(n, rate, Column.PAGE, paced=True) for _ in range(runs)]
        figures += [
            Figure(
                f"releasing it a chunk per frame (dispatcher budget): longest drain, {n:,}",
                "ms",
                [r["release_ms"] for r in spread],
                "< 16 ms" if n <= 10_000 else "< 50 ms",
            ),
            Figure(f"  median drain, {n:,}", "ms", [r["drain_median_ms"] for r in spread]),
            Figure(f"  longest turn, drain + repaint, {n:,}", "ms", [r["turn_ms"] for r in spread]),
            Figure(f"  frames until applied, {n:,}", "", [r["frames"] for r in spread]),
            Figure(f"  time until applied, drains + repaints, {n:,}", "ms", [r["total_ms"] for r in spread]),
        ]
    return figures


def run(sizes: list[int], rate: int = 10_000, seconds: float = 5.0, runs: int = 3) -> list[Figure]:
    """Measure each size ``runs`` times."""
    from desktop.core.ordering import Column

    figures: list[Figure] = []
    for n in sizes:
        target = "< 16 ms" if n <= 10_000 else "< 50 ms"
        results = [measure(n, rate, seconds, Column.PAGE) for _ in range(runs)]
        mx = Figure(
            f"max event-loop stall, {rate:,} updates/s, {n:,} rows sorted", "ms", [r["max_gap_ms"] for r in results]
        )
        mx.target = target
        p99 = Figure(f"  p99 probe gap (1 ms timer), {n:,} rows", "ms", [r["p99_gap_ms"] for r in results])
        cpu = Figure(
            f"  max probe gap in the GUI thread's CPU time, {n:,} rows",
            "ms",
            [r["max_cpu_gap_ms"] for r in results],
            note="the stall without the time other processes had the core",
        )
        got = Figure(f"  updates applied per second, {n:,} rows", "/s", [r["achieved_per_s"] for r in results])
        got.target = f">= {rate:,}"
        drains = Figure(f"  dispatcher drains per second, {n:,} rows", "/s", [r["drains"] / seconds for r in results])
        paints = Figure(f"  viewport paints per second, {n:,} rows", "/s", [r["paints"] / seconds for r in results])
        apply_med = Figure(
            f"  model.apply_changes per drain (median), {n:,}", "ms", [r["apply_median_ms"] for r in results]
        )
        apply_max = Figure(f"  model.apply_changes per drain (max), {n:,}", "ms", [r["apply_max_ms"] for r in results])
        feed = Figure(
            f"  decode+store.apply per {TICK_MS} ms tick (median), {n:,}", "ms", [r["feed_median_ms"] for r in results]
        )
        gc_max = Figure(f"  longest garbage collection pass, {n:,}", "ms", [r["gc_max_ms"] for r in results])
        gc_full = Figure(f"  longest full (generation 2) pass, {n:,}", "ms", [r["gc_full_max_ms"] for r in results])
        worst = [
            Figure(
                f"  in the {WORST_GAPS} longest gaps: {label}, {n:,}", "ms", [r[f"worst_{part}_ms"] for r in results]
            )
            for part, label in (
                ("model", "model.apply_changes"),
                ("feed", "decode+store.apply"),
                ("gc", "garbage collection"),
                ("other", "the rest (repaint, Qt)"),
            )
        ]
        idle = [measure(n, 0, min(seconds, 3.0), Column.PAGE) for _ in range(runs)]
        base_max = Figure(f"  baseline: max probe gap, no updates, {n:,}", "ms", [r["max_gap_ms"] for r in idle])
        base_p99 = Figure(f"  baseline: p99 probe gap, no updates, {n:,}", "ms", [r["p99_gap_ms"] for r in idle])
        base_cpu = Figure(
            f"  baseline: max probe gap in CPU time, no updates, {n:,}", "ms", [r["max_cpu_gap_ms"] for r in idle]
        )
        figures += [mx, p99, cpu, got, drains, paints, apply_med, apply_max, feed, *worst]
        left = Figure(f"  visitor changes not yet shown at the end, {n:,}", "", [r["backlog"] for r in results])
        figures += [left, gc_max, gc_full, base_max, base_p99, base_cpu]
        figures += release_figures([n], rate, runs)
        cost = [costs(n, rate, Column.PAGE) for _ in range(runs)]
        per_frame = max(1, rate * 16 // 1000)
        figures += [
            Figure(f"  cost per update: decode (client's decoder), {n:,}", "us", [c["decode_us"] for c in cost]),
            Figure(f"  cost per update: store.apply, {n:,}", "us", [c["store_us"] for c in cost]),
            Figure(
                f"  cost per update: model.apply_changes ({per_frame}/batch), {n:,}",
                "us",
                [c["model_us"] for c in cost],
            ),
            Figure(f"  repaint after a batch, {n:,}", "ms", [c["paint_ms"] for c in cost]),
            Figure(
                f"  CPU needed per second of {rate:,} updates/s, {n:,}",
                "s",
                [c["cpu_per_s"] for c in cost],
                "< 1 (one core)",
            ),
        ]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, action="append", help="rows (repeatable; default 10k and 100k)")
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--release-only", action="store_true", help="only the release of a long hold, at once and paced"
    )
    add_json_option(parser)
    args = parser.parse_args()
    if args.release_only:
        report(
            "updates: releasing a reorder hold kept through 1 s of deltas, at once and a chunk per frame",
            release_figures(args.size or [10_000, 100_000], args.rate, args.runs),
            json_path=args.json,
        )
        return
    report(
        "updates: sustained deltas through store, dispatcher, model and view",
        run(args.size or [10_000, 100_000], args.rate, args.seconds, args.runs),
        json_path=args.json,
    )


if __name__ == "__main__":
    main()
