"""The icons load through Qt and draw something at the sizes the UI uses."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QIcon
from PySide6.QtSvg import QSvgRenderer
from pytestqt.qtbot import QtBot

from desktop.integration.resources import app_icon, resource_root, state_icon

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
