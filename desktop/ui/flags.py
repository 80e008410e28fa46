"""Country flags as cached icons: the colour-emoji glyph is rendered once per country and scale, not per paint."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPainter, QPixmap

from desktop.core.state import flag_emoji

_SCALES: Final = (1.0, 2.0)
"""Device pixel ratios rendered up front: 100 % and 200 % (Qt scales the nearest for others)."""


class FlagIcons:
    """The flag of each ISO country code as a QIcon with crisp pixmaps for 1x and 2x screens.

    Drawing a colour-emoji glyph decodes its PNG bitmap from the font on every paint (more than half of a
    visitor-list repaint was flags); a pixmap drawn once and blitted afterwards costs almost nothing.
    """

    def __init__(self, height: int = 14) -> None:
        self._height = height
        self._icons: dict[str, QIcon] = {}
        self._font = QFont()
        self._font.setFamilies(["Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", self._font.family()])
        self._font.setPixelSize(height)

    def __call__(self, country_code: str | None) -> QIcon | None:
        """The flag icon of a country code, or None when the code is not a valid one."""
        if not country_code:
            return None
        icon = self._icons.get(country_code)
        if icon is None:
            text = flag_emoji(country_code)
            if not text:
                return None
            icon = self._icons[country_code] = self._render(text)
        return icon

    def _render(self, text: str) -> QIcon:
        icon = QIcon()
        scales = set(_SCALES)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            scales.add(screen.devicePixelRatio())
        height = self._height
        width = round(height * 4 / 3)
        for scale in sorted(scales):
            pixmap = QPixmap(round(width * scale), round(height * scale))
            pixmap.setDevicePixelRatio(scale)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.setFont(self._font)
            painter.drawText(QRectF(0, 0, width, height), Qt.AlignmentFlag.AlignCenter, text)
            painter.end()
            icon.addPixmap(pixmap)
        return icon
