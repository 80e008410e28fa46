"""Finding Frontdesk's bundled files (icons, translations) in the source tree and in a frozen app."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon


def resource_root() -> Path:
    """The `resources/` directory: inside a PyInstaller bundle, else next to the `desktop` package."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    # desktop/integration/resources.py -> repository root (source tree and editable install).
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """Path of a file under `resources/`; raises FileNotFoundError naming it when it is missing."""
    if not parts or any(not part or part in (".", "..") or "/" in part or "\\" in part for part in parts):
        raise ValueError(f"resource_path takes plain path components like ('icons', 'frontdesk.svg'), got {parts!r}")
    path = resource_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"Frontdesk resource {'/'.join(parts)} is missing (looked in {path}); the installation is incomplete,"
            " reinstall Frontdesk or run it from a full source checkout"
        )
    return path


def state_icon_name(state: str) -> str:
    """File name of a visitor state's icon: VisitorState.NEW_CHAT ("new_chat") -> "state-new-chat.svg"."""
    # VisitorState is a StrEnum, so its members are the string values used here.
    return f"state-{str(state).replace('_', '-')}.svg"


def state_icon_path(state: str) -> Path:
    """Path of a visitor state's SVG icon (for the icon legend and for tests)."""
    return resource_path("icons", state_icon_name(state))


def app_icon() -> QIcon:
    """Frontdesk's application icon (scalable, so crisp at any device pixel ratio)."""
    return QIcon(str(resource_path("icons", "frontdesk.svg")))


def state_icon(state: str) -> QIcon:
    """The icon for a visitor state (a `desktop.core.state.VisitorState` or its string value)."""
    return QIcon(str(state_icon_path(state)))
