"""Tiny runs of the benchmarks that need no Qt, so the scripts never rot (figures checked for sanity, not speed)."""

from __future__ import annotations

import math

import pytest

from bench import bots, codec, retention, server, snapshot
from bench.common import Figure, percentile


def sane(figures: list[Figure]) -> None:
    """Every figure has samples, and every sample is a finite, non-negative number."""
    assert figures
    for f in figures:
        assert f.samples, f.name
        for x in f.samples:
            assert math.isfinite(x), f"{f.name}: {x}"
            assert x >= 0, f"{f.name}: {x}"
        assert f.line()


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert math.isnan(percentile([], 50))


def test_codec_benchmark_produces_ratios() -> None:
    figures = codec.run(frames=50, runs=1, snapshot=20)
    sane(figures)
    assert any("ratio" in f.extra for f in figures)


def test_bots_benchmark_runs_a_conversation_and_validates() -> None:
    sane(bots.run(events=30, steps=10, runs=1))


@pytest.mark.slow
def test_server_idle_and_storm_benchmark() -> None:
    figures = server.run_idle(visitors=12, reconnect=6, procs=1, warm=0)
    sane(figures)
    assert figures[0].samples == [12.0]  # every visitor was admitted


@pytest.mark.slow
def test_server_idle_benchmark_traces_allocation_sites(capsys: pytest.CaptureFixture[str]) -> None:
    server.run_idle(visitors=8, reconnect=0, procs=1, warm=0, trace=2)
    printed = capsys.readouterr().out
    assert "bytes per socket" in printed
    assert "server/" in printed or "uvicorn/" in printed  # sites in the server's code or its libraries


@pytest.mark.slow
def test_server_fanout_benchmark() -> None:
    figures = server.run_fanout(agents=2, rate=20, seconds=1.0, chat_rate=4, visitors=4, settle=0.5)
    sane(figures)
    assert figures[0].samples[0] > 0  # deliveries arrived


def test_retention_benchmark_deletes_everything_expired() -> None:
    figures = retention.run(messages=30, visitors=7, batch=4, runs=1)
    sane(figures)


@pytest.mark.slow
def test_snapshot_benchmark() -> None:
    figures = snapshot.run(visitors=2_500, runs=1)
    sane(figures)
    assert "listed [2500]" in figures[0].note
