"""An ordinary busy day: CPU and RSS of the desktop app alone in its process, fed by the visitor simulator.

Three processes besides this one, all on loopback: a Frontdesk server (``bench.server``'s server role, with
a PRO account and an agent), the real app (``desktop.app.Frontdesk``'s silent-login path, like
``bench.startup``, window shown on the offscreen platform, ticking once a second as in use), and
``python -m server.simulator --per-minute 120 --initial 50 --time-scale 0.3`` against the server (about 220
visitors online once it has warmed up; it browses, goes idle, chats and leaves like real visitors).

First a baseline in the same run: the connected app with no visitors for ``--baseline`` seconds. Then the
simulator starts, ``--warmup`` seconds pass, and the app's CPU time (user + system, from /proc) and RSS are
sampled every ``--interval`` seconds for ``--minutes`` minutes; the figures are medians over those samples.
``--profile PATH`` runs the app under cProfile and writes its statistics to PATH (for the findings).

    .venv/bin/python -m bench.day [--minutes 10] [--interval 60] [--baseline 60] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

from bench.common import Figure, add_json_option, pointer_away, report, rss_of
from bench.server import TOKEN_ENV, Child

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def app_child(http_url: str, token: str, profile: str | None) -> None:
    """The measured process: the real app, logged in silently, window shown, until 'quit' on stdin."""
    import asyncio

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtCore import QEvent, QObject, QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.app import Frontdesk, configure_qt_environment
    from desktop.credentials import MemoryStore
    from desktop.settings import Settings

    configure_qt_environment()  # as desktop.app.main does
    app = QApplication(["frontdesk"])
    pointer_away()  # an agent's pointer is mostly elsewhere; a hold would defer the list's moves
    quit_event = asyncio.Event()
    paints = [0]

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "frontdesk.ini"), QSettings.Format.IniFormat))
        settings.server_url = http_url
        settings.last_email = "agent@bench.example"
        credentials = MemoryStore()
        credentials.set_token(http_url, "agent@bench.example", token)

        async def main() -> None:
            loop = asyncio.get_running_loop()
            frontdesk = Frontdesk(settings, credentials, use_tray=False)
            frontdesk.start()
            session = frontdesk.session
            assert session is not None, "no stored token was found: the silent login did not start a session"
            table = session.window.visitors.table

            class PaintCounter(QObject):
                def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
                    if event.type() == QEvent.Type.Paint:
                        paints[0] += 1
                    return False

            counter = PaintCounter()
            table.viewport().installEventFilter(counter)

            def stats() -> None:
                print(json.dumps({"rows": session.model.rowCount(), "paints": paints[0]}), flush=True)

            def stdin_reader() -> None:
                # Commands come in on a thread; the answers are made on the GUI thread.
                for line in sys.stdin:
                    command = line.strip()
                    if command == "stats":
                        loop.call_soon_threadsafe(stats)
                    elif command == "quit":
                        break
                loop.call_soon_threadsafe(quit_event.set)

            threading.Thread(target=stdin_reader, daemon=True).start()
            print(json.dumps({"pid": os.getpid(), "ready": True}), flush=True)
            await quit_event.wait()
            await frontdesk.shutdown()

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        with loop:
            loop.run_until_complete(main())
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)


class AppProcess:
    """The app child: JSON lines on stdout, commands on stdin."""

    def __init__(self, http_url: str, token: str, profile: str | None) -> None:
        cmd = [sys.executable, "-m", "bench.day", "--app-child", http_url]
        if profile:
            cmd += ["--profile", profile]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, TOKEN_ENV: token}
        )
        self.pid = int(self._read()["pid"])

    def _read(self) -> dict[str, Any]:
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        while True:
            line = out.readline()
            if not line:
                raise RuntimeError(f"the app child exited with {self.proc.wait()}")
            if line.startswith("{"):
                return json.loads(line)  # type: ignore[no-any-return]

    def stats(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _sample(app: AppProcess, seconds: float) -> dict[str, float]:
    """CPU share of one core, RSS and paints of the app over the next ``seconds``."""
    before = app.stats()
    cpu0, t0 = cpu_seconds(app.pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(app.pid), time.monotonic()
    after = app.stats()
    return {
        "cpu": (cpu1 - cpu0) / (t1 - t0) * 100,
        "rss": rss_of(app.pid) / 2**20,
        "rows": float(after["rows"]),
        "paints": (after["paints"] - before["paints"]) / (t1 - t0),
    }


def run(
    minutes: float = 10.0,
    interval: float = 60.0,
    baseline: float = 60.0,
    warmup: float = 60.0,
    profile: str | None = None,
    per_minute: float = 120.0,
) -> list[Figure]:
    """One ordinary day: baseline samples, then samples under the simulator's traffic."""
    server = Child("--role", "server")
    simulator: subprocess.Popen[str] | None = None
    app: AppProcess | None = None
    try:
        info = server.read(300)
        app = AppProcess(info["http"], info["token"], profile)
        time.sleep(5)  # connected, snapshot applied, first paints done
        idle = [_sample(app, min(interval, baseline)) for _ in range(max(1, round(baseline / interval)))]
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.simulator",
                "--server",
                info["http"],
                "--account",
                info["account_key"],
                "--per-minute",
                str(per_minute),
                "--initial",
                "50",
                "--time-scale",
                "0.3",
                "--visits",
                "1000000",
                "--seed",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(warmup)
        busy = [_sample(app, interval) for _ in range(max(1, round(minutes * 60 / interval)))]
    finally:
        if simulator is not None:
            simulator.send_signal(signal.SIGINT)  # its visitors leave properly
            try:
                simulator.wait(60)
            except subprocess.TimeoutExpired:
                simulator.kill()
                simulator.wait()
        if app is not None:
            app.close()
        server.close()
    minutes_label = f"{len(busy) * interval / 60:g} min"
    return [
        Figure(
            f"app CPU, ordinary day ({per_minute:g} arrivals/min), per sample over {minutes_label}",
            "% core",
            [s["cpu"] for s in busy],
            "< 5 %",
        ),
        Figure("  visitors listed (median over samples)", "rows", [s["rows"] for s in busy]),
        Figure("  viewport paints per second", "/s", [s["paints"] for s in busy]),
        Figure("  app RSS", "MiB", [s["rss"] for s in busy]),
        Figure("baseline: app CPU, connected, no visitors", "% core", [s["cpu"] for s in idle]),
        Figure("  baseline: viewport paints per second", "/s", [s["paints"] for s in idle]),
        Figure("  baseline: app RSS", "MiB", [s["rss"] for s in idle]),
    ]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--app-child":
        profile = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--profile" else None
        app_child(sys.argv[2], os.environ[TOKEN_ENV], profile)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="measured minutes under traffic")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per sample")
    parser.add_argument("--baseline", type=float, default=60.0, help="seconds of the no-visitor baseline")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds of traffic before sampling")
    parser.add_argument("--per-minute", type=float, default=120.0, help="simulated arrivals per minute")
    parser.add_argument("--profile", metavar="PATH", help="run the app under cProfile; statistics to PATH")
    add_json_option(parser)
    args = parser.parse_args()
    report(
        "day: the app on an ordinary busy day (server + simulator in other processes)",
        run(args.minutes, args.interval, args.baseline, args.warmup, args.profile, args.per_minute),
        json_path=args.json,
    )


if __name__ == "__main__":
    main()
