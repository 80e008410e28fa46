"""One instance per user, across real processes: a second launch activates the first and exits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket
from pytestqt.qtbot import QtBot

from desktop.integration.single_instance import SingleInstance, default_key, socket_address

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
# A Frontdesk launch reduced to the single-instance step: the first prints "primary" and then every
# activation it receives; a later one prints "secondary" when the running one took its arguments.
CHILD = """
import json, sys
from PySide6.QtCore import QCoreApplication, QTimer
from desktop.integration.single_instance import SingleInstance
app = QCoreApplication(sys.argv)
instance = SingleInstance(sys.argv[1])
if not instance.claim(sys.argv[2:]):
    print("secondary", flush=True)
    sys.exit(0)
print("primary", flush=True)
instance.activated.connect(lambda args: (print(json.dumps(args), flush=True), app.quit()))
QTimer.singleShot(30000, app.quit)
app.exec()
instance.release()
"""


@pytest.fixture
def key() -> Iterator[str]:
    name = f"frontdesk-test-{uuid.uuid4().hex[:12]}"
    yield name
    Path(socket_address(name) + ".lock").unlink(missing_ok=True)


def launch(key: str, *args: str, tmpdir: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, key, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def test_second_launch_hands_its_arguments_to_the_running_instance(qtbot: QtBot, key: str) -> None:
    first = SingleInstance(key)
    try:
        assert first.claim([])
        assert first.is_primary
        second = launch(key, "--demo", "two words")
        with qtbot.waitSignal(first.activated, timeout=15000) as blocker:
            pass
        assert blocker.args == [["--demo", "two words"]]
        out, _ = second.communicate(timeout=15)
        assert (second.returncode, out) == (0, "secondary\n")
    finally:
        first.release()


def test_two_real_processes(key: str) -> None:
    with launch(key) as first:
        try:
            assert first.stdout is not None
            assert first.stdout.readline() == "primary\n"
            second = launch(key, "--plan", "free")
            out, _ = second.communicate(timeout=15)
            assert (second.returncode, out) == (0, "secondary\n")
            assert json.loads(first.stdout.readline()) == ["--plan", "free"]
            assert first.wait(timeout=15) == 0
        finally:
            first.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave nothing behind after a crash")
def test_a_crashed_instance_leaves_nothing_that_blocks_the_next_start(qtbot: QtBot, key: str) -> None:
    with launch(key) as crashed:
        assert crashed.stdout is not None
        assert crashed.stdout.readline() == "primary\n"
        crashed.send_signal(signal.SIGKILL)
        crashed.wait(timeout=15)
    assert Path(socket_address(key) + ".lock").exists(), "the crash should leave the stale lock behind"
    assert Path(socket_address(key)).exists(), "the crash should leave the stale socket behind"

    restarted = SingleInstance(key)
    try:
        assert restarted.claim([])
        second = launch(key, "again")
        with qtbot.waitSignal(restarted.activated, timeout=15000) as blocker:
            pass
        assert blocker.args == [["again"]]
        assert second.communicate(timeout=15)[0] == "secondary\n"
    finally:
        restarted.release()


def test_garbage_on_the_socket_is_dropped_and_the_next_launch_still_works(qtbot: QtBot, key: str) -> None:
    first = SingleInstance(key)
    try:
        assert first.claim([])
        received: list[list[str]] = []
        first.activated.connect(received.append)
        intruder = QLocalSocket()
        intruder.connectToServer(key)
        with qtbot.waitSignal(intruder.disconnected, timeout=15000):
            intruder.write(b'{"command": "rm -rf", "args": [1]}\n')
        assert received == []
        second = launch(key, "ok")
        qtbot.waitUntil(lambda: received == [["ok"]], timeout=15000)
        assert second.communicate(timeout=15)[0] == "secondary\n"
    finally:
        first.release()


def test_the_default_key_is_per_user() -> None:
    assert default_key(user="alice") != default_key(user="bob")
    assert default_key(user="alice") == default_key(user="alice")
    assert default_key(user="alice").startswith("io.github.frontdesk.Frontdesk-")


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes have no path length limit")
def test_a_temp_dir_too_deep_for_a_unix_socket_still_works(key: str, tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    with launch(key, tmpdir=deep) as first:
        try:
            assert first.stdout is not None
            assert first.stdout.readline() == "primary\n"
            second = launch(key, "deep", tmpdir=deep)
            assert second.communicate(timeout=15)[0] == "secondary\n"
            assert json.loads(first.stdout.readline()) == ["deep"]
            assert first.wait(timeout=15) == 0
        finally:
            first.kill()
