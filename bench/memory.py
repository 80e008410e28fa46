"""Client memory per visitor: RSS and tracemalloc of the store + model (+ shown view) with N visitors vs empty.

Each figure comes from a fresh child process: the empty app (QApplication, empty store, model and a shown
offscreen view) is measured first, then a snapshot of N synthetic visitors is sent the way the server sends
it (protocol 2: pages of 1,000 visitors without their page trail, labels as the server makes them), each page
encoded, decoded with the client's own decoder and applied to the store; then the model is rebuilt and the
view painted, garbage collected, and RSS read. tracemalloc runs in a separate child (it inflates RSS itself)
and attributes the retained bytes to the file of the innermost frame of ours that allocated them.

    .venv/bin/python -m bench.memory [--size 100000] [--runs 3] [--page 1000] [--trail] [--one-frame]
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.common import Figure, add_json_option, report, rss_bytes

_ROOT = str(Path(__file__).resolve().parent.parent)


def _ours(filename: str) -> str | None:
    """A repository-relative path for one of our files (None for the standard library and dependencies)."""
    if not filename.startswith(_ROOT) or "/.venv/" in filename or "site-packages" in filename:
        return None
    return filename[len(_ROOT) + 1 :]


def write_frames(path: str, n: int, page: int = 1000, trail: bool = False, one_frame: bool = False) -> None:
    """The snapshot as the server sends it, frame by frame into a file (length-prefixed).

    Made in another process than the measuring one: building 100,000 synthetic visitors there would leave
    freed memory behind that the store then fills without growing RSS.
    """
    import msgspec

    from bench.common import make_visitors
    from protocol.codec import encode
    from protocol.messages import Snapshot
    from server.live.core import label_for

    visitors = [
        msgspec.structs.replace(v, label=label_for(v), pages=v.pages if trail else ()) for v in make_visitors(n)
    ]
    size = n if one_frame else page
    parts = [visitors[i : i + size] for i in range(0, n, size)] or [[]]
    with open(path, "wb") as out:
        for k, part in enumerate(parts):
            frame = encode(Snapshot(seq=2, reason="initial", visitors=part, part=k, more=k < len(parts) - 1))
            out.write(len(frame).to_bytes(8, "little"))
            out.write(frame)


def _read_frames(path: str) -> Iterator[bytes]:
    with open(path, "rb", buffering=0) as frames:
        while head := frames.read(8):
            yield frames.read(int.from_bytes(head, "little"))


def child(path: str, trace: bool) -> dict[str, float]:
    """Measure in this process (called in a fresh child): apply the frames in ``path`` to an empty app."""
    import tracemalloc

    from bench.common import close_view, make_visitors, paint, real_model
    from desktop.net.client import decode_event

    # The empty app has painted a row once: the first row loads Babel's locale data for country names
    # (~4 MB, whatever the number of visitors), which is not a cost per visitor. Page 0 then replaces it.
    setup = real_model(make_visitors(1), seq=1)
    paint(setup.view)
    gc.collect()
    if trace:
        tracemalloc.start(24)
    base_traced = tracemalloc.get_traced_memory()[0] if trace else 0
    rss0 = rss_bytes()
    for frame in _read_frames(path):
        setup.store.apply(decode_event(frame))
        del frame
    setup.model.apply_changes(setup.store.take_changes())
    paint(setup.view)
    gc.collect()
    after_store_model = rss_bytes()
    out: dict[str, float] = {"rss_delta": float(after_store_model - rss0), "rows": float(setup.model.rowCount())}
    if not trace:
        # The steady state: the orders the app prepares in idle time after a snapshot, prepared here at once.
        from desktop.integration.memory import give_back_freed_memory
        from desktop.ui.visitor_model import WARM_COLUMNS

        index = setup.model.visitor_index
        index.warm(WARM_COLUMNS)
        while index.warm_step():
            pass
        gc.collect()
        give_back_freed_memory()  # as the model does when its preparation is done
        out["rss_delta_warm"] = float(rss_bytes() - rss0)
    if trace:
        current = tracemalloc.get_traced_memory()[0] - base_traced
        snap = tracemalloc.take_snapshot()
        tracemalloc.stop()
        by_file: dict[str, int] = {}
        for stat in snap.statistics("traceback"):
            names = [name for frame in reversed(stat.traceback) if (name := _ours(frame.filename)) is not None]
            key = names[0] if names else "other"
            by_file[key] = by_file.get(key, 0) + stat.size
        out["traced"] = float(current)
        out.update({f"traced {k}": float(v) for k, v in by_file.items()})
    close_view(setup.view)
    return out


def _spawn(path: str, trace: bool) -> dict[str, float]:
    cmd = [sys.executable, "-m", "bench.memory", "--child", path] + (["--trace"] if trace else [])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(
    n: int = 100_000, runs: int = 3, page: int = 1000, trail: bool = False, one_frame: bool = False
) -> list[Figure]:
    """Per-visitor RSS and traced bytes, each from fresh children."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        path = f"{tmp}/frames"
        write_frames(path, n, page, trail, one_frame)
        rss = [_spawn(path, False) for _ in range(runs)]
        traced = _spawn(path, True)
    per_row = Figure(
        f"RSS per visitor (store + model + view), {n:,} visitors", "B", [r["rss_delta"] / n for r in rss], "<= 500 B"
    )
    total = Figure(f"RSS over the empty app, {n:,} visitors", "MiB", [r["rss_delta"] / 2**20 for r in rss])
    total.target = "<= 50 MB @100k"
    warm = Figure(
        f"  the same with the orders prepared in idle time (name, time on site), {n:,}",
        "B",
        [r["rss_delta_warm"] / n for r in rss],
        "<= 500 B",
    )
    figs = [per_row, warm, total, Figure("  tracemalloc retained per visitor", "B", [traced["traced"] / n])]
    files = sorted(
        ((key.removeprefix("traced "), value) for key, value in traced.items() if key.startswith("traced ")),
        key=lambda item: -item[1],
    )
    for name, value in files:
        if abs(value) / n >= 1:
            figs.append(Figure(f"    allocated in {name}, per visitor", "B", [value / n]))
    return figs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", type=int, default=1000, help="visitors per snapshot page (the server's 1,000)")
    parser.add_argument("--trail", action="store_true", help="snapshot records carry a 3-page trail (protocol 1)")
    parser.add_argument("--one-frame", action="store_true", help="the snapshot in one frame (protocol 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.trace)))
        return
    report(
        "memory: client store + model per visitor",
        run(args.size, args.runs, args.page, args.trail, args.one_frame),
        json_path=args.json,
    )


if __name__ == "__main__":
    main()
