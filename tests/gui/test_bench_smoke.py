"""Tiny runs of the Qt benchmarks (view, updates, memory, latency, start-up, day) so the scripts never rot."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from bench import day, latency, memory, resets, startup, updates, view
from bench.common import Figure, report


def sane(figures: list[Figure]) -> None:
    """Every figure has samples, and every sample is a finite, non-negative number."""
    assert figures
    for f in figures:
        assert f.samples, f.name
        for x in f.samples:
            assert math.isfinite(x), f"{f.name}: {x}"
            assert x >= 0, f"{f.name}: {x}"


def test_view_benchmark_with_proxy_baseline(qtbot: QtBot) -> None:
    figures = view.run([150], runs=1)
    sane(figures)
    keystroke = figures[0]
    assert "ratio" in keystroke.extra  # the QSortFilterProxyModel baseline ran in the same run


def test_updates_benchmark(qtbot: QtBot) -> None:
    figures = updates.run([300], rate=400, seconds=0.4, runs=1)
    sane(figures)
    applied = next(f for f in figures if "applied per second" in f.name)
    assert applied.samples[0] > 0
    frames = next(f for f in figures if f.name.strip().startswith("frames until applied"))
    assert frames.samples[0] >= 1  # the paced release ran through the dispatcher until nothing was left


def test_resets_benchmark(qtbot: QtBot) -> None:
    figures = resets.run(visitors=300, runs=2)
    sane(figures)
    assert " online, " in figures[-1].note  # the parts held what the snapshot gave them


@pytest.mark.slow
def test_memory_benchmark() -> None:
    figures = memory.run(n=300, runs=1)
    sane([f for f in figures if not f.name.startswith("RSS")])  # RSS deltas of tiny sizes may be 0 or negative
    assert all(math.isfinite(x) for f in figures for x in f.samples)


@pytest.mark.slow
def test_latency_benchmark(qtbot: QtBot) -> None:
    figures = latency.run(rate=40, seconds=0.5, visitors=3, runs=1, settle=0.2)
    sane(figures)


@pytest.mark.slow
def test_startup_benchmark() -> None:
    figures = startup.run(n=30, runs=1)
    sane(figures)
    assert figures[0].samples[0] >= figures[1].samples[0]  # painted after the imports finished


@pytest.mark.slow
def test_day_benchmark(tmp_path: Path) -> None:
    figures = day.run(minutes=0.05, interval=3, baseline=3, warmup=3)
    sane(figures)
    listed = next(f for f in figures if "visitors listed" in f.name)
    assert listed.samples[0] > 0  # the simulator's visitors reached the app
    out = tmp_path / "day.json"
    report("day (smoke)", figures, json_path=str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["machine"]["calibration_ms"] > 0
    assert [f["name"] for f in document["figures"]] == [f.name.strip() for f in figures]
