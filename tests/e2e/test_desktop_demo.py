"""`frontdesk --demo`, the README's first command, as a real process on the X display."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.programs import need_program

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def visible_windows(display: str, name: str) -> list[str]:
    """Visible X windows whose title matches ``name``."""
    result = subprocess.run(
        ["xdotool", "search", "--onlyvisible", "--name", name],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.split()


def test_version_needs_no_display() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "DISPLAY"},
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"frontdesk \S+\n", result.stdout)


def test_bad_server_address_is_refused_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "desktop.app", "--server", "chat.example.com"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": "/nonexistent-frontdesk-test"},
    )
    assert result.returncode == 2
    assert "not an http(s) URL" in result.stderr


def test_demo_starts_server_site_and_dashboard_then_quits_cleanly(tmp_path: Path) -> None:
    need_program("xdotool", "finding the app's window on the X display")
    display = os.environ.get("DISPLAY")
    if not display:
        pytest.skip("needs an X display (pytest-xvfb provides one)")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TMPDIR": str(tmp_path),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)  # no tray here: the window shows and closing it would quit
    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop.app", "--demo", "--plan", "free", "--seed", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        site = None
        while site is None and time.monotonic() < deadline and proc.poll() is None:
            match = re.search(r"Demo website: (http://\S+)", "".join(output))
            site = match.group(1) if match else None
            time.sleep(0.1)
        assert site is not None, "".join(output)

        # The printed address serves the demo website carrying the real widget.
        page = httpx.get(site, timeout=10)
        assert page.status_code == 200
        assert "widget.js" in page.text

        # The dashboard logged in by itself, on the FREE plan.
        deadline = time.monotonic() + 60
        while not visible_windows(display, r"^Frontdesk - .*FREE") and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(output)
            time.sleep(0.2)
        assert visible_windows(display, r"^Frontdesk - .*FREE"), "".join(output)
        demo_dirs = list(tmp_path.glob("frontdesk-demo-*"))
        assert len(demo_dirs) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        reader.join(5)
        if proc.stdout is not None:
            proc.stdout.close()
    assert rc == 0, "".join(output)
    assert "Traceback" not in "".join(output), "".join(output)
    assert not list(tmp_path.glob("frontdesk-demo-*")), "the demo's temporary database was left behind"
