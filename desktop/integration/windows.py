"""Windows specifics: the AppUserModelID that groups the taskbar button and attributes toasts to Frontdesk."""

from __future__ import annotations

import logging
import sys

from desktop.integration.appid import APP_ID

log = logging.getLogger(__name__)


def set_app_user_model_id(app_id: str = APP_ID) -> bool:
    """Give this process the AppUserModelID (before the first window); True if set, False off Windows.

    It must match the System.AppUserModel.ID of the Start-menu shortcut the installer creates
    (packaging/windows/frontdesk.iss), or Windows attributes notifications to "Python" and shows the
    toast without our name and icon.
    """
    if sys.platform == "win32":
        import ctypes  # noqa: PLC0415

        result = ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(ctypes.c_wchar_p(app_id))
        if result != 0:
            log.warning("SetCurrentProcessExplicitAppUserModelID failed with HRESULT %#x", result & 0xFFFFFFFF)
            return False
        return True
    return False


def allow_foreground_handoff() -> None:
    """Let the running instance take the foreground when a second launch asks it to (Windows only)."""
    if sys.platform == "win32":
        import ctypes  # noqa: PLC0415

        # Windows refuses SetForegroundWindow to a background process unless the foreground one allows it.
        asfw_any = -1
        ctypes.windll.user32.AllowSetForegroundWindow(asfw_any)
