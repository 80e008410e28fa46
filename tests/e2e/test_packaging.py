"""The Linux bundle: built by packaging/build.py, then the frozen app runs, shows its windows and installs."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop.integration.appid import APP_ID
from tests.programs import in_ci, need_program

ROOT = Path(__file__).resolve().parents[2]
# Building takes minutes on a small machine; the whole module shares one build.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1800)]


@dataclass(frozen=True)
class Bundle:
    """A finished build: the app folder, its executable and the distributable archive."""

    app: Path
    executable: Path
    archive: Path
    build_seconds: float


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    if sys.platform != "linux":
        pytest.skip("this test builds the Linux bundle; CI's build jobs build the Windows and macOS ones")
    prebuilt = os.environ.get("FRONTDESK_TEST_BUNDLE_DIST")
    if prebuilt:
        # A dist/ folder from an earlier `packaging/build.py`, to iterate on these tests without rebuilding.
        dist = Path(prebuilt)
        archives = list(dist.glob("frontdesk-*-linux-*.tar.gz"))
        return Bundle(dist / "frontdesk", dist / "frontdesk" / "frontdesk", archives[0], 0.0)
    if importlib.util.find_spec("PyInstaller") is None:
        message = "PyInstaller is not installed; run .venv/bin/pip install -e '.[packaging]'"
        if in_ci():
            pytest.fail(f"CI must run every test: {message}")
        pytest.skip(message)
    dist, work = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("work")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"), "--dist", str(dist), "--work", str(work)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    archives = list(dist.glob("frontdesk-*-linux-*.tar.gz"))
    assert len(archives) == 1, f"expected one archive in {sorted(p.name for p in dist.iterdir())}"
    return Bundle(dist / "frontdesk", dist / "frontdesk" / "frontdesk", archives[0], time.monotonic() - started)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A temp dir with a short path: the app's instance socket lives there, and socket paths are short."""
    path = Path(tempfile.mkdtemp(prefix="fd-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def app_env(home: Path, tmpdir: Path, **extra: str) -> dict[str, str]:
    """A clean user for the frozen app: empty home and config, English, no session bus (no real keyring)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QT_", "XDG_", "DBUS_", "LC_", "LANG", "PYTHON", "VIRTUAL_ENV"))
    }
    for name in ("config", "data", "cache", "runtime"):
        (home / name).mkdir(parents=True, exist_ok=True)
    (home / "runtime").chmod(0o700)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        # Its own temp dir: the single-instance lock and socket live there, apart from any other Frontdesk.
        TMPDIR=str(tmpdir),
        LANG="C.UTF-8",
        LANGUAGE="en",
    )
    env.update(extra)
    return env


@pytest.fixture
def xdotool() -> str:
    path = need_program("xdotool", "finds the frozen app's windows on the X display")
    if not os.environ.get("DISPLAY"):
        pytest.fail("no X display: pytest-xvfb should have started Xvfb and set DISPLAY")
    return path


def wait_for_window(
    xdotool: str, title_regex: str, process: subprocess.Popen[str], errors: Path, timeout: float = 90
) -> str:
    """The id of the first visible window whose title matches; fails if the app exits or never shows it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            [xdotool, "search", "--onlyvisible", "--name", title_regex], capture_output=True, text=True, check=False
        )
        if found.returncode == 0 and found.stdout.strip():
            return found.stdout.split()[0]
        if process.poll() is not None:
            pytest.fail(
                f"the frozen app exited with {process.returncode} before showing {title_regex!r}:\n{errors.read_text()}"
            )
        time.sleep(0.25)
    pytest.fail(f"no window titled {title_regex!r} within {timeout} s:\n{errors.read_text()}")


@pytest.fixture
def running() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes started by a test, stopped (SIGTERM, then SIGKILL) at its end."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        if process.stdout is not None:
            process.stdout.close()


def test_frozen_app_reports_its_version(bundle: Bundle, tmp_path: Path, short_tmp: Path) -> None:
    result = subprocess.run(
        [str(bundle.executable), "--version"],
        env=app_env(tmp_path, short_tmp, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, f"frontdesk {project_version()}\n"), result.stderr


def test_frozen_app_opens_the_login_window_once_per_user(
    bundle: Bundle, tmp_path: Path, short_tmp: Path, xdotool: str, running: list[subprocess.Popen[str]]
) -> None:
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [str(bundle.executable)],
            env=app_env(tmp_path, short_tmp, QT_QPA_PLATFORM="xcb", DISPLAY=os.environ["DISPLAY"]),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    running.append(process)
    wait_for_window(xdotool, "^Log in to Frontdesk$", process, errors)
    # One Frontdesk per user: a second launch hands over to the running one and ends.
    second = subprocess.run(
        [str(bundle.executable)],
        env=app_env(tmp_path, short_tmp, QT_QPA_PLATFORM="xcb", DISPLAY=os.environ["DISPLAY"]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stdout
    assert process.poll() is None, "the first instance must keep running"
    process.terminate()
    process.wait(timeout=30)
    assert "Traceback" not in errors.read_text(), errors.read_text()


def test_frozen_app_speaks_german_on_a_german_system(
    bundle: Bundle, tmp_path: Path, short_tmp: Path, xdotool: str, running: list[subprocess.Popen[str]]
) -> None:
    errors = tmp_path / "stderr.txt"
    env = app_env(
        tmp_path, short_tmp, QT_QPA_PLATFORM="xcb", DISPLAY=os.environ["DISPLAY"], LANGUAGE="de", LANG="de_DE.UTF-8"
    )
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [str(bundle.executable)], env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True
        )
    running.append(process)
    # The bundle carries our .qm files: the login window's title is German.
    wait_for_window(xdotool, "^Bei Frontdesk anmelden$", process, errors)
    process.terminate()
    process.wait(timeout=30)
    # ...and Qt's own German catalogue (install_translators logs each one it cannot find).
    assert "not found" not in errors.read_text(), errors.read_text()


def test_frozen_demo_serves_the_website_and_logs_in(
    bundle: Bundle, tmp_path: Path, short_tmp: Path, xdotool: str, running: list[subprocess.Popen[str]]
) -> None:
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [str(bundle.executable), "--demo", "--plan", "pro"],
            env=app_env(tmp_path, short_tmp, QT_QPA_PLATFORM="xcb", DISPLAY=os.environ["DISPLAY"]),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    running.append(process)
    assert process.stdout is not None
    site = ""
    for line in process.stdout:
        if line.startswith("Demo website:"):
            site = line.split()[2]
            break
    assert site.startswith("http://127.0.0.1:"), f"the frozen demo printed no website:\n{errors.read_text()}"
    # The embedded server runs its migrations and serves the static files from inside the bundle.
    with urllib.request.urlopen(site, timeout=30) as response:
        page = response.read().decode("utf-8")
    assert "widget.js" in page
    base = site.split("/demo/")[0]
    with urllib.request.urlopen(f"{base}/widget.js", timeout=30) as response:
        assert response.status == 200
    # Logged in by itself over the websocket: the main window carries the account and plan.
    wait_for_window(xdotool, r"^Frontdesk - .*PRO\)$", process, errors)


def test_archive_installs_for_a_user(bundle: Bundle, tmp_path: Path, short_tmp: Path) -> None:
    with tarfile.open(bundle.archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="tar")
    (top,) = (tmp_path / "unpacked").iterdir()
    prefix = tmp_path / "prefix"
    subprocess.run(["sh", str(top / "install.sh"), str(prefix)], check=True, capture_output=True, timeout=120)
    result = subprocess.run(
        [str(prefix / "bin" / "frontdesk"), "--version"],
        env=app_env(tmp_path / "home", short_tmp, QT_QPA_PLATFORM="offscreen"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout == f"frontdesk {project_version()}\n", result.stderr
    desktop_file = prefix / "share" / "applications" / f"{APP_ID}.desktop"
    assert (prefix / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    assert (prefix / "share" / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()
    validator = need_program("desktop-file-validate", "checks the installed desktop file")
    checked = subprocess.run([validator, str(desktop_file)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    # The menu entry runs this installation even where PREFIX/bin is not on the PATH.
    assert f'Exec="{prefix}/bin/frontdesk"\n' in desktop_file.read_text(encoding="utf-8")
    subprocess.run(["sh", str(top / "install.sh"), "--uninstall", str(prefix)], check=True, capture_output=True)
    assert not (prefix / "bin" / "frontdesk").exists()
    assert not desktop_file.exists()
    assert not (prefix / "lib" / "frontdesk").exists()


def test_bundle_leaves_out_unused_qt(bundle: Bundle) -> None:
    internal = bundle.app / "_internal"
    for unused in ("QtQml", "QtQuick", "QtWebEngineCore", "QtPdf", "QtMultimedia"):
        assert not list(internal.rglob(f"*{unused}*")), f"{unused} was bundled though Frontdesk does not use it"
    qt_translations = {p.name for p in (internal / "PySide6" / "Qt" / "translations").glob("*.qm")}
    assert "qtbase_de.qm" in qt_translations
    assert not [name for name in qt_translations if not name.endswith("_de.qm")]
