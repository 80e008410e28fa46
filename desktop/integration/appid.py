"""The one application id Frontdesk uses everywhere (desktop file, icon, keyring, settings, Windows AUMID)."""

from __future__ import annotations

from typing import Final

# Reverse DNS: the Linux desktop file and icon are named after it, Qt's setDesktopFileName() and the
# Windows AppUserModelID use it, and it names the keyring service and the QSettings scope.
APP_ID: Final = "io.github.frontdesk.Frontdesk"
APP_NAME: Final = "Frontdesk"
# QSettings(ORGANIZATION, APP_NAME): the organisation part of the id, so settings land in
# ~/.config/io.github.frontdesk/Frontdesk.conf, HKCU\Software\io.github.frontdesk\Frontdesk, and
# ~/Library/Preferences/io.github.frontdesk.Frontdesk.plist.
ORGANIZATION: Final = "io.github.frontdesk"
ORGANIZATION_DOMAIN: Final = "frontdesk.github.io"
