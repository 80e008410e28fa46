"""Decode and encode of typical agent frames: protocol.codec (msgspec, validating) against the json module.

The json baseline decodes to dicts only (no validation, no typed objects), so the ratio understates what
msgspec saves over json plus a hand-written validation layer.

    .venv/bin/python -m bench.codec [--frames 20000] [--runs 5]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from bench.common import Figure, base_parser, make_visitors, report
from desktop.net.client import decode_event
from protocol.codec import agent_events, encode
from protocol.messages import Snapshot, VisitorActivity, VisitorChanged


def _per_frame_us(call: Callable[[Any], object], frames: Sequence[Any], runs: int) -> list[float]:
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for frame in frames:
            call(frame)
        out.append((time.perf_counter() - t0) * 1e6 / len(frames))
    return out


def run(frames: int = 20_000, runs: int = 5, snapshot: int = 10_000) -> list[Figure]:
    """Per-frame decode/encode times of a visitor delta and an activity delta; a snapshot's decode time."""
    visitors = make_visitors(max(frames, 1))
    changed = [VisitorChanged(seq=i + 1, visitor=v) for i, v in enumerate(visitors[:frames])]
    activity = [VisitorActivity(seq=i + 1, visitor_id=v.id, at=1.8e9 + i) for i, v in enumerate(visitors[:frames])]
    changed_frames = [encode(m) for m in changed]
    activity_frames = [encode(m) for m in activity]
    changed_dicts = [json.loads(f) for f in changed_frames]
    figures: list[Figure] = []
    for label, msgs, raw in (("visitor delta", changed, changed_frames), ("activity delta", activity, activity_frames)):
        ours = _per_frame_us(agent_events.decode, raw, runs)
        base = _per_frame_us(json.loads, raw, runs)
        f = Figure(f"decode {label} ({len(raw[0])} B), msgspec typed+validated", "us", ours)
        b = Figure(f"  baseline json.loads to dict, {label}", "us", base)
        f.extra["ratio"] = b.median / f.median
        f.note = f"json/msgspec = {b.median / f.median:.1f}x"
        figures += [f, b]
        if label == "visitor delta":
            enc = _per_frame_us(encode, msgs, runs)
            jenc = _per_frame_us(json.dumps, changed_dicts, runs)
            e = Figure(f"encode {label}, msgspec struct -> bytes", "us", enc)
            je = Figure(f"  baseline json.dumps(dict), {label}", "us", jenc)
            e.extra["ratio"] = je.median / e.median
            e.note = f"json/msgspec = {je.median / e.median:.1f}x"
            figures += [e, je]
    snap = encode(Snapshot(seq=1, reason="initial", visitors=make_visitors(snapshot)))
    ours_snap: list[float] = []
    base_snap: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        decode_event(snap)  # the client's decoder: frames over the 64 KiB request cap come from our own server
        ours_snap.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        json.loads(snap)
        base_snap.append((time.perf_counter() - t0) * 1000)
    s = Figure(f"decode snapshot of {snapshot:,} visitors ({len(snap) / 2**20:.1f} MiB), msgspec", "ms", ours_snap)
    bs = Figure("  baseline json.loads snapshot to dicts", "ms", base_snap)
    s.extra["ratio"] = bs.median / s.median
    s.note = f"json/msgspec = {bs.median / s.median:.1f}x"
    assert msgspec.json.decode(snap)["type"] == "snapshot"
    return [*figures, s, bs]


def main() -> None:
    args = base_parser(__doc__.splitlines()[0], frames=20_000, snapshot=10_000).parse_args()
    report("codec: msgspec against json", run(args.frames, args.runs, args.snapshot))


if __name__ == "__main__":
    main()
