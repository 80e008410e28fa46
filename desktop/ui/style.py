"""Frontdesk's look: one palette per scheme (light, dark, high contrast) and small style sheets for a few widgets.

The palette goes on the application (Fusion paints it the same on every system); style sheets are set only on
the widgets that need them (filter bar, detail card, chips), never on the window or the visitor table, because
a style sheet on an ancestor routes every paint of the table through the slower QStyleSheetStyle.
The scheme follows the system (``QStyleHints.colorScheme`` and the accessibility contrast preference) unless
``FRONTDESK_THEME`` (light, dark, high-contrast, high-contrast-dark) chooses one, as the screenshots do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from desktop.core.labels import avatar_hue, initials
from desktop.core.state import VisitorState

THEME_ENV: Final = "FRONTDESK_THEME"
THEMES: Final = ("light", "dark", "high-contrast", "high-contrast-dark")


@dataclass(frozen=True)
class Theme:
    """The colours of one scheme; ``chips`` maps a state to its chip's (background, text) colours."""

    name: str
    dark: bool
    high_contrast: bool
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    highlight: str
    highlight_text: str
    bubble_agent: str
    bubble_agent_text: str
    bubble_visitor: str
    bubble_auto: str
    danger: str
    chips: dict[VisitorState, tuple[str, str]] = field(default_factory=dict)


def _chips(dark: bool) -> dict[VisitorState, tuple[str, str]]:
    # Tinted backgrounds with dark text on light themes, deep backgrounds with light text on dark ones;
    # every pair keeps at least 4.5:1 (tests/gui/test_style.py checks it).
    light = {
        VisitorState.NEW_CHAT: ("#FFE8D6", "#8A3200"),
        VisitorState.CHATTING: ("#D3F9D8", "#1B5E20"),
        VisitorState.TYPING: ("#D0EBFF", "#0B4F8A"),
        VisitorState.ACTIVE: ("#D3F9D8", "#1B5E20"),
        VisitorState.IDLE: ("#FFF3BF", "#6B4A00"),
        VisitorState.AUTO_MESSAGED: ("#E5DBFF", "#4C2BB0"),
        VisitorState.CUSTOMER: ("#D0EBFF", "#0B4F8A"),
        VisitorState.RETURNING: ("#C5F6FA", "#0B5563"),
        VisitorState.BANNED: ("#FFE3E3", "#A61E1E"),
        VisitorState.LEFT: ("#E9ECEF", "#495057"),
    }
    deep = {
        VisitorState.NEW_CHAT: ("#5A2600", "#FFD8A8"),
        VisitorState.CHATTING: ("#123D1C", "#B2F2BB"),
        VisitorState.TYPING: ("#0B3558", "#A5D8FF"),
        VisitorState.ACTIVE: ("#123D1C", "#B2F2BB"),
        VisitorState.IDLE: ("#4A3800", "#FFEC99"),
        VisitorState.AUTO_MESSAGED: ("#33206E", "#D0BFFF"),
        VisitorState.CUSTOMER: ("#0B3558", "#A5D8FF"),
        VisitorState.RETURNING: ("#0A3A42", "#99E9F2"),
        VisitorState.BANNED: ("#5C1414", "#FFC9C9"),
        VisitorState.LEFT: ("#2E333B", "#CED4DA"),
    }
    return deep if dark else light


LIGHT: Final = Theme(
    name="light",
    dark=False,
    high_contrast=False,
    window="#F3F4F7",
    base="#FFFFFF",
    alt_base="#F8F9FB",
    text="#1C2230",
    muted="#596273",
    border="#D9DDE4",
    accent="#0F766E",
    accent_text="#FFFFFF",
    highlight="#CDEBE7",
    highlight_text="#0B2A27",
    bubble_agent="#0F766E",
    bubble_agent_text="#FFFFFF",
    bubble_visitor="#ECEFF3",
    bubble_auto="#EFE9FF",
    danger="#B42318",
    chips=_chips(dark=False),
)
DARK: Final = Theme(
    name="dark",
    dark=True,
    high_contrast=False,
    window="#15171C",
    base="#1C1F26",
    alt_base="#21252D",
    text="#E7E9EE",
    muted="#A1A9B8",
    border="#323844",
    accent="#2CC3B0",
    accent_text="#062320",
    highlight="#134E48",
    highlight_text="#E8FFFB",
    bubble_agent="#1F6F66",
    bubble_agent_text="#F1FFFD",
    bubble_visitor="#2A2F39",
    bubble_auto="#2F2850",
    danger="#FF8A80",
    chips=_chips(dark=True),
)
HIGH_CONTRAST: Final = Theme(
    name="high-contrast",
    dark=False,
    high_contrast=True,
    window="#FFFFFF",
    base="#FFFFFF",
    alt_base="#FFFFFF",
    text="#000000",
    muted="#000000",
    border="#000000",
    accent="#00007A",
    accent_text="#FFFFFF",
    highlight="#00007A",
    highlight_text="#FFFFFF",
    bubble_agent="#00007A",
    bubble_agent_text="#FFFFFF",
    bubble_visitor="#FFFFFF",
    bubble_auto="#FFFFFF",
    danger="#9B0000",
    chips={state: ("#FFFFFF", "#000000") for state in VisitorState},
)
HIGH_CONTRAST_DARK: Final = Theme(
    name="high-contrast-dark",
    dark=True,
    high_contrast=True,
    window="#000000",
    base="#000000",
    alt_base="#000000",
    text="#FFFFFF",
    muted="#FFFFFF",
    border="#FFFFFF",
    accent="#FFE500",
    accent_text="#000000",
    highlight="#FFE500",
    highlight_text="#000000",
    bubble_agent="#000000",
    bubble_agent_text="#FFFFFF",
    bubble_visitor="#000000",
    bubble_auto="#000000",
    danger="#FF9C9C",
    chips={state: ("#000000", "#FFFFFF") for state in VisitorState},
)
_BY_NAME: Final = {t.name: t for t in (LIGHT, DARK, HIGH_CONTRAST, HIGH_CONTRAST_DARK)}


def theme_named(name: str) -> Theme:
    """A theme by name; a clear error names the choices."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; choose one of {', '.join(THEMES)}") from None


def choose_theme(scheme: Qt.ColorScheme, high_contrast: bool) -> Theme:
    """The theme for the system's colour scheme and contrast preference (light when it says nothing)."""
    dark = scheme == Qt.ColorScheme.Dark
    if high_contrast:
        return HIGH_CONTRAST_DARK if dark else HIGH_CONTRAST
    return DARK if dark else LIGHT


def make_palette(theme: Theme) -> QPalette:
    """The QPalette of a theme (every group; disabled text is muted, never invisible)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.base,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.BrightText: theme.danger,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.highlight_text,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Link: theme.accent if theme.dark else "#0B5CAD",
        QPalette.ColorRole.Accent: theme.accent,
        QPalette.ColorRole.Light: theme.base,
        QPalette.ColorRole.Midlight: theme.alt_base,
        QPalette.ColorRole.Mid: theme.border,
        QPalette.ColorRole.Dark: theme.border,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    # An unfocused window keeps its selection colour: agents read the selected visitor beside another app.
    p.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, QColor(theme.highlight))
    p.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.HighlightedText, QColor(theme.highlight_text))
    return p


def filter_bar_sheet(theme: Theme) -> str:
    """The filter buttons as one segmented control; the checked one filled with the accent colour."""
    width = 2 if theme.high_contrast else 1
    return f"""
QToolButton {{ background: {theme.base}; color: {theme.text}; border: {width}px solid {theme.border};
  border-left-width: 0; padding: 5px 12px; }}
QToolButton[segment="first"] {{ border-left-width: {width}px; border-top-left-radius: 7px;
  border-bottom-left-radius: 7px; }}
QToolButton[segment="last"] {{ border-top-right-radius: 7px; border-bottom-right-radius: 7px; }}
QToolButton:hover {{ background: {theme.alt_base}; }}
QToolButton:checked {{ background: {theme.accent}; color: {theme.accent_text}; font-weight: 600; }}
QToolButton:focus {{ border-color: {theme.accent}; }}
"""


def card_sheet(theme: Theme) -> str:
    """The detail pane as one card: a rounded frame, section titles in small muted capitals, chips."""
    width = 2 if theme.high_contrast else 1
    chips = "".join(
        f'#card QLabel[chip="{state.value}"] {{ background: {bg}; color: {fg}; }}\n'
        for state, (bg, fg) in theme.chips.items()
    )
    chip_border = f"{width}px solid {theme.border}" if theme.high_contrast else "none"
    return f"""
#card {{ background: {theme.base}; border: {width}px solid {theme.border}; border-radius: 10px; }}
#card QLabel {{ background: transparent; }}
#card QLabel#sectionTitle {{ color: {theme.muted}; font-weight: 600; padding-top: 6px; }}
#card QLabel#muted, QLabel#muted {{ color: {theme.muted}; }}
#card QFrame#rule {{ background: {theme.border}; max-height: {width}px; border: none; }}
#card QTreeWidget {{ border: none; background: {theme.base}; }}
#cardScroll {{ border: none; background: transparent; }}
#card QLabel[chip] {{ border-radius: 9px; padding: 1px 8px; font-weight: 600; border: {chip_border}; }}
{chips}"""


def primary_button_sheet(theme: Theme) -> str:
    """The main action of a pane: filled with the accent colour; disabled it is plainly disabled."""
    width = 2 if theme.high_contrast else 1
    return f"""
QPushButton {{ background: {theme.accent}; color: {theme.accent_text}; border: {width}px solid {theme.accent};
  border-radius: 6px; padding: 5px 14px; font-weight: 600; }}
QPushButton:hover {{ border-color: {theme.text}; }}
QPushButton:focus {{ border-color: {theme.text}; }}
QPushButton:disabled {{ background: {theme.alt_base}; color: {theme.muted}; border: {width}px dashed {theme.border}; }}
"""


def note_sheet(theme: Theme) -> str:
    """A muted explanatory line (why an action is unavailable)."""
    return f"color: {theme.muted}; font-style: italic;"


def error_sheet(theme: Theme) -> str:
    """An error line (the server refused, the input is wrong)."""
    return f"color: {theme.danger};"


class ThemeController(QObject):
    """Applies the theme to the application and re-applies it when the system's scheme or contrast changes."""

    changed = Signal(object)  # Theme

    def __init__(self, app: QApplication, forced: str | None = None) -> None:
        super().__init__(app)
        self.setObjectName("frontdesk-theme")
        self._app = app
        self._forced = theme_named(forced) if forced else None
        self.theme = LIGHT
        app.setStyle("Fusion")  # by name: Qt creates and owns the style object
        hints = app.styleHints()
        hints.colorSchemeChanged.connect(lambda _scheme: self.apply())
        hints.accessibility().contrastPreferenceChanged.connect(lambda _pref: self.apply())
        self.apply()

    def system_theme(self) -> Theme:
        """What the system asks for now."""
        hints = self._app.styleHints()
        high = hints.accessibility().contrastPreference() == Qt.ContrastPreference.HighContrast
        return choose_theme(hints.colorScheme(), high)

    def apply(self, theme: Theme | None = None) -> None:
        """Set ``theme`` (default: the forced one, else the system's) as the application palette."""
        self.theme = theme or self._forced or self.system_theme()
        self._app.setPalette(make_palette(self.theme))
        self.changed.emit(self.theme)


def install_theme(app: QApplication) -> ThemeController:
    """Apply Frontdesk's look to ``app`` (call once, before the first window); ``FRONTDESK_THEME`` may force one."""
    existing = theme_controller()
    if existing is not None:
        return existing
    return ThemeController(app, os.environ.get(THEME_ENV) or None)


def theme_controller() -> ThemeController | None:
    """The application's theme controller, if one is installed."""
    app = QApplication.instance()
    if app is None:
        return None
    return app.findChild(ThemeController, "frontdesk-theme")


def current_theme() -> Theme:
    """The theme in use (light before one is installed)."""
    controller = theme_controller()
    return controller.theme if controller is not None else LIGHT


def follow_theme(restyle: Callable[[Theme], None]) -> None:
    """Call ``restyle`` (a widget's bound method) with the theme now and whenever the theme changes.

    A bound method of a QObject: Qt drops the connection when that widget is destroyed.
    """
    restyle(current_theme())
    controller = theme_controller()
    if controller is not None:
        controller.changed.connect(restyle)


def avatar_pixmap(visitor_id: str, text: str, size: int, device_pixel_ratio: float, theme: Theme) -> QPixmap:
    """A round avatar with the visitor's initials on a colour derived from the id (drawn at the screen's ratio)."""
    pixmap = QPixmap(round(size * device_pixel_ratio), round(size * device_pixel_ratio))
    pixmap.setDevicePixelRatio(device_pixel_ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    color = QColor.fromHsl(avatar_hue(visitor_id), 150 if theme.dark else 120, 70 if theme.dark else 110)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(0, 0, size, size))
    font = QFont(QGuiApplication.font())
    font.setPixelSize(max(8, round(size * 0.4)))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#FFFFFF"))
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, initials(text, visitor_id))
    painter.end()
    return pixmap
