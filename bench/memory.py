"""Client memory per visitor: RSS and tracemalloc of the store + model (+ shown view) with N visitors vs empty.

Each figure comes from a fresh child process: the empty app (QApplication, empty store, model and a shown
offscreen view) is measured first, then a snapshot of N synthetic visitors is encoded, decoded with the
client's own decoder, applied to the store, the model rebuilt and the view painted; the frame is dropped and
garbage collected before measuring. tracemalloc runs in a separate child (it inflates RSS itself).

    .venv/bin/python -m bench.memory [--size 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys

from bench.common import Figure, add_json_option, report, rss_bytes


def child(n: int, trace: bool) -> dict[str, float]:
    """Measure in this process (called in a fresh child)."""
    import tracemalloc

    from bench.common import close_view, make_visitors, paint, real_model
    from desktop.net.client import decode_event
    from protocol.codec import encode
    from protocol.messages import Snapshot

    setup = real_model([], seq=1)
    paint(setup.view)
    frame = encode(Snapshot(seq=2, reason="initial", visitors=make_visitors(n)))
    gc.collect()
    if trace:
        tracemalloc.start(16)
    base_traced = tracemalloc.get_traced_memory()[0] if trace else 0
    rss0 = rss_bytes()
    snapshot = decode_event(frame)
    del frame
    setup.store.apply(snapshot)
    del snapshot
    setup.model.apply_changes(setup.store.take_changes())
    paint(setup.view)
    gc.collect()
    after_store_model = rss_bytes()
    out: dict[str, float] = {"rss_delta": float(after_store_model - rss0), "rows": float(setup.model.rowCount())}
    if trace:
        current = tracemalloc.get_traced_memory()[0] - base_traced
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        by_file: dict[str, int] = {}
        for stat in snap.statistics("traceback"):
            names = " ".join(frame.filename for frame in stat.traceback)
            key = (
                "list index and model (columns, order, search text, cells)"
                if "visitor_model" in names or "visitor_index" in names
                else "visitor records (decoded snapshot kept by the store)"
                if "client" in names or "store" in names
                else "other"
            )
            by_file[key] = by_file.get(key, 0) + stat.size
        out["traced"] = float(current)
        out.update({f"traced {k}": float(v) for k, v in by_file.items()})
    close_view(setup.view)
    return out


def _spawn(n: int, trace: bool) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.memory", "--child", str(n)] + (["--trace"] if trace else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(n: int = 100_000, runs: int = 3) -> list[Figure]:
    """Per-visitor RSS and traced bytes, each from fresh children."""
    rss = [_spawn(n, trace=False) for _ in range(runs)]
    traced = _spawn(n, trace=True)
    per_row = Figure(
        f"RSS per visitor (store + model + view), {n:,} visitors", "B", [r["rss_delta"] / n for r in rss], "<= 500 B"
    )
    total = Figure(f"RSS over the empty app, {n:,} visitors", "MiB", [r["rss_delta"] / 2**20 for r in rss])
    total.target = "<= 50 MB @100k"
    figs = [per_row, total, Figure("  tracemalloc retained per visitor", "B", [traced["traced"] / n])]
    for key, value in sorted(traced.items()):
        if key.startswith("traced "):
            figs.append(Figure(f"    {key.removeprefix('traced ')} per visitor", "B", [value / n]))
    return figs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.trace)))
        return
    report("memory: client store + model per visitor", run(args.size, args.runs), json_path=args.json)


if __name__ == "__main__":
    main()
