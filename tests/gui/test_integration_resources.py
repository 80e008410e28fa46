"""The icons load through Qt and draw something at the sizes the UI uses."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QIcon
from PySide6.QtSvg import QSvgRenderer
from pytestqt.qtbot import QtBot

from desktop.integration.resources import app_icon, resource_root, state_icon
from desktop.ui.style import DARK, HIGH_CONTRAST, HIGH_CONTRAST_DARK, LIGHT

STATES = [
    "new_chat",
    "chatting",
    "active",
    "idle",
    "auto_messaged",
    "customer",
    "returning",
    "banned",
    "left",
    "typing",
]


def _opaque_pixels(icon: QIcon, size: int) -> int:
    image = icon.pixmap(size, size).toImage()
    return sum(
        1 for y in range(image.height()) for x in range(image.width()) if QColor(image.pixel(x, y)).alpha() > 128
    )


@pytest.mark.gui
@pytest.mark.parametrize("state", STATES)
def test_state_icon_draws_at_16_px(qtbot: QtBot, state: str) -> None:
    icon = state_icon(state)
    assert not icon.isNull()
    # A legible 16 px glyph covers a good part of its square; an empty or broken SVG draws nothing.
    assert _opaque_pixels(icon, 16) > 40


def _luminance(color: QColor) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.red()) + 0.7152 * channel(color.green()) + 0.0722 * channel(color.blue())


def _contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Every background a state icon is drawn on: a plain light and dark window, and each Frontdesk theme's rows
# (base, alternate) and selected row (highlight), high contrast included.
BACKGROUNDS = {
    "light": "#FFFFFF",
    "dark": "#1E1E1E",
    **{
        f"{theme.name}-{role}": getattr(theme, role)
        for theme in (LIGHT, DARK, HIGH_CONTRAST, HIGH_CONTRAST_DARK)
        for role in ("base", "alt_base", "highlight")
    },
}


@pytest.mark.gui
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("background", list(BACKGROUNDS.values()), ids=list(BACKGROUNDS))
@pytest.mark.parametrize("scale", [1, 2], ids=["100%", "200%"])
def test_state_icon_stands_out_on_every_theme(qtbot: QtBot, state: str, background: str, scale: int) -> None:
    # At 200% the SVG is drawn at 32 px, not a 16 px bitmap scaled up: crisp, and just as legible.
    image = state_icon(state).pixmap(16 * scale, 16 * scale).toImage()
    base = QColor(background)
    # WCAG's 3:1 for graphical objects: enough of the glyph must reach it against the window colour.
    visible = 0
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = QColor.fromRgba(image.pixel(x, y))
            if pixel.alpha() > 200 and _contrast(pixel, base) >= 3.0:
                visible += 1
    assert visible >= 20 * scale * scale, f"{state} has only {visible} pixels legible on {background}"


@pytest.mark.gui
def test_app_icon_draws_at_every_size(qtbot: QtBot) -> None:
    icon = app_icon()
    for size in (16, 32, 256):
        assert _opaque_pixels(icon, size) > size * size // 2


@pytest.mark.gui
def test_every_svg_is_valid_for_qt(qtbot: QtBot) -> None:
    files = sorted((resource_root() / "icons").glob("*.svg"))
    assert len(files) == 11
    for path in files:
        assert QSvgRenderer(str(path)).isValid(), path.name
