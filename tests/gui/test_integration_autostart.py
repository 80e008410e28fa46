"""Start at login: the real XDG autostart entry in a temporary config home, the LaunchAgent file format."""

from __future__ import annotations

import plistlib
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.integration.appid import APP_ID
from desktop.integration.autostart import Autostart, AutostartError, desktop_exec_line, launch_command
from desktop.integration.macos import set_dock_icon_visible
from desktop.integration.windows import set_app_user_model_id
from tests.programs import need_program

COMMAND = ["/opt/Front Desk/frontdesk", "--minimized"]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_linux_enable_writes_a_valid_xdg_autostart_entry(config_home: Path) -> None:
    autostart = Autostart(COMMAND, platform="linux")
    assert not autostart.is_enabled()
    autostart.enable()
    entry = config_home / "autostart" / f"{APP_ID}.desktop"
    assert autostart.location == str(entry)
    assert autostart.is_enabled()
    text = entry.read_text(encoding="utf-8")
    assert 'Exec="/opt/Front Desk/frontdesk" --minimized\n' in text
    assert f"Icon={APP_ID}\n" in text
    validator = need_program("desktop-file-validate", "checks the autostart entry")
    result = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_linux_disable_removes_the_entry_and_is_idempotent(config_home: Path) -> None:
    autostart = Autostart(COMMAND, platform="linux")
    autostart.set_enabled(True)
    autostart.set_enabled(False)
    assert not (config_home / "autostart" / f"{APP_ID}.desktop").exists()
    assert not autostart.is_enabled()
    autostart.disable()
    assert not autostart.is_enabled()


def test_linux_entry_hidden_by_the_desktop_counts_as_off(config_home: Path) -> None:
    autostart = Autostart(COMMAND, platform="linux")
    autostart.enable()
    entry = config_home / "autostart" / f"{APP_ID}.desktop"
    entry.write_text(entry.read_text(encoding="utf-8") + "Hidden=true\n", encoding="utf-8")
    assert not autostart.is_enabled()
    autostart.enable()
    assert autostart.is_enabled()


def test_relative_xdg_config_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/config")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Autostart(COMMAND, platform="linux").location == str(
        tmp_path / ".config" / "autostart" / f"{APP_ID}.desktop"
    )


def test_failure_says_where_and_changes_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "autostart"
    blocker.write_text("a file where the directory should be", encoding="utf-8")
    autostart = Autostart(COMMAND, platform="linux", directory=blocker)
    with pytest.raises(AutostartError, match=r"Could not turn on start at login in .*autostart"):
        autostart.enable()
    assert blocker.read_text(encoding="utf-8") == "a file where the directory should be"


def test_macos_launch_agent_runs_the_command_at_load(tmp_path: Path) -> None:
    autostart = Autostart(COMMAND, platform="darwin", directory=tmp_path)
    autostart.enable()
    agent = plistlib.loads((tmp_path / f"{APP_ID}.plist").read_bytes())
    assert agent["Label"] == APP_ID
    assert agent["ProgramArguments"] == COMMAND
    assert agent["RunAtLoad"] is True
    assert autostart.is_enabled()
    autostart.disable()
    assert not autostart.is_enabled()


@pytest.mark.parametrize(
    ("command", "line"),
    [
        (["/usr/bin/frontdesk"], "/usr/bin/frontdesk"),
        (["/a b/x", "100%"], '"/a b/x" 100%%'),
        (["x", 'say "hi" $HOME'], 'x "say \\\\"hi\\\\" \\\\$HOME"'),
        (["x", ""], 'x ""'),
    ],
)
def test_desktop_exec_quoting(command: list[str], line: str) -> None:
    assert desktop_exec_line(command) == line


def test_bad_commands_are_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        Autostart([], platform="linux")
    with pytest.raises(ValueError, match="line break"):
        Autostart(["frontdesk", "a\nb"], platform="linux")


def test_launch_command_is_this_installation() -> None:
    command = launch_command()
    assert Path(command[0]).exists()
    assert Path(command[0]).parent == Path(sys.executable).parent or command[0] == sys.executable


@pytest.mark.skipif(sys.platform == "win32", reason="on Windows it really sets the id")
def test_app_user_model_id_is_a_no_op_elsewhere() -> None:
    assert set_app_user_model_id() is False


@pytest.mark.skipif(sys.platform != "win32", reason="the HKCU Run key exists only on Windows (CI runs this)")
def test_windows_run_key_round_trip() -> None:
    autostart = Autostart(COMMAND, platform="win32")
    was_enabled = autostart.is_enabled()
    try:
        autostart.enable()
        assert autostart.is_enabled()
        autostart.disable()
        assert not autostart.is_enabled()
    finally:
        if was_enabled:
            Autostart(platform="win32").enable()


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS it really switches the Dock icon")
def test_dock_icon_switch_is_a_no_op_elsewhere() -> None:
    assert set_dock_icon_visible(False) is False
