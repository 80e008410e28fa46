"""macOS specifics: showing or hiding the Dock icon at run time (the tray-only mode)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

# NSApplicationActivationPolicy values (AppKit).
REGULAR = 0
ACCESSORY = 1


def set_dock_icon_visible(visible: bool) -> bool:
    """Show or hide the Dock icon (accessory = menu-bar/tray only); True if applied, False off macOS.

    A bundle built with `packaging/build.py --tray-only` sets LSUIElement in Info.plist, so it starts
    without a Dock icon; this switches at run time, e.g. to show the Dock icon while a window is open.
    Call it after the QApplication exists (Qt loads AppKit then).
    """
    if sys.platform == "darwin":
        return _set_activation_policy(REGULAR if visible else ACCESSORY)
    return False


def _set_activation_policy(policy: int) -> bool:
    path = ctypes.util.find_library("objc")
    if path is None:
        return False
    objc = ctypes.cdll.LoadLibrary(path)
    objc.objc_getClass.restype = ctypes.c_void_p
    objc.objc_getClass.argtypes = [ctypes.c_char_p]
    objc.sel_registerName.restype = ctypes.c_void_p
    objc.sel_registerName.argtypes = [ctypes.c_char_p]
    ns_application = objc.objc_getClass(b"NSApplication")
    if not ns_application:
        log.warning("AppKit is not loaded; the Dock icon cannot be switched (is the QApplication created?)")
        return False
    # objc_msgSend has a different C signature per call: declare one function type for each use.
    send_id = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)(("objc_msgSend", objc))
    send_long = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long)(("objc_msgSend", objc))
    shared = send_id(ns_application, objc.sel_registerName(b"sharedApplication"))
    if not shared:
        return False
    return bool(send_long(shared, objc.sel_registerName(b"setActivationPolicy:"), policy))
