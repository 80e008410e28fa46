"""The visitor list's item delegate: each cell drawn from the model's cached cell in one call, text from QStaticText.

Qt's own delegate asks the model for seven roles per painted cell (seven calls into Python), then lays the
text out, measures and elides it again on every paint. Here an ordinary cell costs one call into the model
(:meth:`VisitorTableModel.paint_cell`), its icon (state, flag, avatar) and its text: elided once per text
and width, shaped once into a :class:`QStaticText`. Where the cell sits (icon rectangle, text rectangle)
comes from the style itself, asked once per column and size. Cells the style draws differently (the
selected row, the focused cell, the row under the pointer, a disabled or right-to-left view) go through
Qt's own path, so selection, focus and hover look exactly as the style draws them; so do the row
backgrounds (alternating colours), which the view draws before the delegate.
"""

from __future__ import annotations

from typing import Final, cast

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QFontMetricsF, QIcon, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from desktop.core.ordering import Column
from desktop.ui.style import Theme, avatar_pixmap, current_theme, follow_theme
from desktop.ui.visitor_model import VisitorTableModel

_Index = QModelIndex | QPersistentModelIndex

_NAME: Final = int(Column.NAME)
_HAS_DECORATION: Final = QStyleOptionViewItem.ViewItemFeature.HasDecoration
_ENABLED: Final = QStyle.StateFlag.State_Enabled
_ACTIVE: Final = QStyle.StateFlag.State_Active
_OWN_PATH: Final = (
    QStyle.StateFlag.State_Selected
    | QStyle.StateFlag.State_HasFocus
    | QStyle.StateFlag.State_MouseOver
    | QStyle.StateFlag.State_Editing
    | _ENABLED
)
"""State bits that decide the path: a cell with exactly State_Enabled of these is drawn here, others by Qt."""
_ITEM_TEXT: Final = QStyle.SubElement.SE_ItemViewItemText
_ITEM_DECORATION: Final = QStyle.SubElement.SE_ItemViewItemDecoration
_FOCUS_MARGIN: Final = QStyle.PixelMetric.PM_FocusFrameHMargin
_CENTER: Final = Qt.AlignmentFlag.AlignCenter
_RTL: Final = Qt.LayoutDirection.RightToLeft
_ELIDE_RIGHT: Final = Qt.TextElideMode.ElideRight
_PLAIN: Final = Qt.TextFormat.PlainText
_TEXT_ROLE: Final = QPalette.ColorRole.Text
_NORMAL: Final = QPalette.ColorGroup.Normal
_INACTIVE: Final = QPalette.ColorGroup.Inactive
# Events of the view after which cached texts, metrics or places no longer hold.
_RESET_EVENTS: Final = frozenset(
    {
        QEvent.Type.FontChange,
        QEvent.Type.StyleChange,
        QEvent.Type.PaletteChange,
        QEvent.Type.LanguageChange,
        QEvent.Type.LayoutDirectionChange,
        QEvent.Type.DevicePixelRatioChange,
    }
)

# (icon rectangle relative to the cell or None, text left, text top, text room in pixels)
_Place = tuple[QRect | None, int, int, int]


class VisitorDelegate(QStyledItemDelegate):
    """Paints every cell of the visitor table (avatars before names; see the module's docstring for how)."""

    AVATARS: Final = 256
    """Avatars kept per generation (a screenful is 25-60); drawing one costs about as much as painting a row."""
    TEXTS: Final = 512
    """Laid-out texts kept per generation: a tall screenful (~480 cells), at ~1.5 KB each (glyphs and positions)."""

    def __init__(self, model: VisitorTableModel, avatar_px: int, view: QTableView) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self._avatar_size = QSize(avatar_px, avatar_px)
        # Two generations each: when the current one is full it becomes the previous one, and what is drawn
        # again moves back from it, so what is on screen stays cached (no screenful laid out again at once).
        self._avatars: dict[tuple[str, str], QIcon] = {}
        self._old_avatars: dict[tuple[str, str], QIcon] = {}
        self._texts: dict[tuple[str, int], tuple[QStaticText, float]] = {}
        self._old_texts: dict[tuple[str, int], tuple[QStaticText, float]] = {}
        self._places: dict[tuple[int, int, int, bool], _Place] = {}
        self._colors: dict[int, QColor] = {}
        self._paths: dict[QStyle.StateFlag, int] = {}
        self._rtl = view.layoutDirection() == _RTL
        self._metrics: QFontMetricsF | None = None
        self._font = QFont()
        self._ratio = view.devicePixelRatioF()
        self.theme = current_theme()
        view.installEventFilter(self)
        view.iconSizeChanged.connect(self._icon_size_changed)
        follow_theme(self.set_theme)

    # ------------------------------------------------------------ what invalidates the caches

    def set_theme(self, theme: Theme) -> None:
        """Avatars in ``theme``'s colours (drawn again on the next paint)."""
        self.theme = theme
        self._avatars.clear()
        self._old_avatars.clear()
        self._colors.clear()

    def set_ratio(self, ratio: float) -> None:
        """The screen's device pixel ratio: avatars are drawn for it, sharp at 200%."""
        if ratio != self._ratio:
            self._ratio = ratio
            self._avatars.clear()
            self._old_avatars.clear()

    def invalidate(self) -> None:
        """Forget every laid-out text, cell place and colour (font, style, palette or language changed)."""
        self._texts.clear()
        self._old_texts.clear()
        self._places.clear()
        self._colors.clear()
        self._paths.clear()
        self._metrics = None
        self._rtl = self._view.layoutDirection() == _RTL

    def _icon_size_changed(self, _size: QSize) -> None:
        self.invalidate()  # the icons' rectangles, and so the texts' room, follow the view's icon size

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The view's font, style, palette, language or pixel ratio changed: cached texts and places go."""
        if event.type() in _RESET_EVENTS:
            self.invalidate()
            self.set_ratio(self._view.devicePixelRatioF())
        return False

    # ------------------------------------------------------------ painting

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        """Qt's own cell with the avatar as the Name column's decoration (the path of selected and focused cells)."""
        super().initStyleOption(option, index)
        if index.column() != _NAME:
            return
        visitor_id = self._model.paint_cell(index.row(), _NAME)[3]
        if visitor_id:
            option.icon = self._avatar(visitor_id, option.text)
            option.decorationSize = self._avatar_size
            option.features = option.features | _HAS_DECORATION

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        """One cell: its icon and its text where the style would put them, in the palette's text colour."""
        state = option.state
        path = self._paths.get(state)
        if path is None:
            path = self._paths[state] = self._path(state)
        if path < 0:  # selected, focused, hovered, edited or disabled: as the style draws it
            super().paint(painter, option, index)
            return
        column = index.column()
        text, icon, right, visitor_id = self._model.paint_cell(index.row(), column)
        if column == _NAME and visitor_id:
            icon = self._avatar(visitor_id, text)
        x, y, w, h = cast("tuple[int, int, int, int]", option.rect.getRect())  # one call, not four
        place = self._places.get((column, w, h, icon is not None))
        if place is None:
            place = self._place(option, index, icon is not None)
        icon_rect, left, top, room = place
        if icon is not None and icon_rect is not None:
            icon.paint(painter, icon_rect.translated(x, y), _CENTER)
        if not text or room <= 0:
            return
        laid_out = self._texts.get((text, room))
        if laid_out is None:
            laid_out = self._lay_out(text, room, option.font)
        static, width = laid_out
        color = self._colors.get(path)
        if color is None:
            color = self._colors[path] = option.palette.color(_NORMAL if path else _INACTIVE, _TEXT_ROLE)
        painter.setPen(color)
        painter.drawStaticText(QPointF(x + left + (room - width if right else 0), y + top), static)

    def _path(self, state: QStyle.StateFlag) -> int:
        """-1: Qt's own path; 1: drawn here in an active window; 0: drawn here in an inactive one."""
        if state & _OWN_PATH != _ENABLED or self._rtl:  # right-to-left: Qt mirrors the places and alignments
            return -1
        return 1 if state & _ACTIVE else 0

    def _place(self, option: QStyleOptionViewItem, index: _Index, has_icon: bool) -> _Place:
        """Where the style puts a cell's icon and text (asked once per column, cell size and icon or not)."""
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        widget = option.widget
        style = widget.style() if widget is not None else self._view.style()
        rect = full.rect
        x, y = rect.x(), rect.y()
        icon_rect = style.subElementRect(_ITEM_DECORATION, full, widget).translated(-x, -y) if has_icon else None
        text_rect = style.subElementRect(_ITEM_TEXT, full, widget)
        margin = style.pixelMetric(_FOCUS_MARGIN, None, widget) + 1
        metrics = self._font_metrics(option.font)
        # Qt centres the text's line box (ascent + descent, whole pixels) in the text rectangle.
        line = int(metrics.ascent() + metrics.descent())
        top = text_rect.y() - y + (text_rect.height() - line) // 2
        place = (icon_rect, text_rect.x() - x + margin, top, text_rect.width() - 2 * margin)
        self._places[index.column(), rect.width(), rect.height(), has_icon] = place
        return place

    def _font_metrics(self, font: QFont) -> QFontMetricsF:
        metrics = self._metrics
        if metrics is None or font != self._font:
            self._texts.clear()
            self._old_texts.clear()
            self._font = QFont(font)
            metrics = self._metrics = QFontMetricsF(font)
        return metrics

    def _lay_out(self, text: str, room: int, font: QFont) -> tuple[QStaticText, float]:
        """The text as drawn in ``room`` pixels: elided with "…" when longer, shaped once (plain text, always)."""
        metrics = self._font_metrics(font)
        key = (text, room)
        laid_out = self._old_texts.pop(key, None)
        if laid_out is None:
            shown = text
            if metrics.horizontalAdvance(text) > room:
                shown = QFontMetrics(font).elidedText(text, _ELIDE_RIGHT, room)
            static = QStaticText(shown)
            static.setTextFormat(_PLAIN)  # visitor-typed text: never rich text
            static.prepare(font=font)
            laid_out = (static, metrics.horizontalAdvance(shown))
        if len(self._texts) >= self.TEXTS:
            self._old_texts, self._texts = self._texts, {}
        self._texts[key] = laid_out
        return laid_out

    def _avatar(self, visitor_id: str, text: str) -> QIcon:
        key = (visitor_id, text)
        icon = self._avatars.get(key)
        if icon is None:
            icon = self._old_avatars.pop(key, None)
            if icon is None:
                pixmap = avatar_pixmap(visitor_id, text, self._avatar_size.width(), self._ratio, self.theme)
                icon = QIcon(pixmap)
            if len(self._avatars) >= self.AVATARS:
                self._old_avatars, self._avatars = self._avatars, {}
            self._avatars[key] = icon
        return icon
