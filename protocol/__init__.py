"""Wire protocol shared by the Frontdesk server, the desktop app and the widget."""

from protocol.rules import (
    ACTIVE_WINDOW_SECONDS,
    MAX_FRAME_BYTES,
    MAX_MESSAGE_CHARS,
    PROTOCOL_VERSION,
    Plan,
    capabilities_for,
    is_active,
)

__all__ = [
    "ACTIVE_WINDOW_SECONDS",
    "MAX_FRAME_BYTES",
    "MAX_MESSAGE_CHARS",
    "PROTOCOL_VERSION",
    "Plan",
    "capabilities_for",
    "is_active",
]
