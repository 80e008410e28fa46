"""Start Frontdesk at login, the way each system does it (XDG autostart, LaunchAgent, HKCU Run key)."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from desktop.integration.appid import APP_ID, APP_NAME

WINDOWS_RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


class AutostartError(Exception):
    """Start at login could not be switched; the message says what failed and where."""


def launch_command() -> list[str]:
    """The command that starts this Frontdesk: the frozen executable, else the installed `frontdesk` script."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    # The console script of the environment we run from, so the login start uses the same installation.
    for script in (Path(sys.executable).with_name("frontdesk"), Path(sys.executable).with_name("frontdesk.exe")):
        if script.is_file():
            return [str(script)]
    found = shutil.which("frontdesk")
    if found is not None:
        return [found]
    return [sys.executable, "-m", "desktop.app"]


def desktop_exec_line(command: Sequence[str]) -> str:
    """A command as the Exec= value of a .desktop file (quoting per the Desktop Entry specification)."""

    def quote(arg: str) -> str:
        escaped = arg.replace("%", "%%")
        if arg and not any(c in arg for c in " \t\"'\\><~|&;$*?#()`"):
            return escaped
        for char in ("\\", '"', "`", "$"):
            escaped = escaped.replace(char, "\\" + char)
        return f'"{escaped}"'

    # A desktop file is read as "string" type, where a backslash must itself be escaped once more.
    return " ".join(quote(arg) for arg in command).replace("\\", "\\\\")


class Autostart:
    """The start-at-login entry for one command on one system; the location is injectable for tests."""

    def __init__(
        self,
        command: Sequence[str] | None = None,
        *,
        platform: str = sys.platform,
        directory: Path | None = None,
    ) -> None:
        self.command = list(command) if command is not None else launch_command()
        if not self.command:
            raise ValueError("Autostart needs a command to run at login, got an empty one")
        if any("\n" in arg or "\r" in arg for arg in self.command):
            raise ValueError(f"Autostart cannot run a command with a line break in it: {self.command!r}")
        self.platform = platform
        self._directory = directory

    @property
    def location(self) -> str:
        """Where the entry lives, for messages and the settings tooltip."""
        if self.platform == "win32":
            return f"HKEY_CURRENT_USER\\{WINDOWS_RUN_KEY}\\{APP_NAME}"
        return str(self._entry_path())

    def is_enabled(self) -> bool:
        """Whether Frontdesk starts at login."""
        if self.platform == "win32":
            return _read_run_value() is not None
        path = self._entry_path()
        if not path.is_file():
            return False
        if self.platform == "darwin":
            return True
        # The user may have switched it off in the desktop's own startup settings without deleting it.
        lines = {line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()}
        return "Hidden=true" not in lines and "X-GNOME-Autostart-enabled=false" not in lines

    def set_enabled(self, enabled: bool) -> None:
        """Switch start at login on or off."""
        if enabled:
            self.enable()
        else:
            self.disable()

    def enable(self) -> None:
        """Start Frontdesk at login from now on."""
        try:
            if self.platform == "win32":
                _write_run_value(subprocess.list2cmdline(self.command))
                return
            path = self._entry_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            content = self._launch_agent() if self.platform == "darwin" else self._desktop_entry().encode("utf-8")
            # Written beside and renamed, so a crash never leaves a half entry the session would choke on.
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(content)
            partial.replace(path)
        except OSError as error:
            raise AutostartError(f"Could not turn on start at login in {self.location}: {error}") from error

    def disable(self) -> None:
        """Stop starting Frontdesk at login (nothing to do when it is off)."""
        try:
            if self.platform == "win32":
                _delete_run_value()
            else:
                self._entry_path().unlink(missing_ok=True)
        except OSError as error:
            raise AutostartError(f"Could not turn off start at login in {self.location}: {error}") from error

    def _entry_path(self) -> Path:
        if self.platform == "darwin":
            directory = self._directory or Path.home() / "Library" / "LaunchAgents"
            return directory / f"{APP_ID}.plist"
        if self._directory is not None:
            directory = self._directory
        else:
            config_home = os.environ.get("XDG_CONFIG_HOME", "")
            # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
            base = Path(config_home) if Path(config_home).is_absolute() else Path.home() / ".config"
            directory = base / "autostart"
        return directory / f"{APP_ID}.desktop"

    def _desktop_entry(self) -> str:
        return "\n".join(
            [
                "[Desktop Entry]",
                "Type=Application",
                f"Name={APP_NAME}",
                "Comment=Live chat dashboard: see who is on your website",
                f"Exec={desktop_exec_line(self.command)}",
                f"Icon={APP_ID}",
                "Terminal=false",
                "X-GNOME-Autostart-enabled=true",
                "",
            ]
        )

    def _launch_agent(self) -> bytes:
        agent = {
            "Label": APP_ID,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            # A GUI app the user started: no throttling, and launchd must not restart it after Quit.
            "ProcessType": "Interactive",
            "KeepAlive": False,
        }
        return plistlib.dumps(agent)


# The Windows registry, reached only on Windows (winreg exists nowhere else).
NOT_WINDOWS = "The Windows registry is only available on Windows"


def _read_run_value() -> str | None:
    if sys.platform == "win32":
        import winreg  # noqa: PLC0415

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
                value, _ = winreg.QueryValueEx(key, APP_NAME)
        except FileNotFoundError:
            return None
        return str(value)
    raise AutostartError(NOT_WINDOWS)


def _write_run_value(command_line: str) -> None:
    if sys.platform == "win32":
        import winreg  # noqa: PLC0415

        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY) as key:
            winreg.SetValueEx(key, APP_NAME, 0, winreg.REG_SZ, command_line)
        return
    raise AutostartError(NOT_WINDOWS)


def _delete_run_value() -> None:
    if sys.platform == "win32":
        import winreg  # noqa: PLC0415

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, WINDOWS_RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, APP_NAME)
        except FileNotFoundError:
            pass
        return
    raise AutostartError(NOT_WINDOWS)
