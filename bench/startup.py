"""Cold start to a painted list: a fresh process runs the app's silent-login path up to the painted table.

A server process already holds N visitors (synthetic records put into its live presence, so the snapshot
carries them; no websocket per visitor). The parent notes ``time.monotonic()`` and spawns a child, which:
imports the app (``desktop.app``, PySide6, qasync), creates the QApplication and the qasync loop, builds the
real ``Frontdesk`` with settings in a temp ini file and a token already in an in-memory credential store
(the keyring is replaced: it needs a desktop session; everything else is the real path), and calls
``start()``: silent login -> ``start_session`` -> main window -> ``AgentClient`` connects, authenticates,
receives and decodes the snapshot -> store -> dispatcher -> model -> table painted. The clock stops when
the table's viewport has completed a paint while the model holds all N rows.

Not included: Python interpreter start before the parent's timestamp is negligible; no tray (offscreen).

    .venv/bin/python -m bench.startup [--size 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Figure, report
from bench.server import Child


def child(t_spawn: float, http_url: str, token: str, n: int) -> None:
    """The measured process: the app's start-up path until the visitor table is painted with ``n`` rows."""
    t_main = time.monotonic()
    import asyncio

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import Frontdesk
    from desktop.credentials import MemoryStore
    from desktop.settings import Settings

    t_imported = time.monotonic()
    app = QApplication(["frontdesk"])
    marks: dict[str, float] = {"imports": t_imported - t_spawn, "python_start": t_main - t_spawn}
    done = asyncio.Event()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(QSettings(str(Path(tmp) / "frontdesk.ini"), QSettings.Format.IniFormat))
        settings.server_url = http_url
        settings.last_email = "agent@bench.example"
        credentials = MemoryStore()
        credentials.set_token(http_url, "agent@bench.example", token)

        async def main() -> None:
            frontdesk = Frontdesk(settings, credentials, use_tray=False)
            frontdesk.start()
            session = frontdesk.session
            assert session is not None, "no stored token was found: the silent login did not start a session"
            marks["window_built"] = time.monotonic() - t_spawn
            table = session.window.visitors.table
            model = session.model
            store = session.store

            class Watcher(QObject):
                def eventFilter(self, _obj: QObject, event: QEvent) -> bool:  # noqa: N802
                    if (
                        event.type() == QEvent.Type.Paint
                        and len(store.visitors) >= n
                        and model.rowCount() > 0
                        and "painted" not in marks
                    ):
                        # Runs once this paint event has been handled completely.
                        QTimer.singleShot(0, painted)
                    return False

            def painted() -> None:
                if "painted" not in marks:
                    marks["painted"] = time.monotonic() - t_spawn
                    done.set()

            watcher = Watcher()
            table.viewport().installEventFilter(watcher)
            try:
                await asyncio.wait_for(done.wait(), 60)
            except TimeoutError:
                raise TimeoutError(
                    f"no painted table with {n} rows: rows {model.rowCount()}, window visible "
                    f"{session.window.isVisible()}, table visible {table.isVisible()}, client {session.client.state}"
                ) from None
            marks["rows"] = float(model.rowCount())
            await frontdesk.shutdown()

        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(main())
    print(json.dumps(marks), flush=True)


def run(n: int = 10_000, runs: int = 5) -> list[Figure]:
    """Cold starts against one server holding ``n`` visitors."""
    server = Child("--role", "server", "--settings", json.dumps({"preload": n}))
    results = []
    try:
        info = server.read(300)
        for _ in range(runs):
            t0 = time.monotonic()
            cmd = [sys.executable, "-m", "bench.startup", "--child", str(t0), info["http"], str(n)]
            # The token goes through the environment, never the command line (visible in ps, logs).
            env = {**os.environ, "FRONTDESK_BENCH_TOKEN": info["token"]}
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"the start-up child failed: {done.stderr[-3000:]}")
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        server.close()
    return [
        Figure(f"cold start to a painted list of {n:,} visitors", "s", [r["painted"] for r in results], "< 1.5 s"),
        Figure("  of which interpreter start + imports (PySide6, qasync, app)", "s", [r["imports"] for r in results]),
        Figure("  main window built (silent login started)", "s", [r["window_built"] for r in results]),
    ]


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(float(sys.argv[2]), sys.argv[3], os.environ["FRONTDESK_BENCH_TOKEN"], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    report("startup: cold start to a painted visitor list", run(args.size, args.runs))


if __name__ == "__main__":
    main()
