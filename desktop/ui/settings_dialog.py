"""The settings dialog: server, notifications, sound, start minimized, language."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.integration.autostart import Autostart, AutostartError
from desktop.integration.i18n import install_translators
from desktop.settings import Language, NotifyRule, Settings
from desktop.ui.login import normalize_server_url
from desktop.ui.style import Theme, error_sheet, follow_theme


class SettingsDialog(QDialog):
    """Edits the Settings; ``applied`` after they were saved."""

    applied = Signal()

    def __init__(
        self,
        settings: Settings,
        autostart: Autostart | None = None,
        parent: QWidget | None = None,
        *,
        idle_problem: str | None = None,
    ) -> None:
        """``idle_problem`` says why the system's idle time cannot be read (auto-away is then off)."""
        super().__init__(parent)
        self._settings = settings
        self._autostart = autostart
        self.setWindowTitle(self.tr("Frontdesk settings"))

        self.server_edit = QLineEdit(settings.server_url)
        self.server_edit.setMaxLength(2048)
        self.server_edit.setAccessibleName(self.tr("Server address"))
        self.notify_combo = QComboBox()
        self.notify_combo.setAccessibleName(self.tr("Notify about new visitors"))
        for rule, text in (
            (NotifyRule.EVERY, self.tr("Every new visitor")),
            (NotifyRule.RETURNING, self.tr("Returning visitors only")),
            (NotifyRule.CUSTOMERS, self.tr("Customers only")),
            (NotifyRule.OFF, self.tr("Off")),
        ):
            self.notify_combo.addItem(text, str(rule))
        self.notify_combo.setCurrentIndex(self.notify_combo.findData(str(settings.notify_rule)))
        self.messages_check = QCheckBox(self.tr("Notify about chat messages while the window is in the background"))
        self.messages_check.setChecked(settings.notify_messages)
        self.sound_check = QCheckBox(self.tr("Play a sound with notifications"))
        self.sound_check.setChecked(settings.sound)
        self.repeat_spin = QSpinBox()
        self.repeat_spin.setAccessibleName(self.tr("Repeat the sound for waiting chats every"))
        self.repeat_spin.setRange(0, 3600)
        self.repeat_spin.setSuffix(self.tr(" s"))
        self.repeat_spin.setSpecialValueText(self.tr("never"))
        self.repeat_spin.setValue(settings.alert_repeat_seconds)
        self.away_spin = QSpinBox()
        self.away_spin.setAccessibleName(self.tr("Away after this many minutes without input"))
        self.away_spin.setRange(0, 24 * 60)
        self.away_spin.setSuffix(self.tr(" min"))
        self.away_spin.setSpecialValueText(self.tr("never"))
        self.away_spin.setValue(settings.auto_away_minutes)
        self.away_note = QLabel()
        self.away_note.setTextFormat(Qt.TextFormat.PlainText)
        self.away_note.setWordWrap(True)
        if idle_problem:
            self.away_spin.setEnabled(False)
            self.away_note.setText(
                self.tr("Automatic away is not available here (%1); set your status by hand.").replace(
                    "%1", idle_problem
                )
            )
        self.away_note.setVisible(bool(idle_problem))
        self.tabs_check = QCheckBox(self.tr("Open conversations as tabs (otherwise each in its own window)"))
        self.tabs_check.setChecked(settings.conversations_in_tabs)
        self.minimized_check = QCheckBox(self.tr("Start minimized to the tray"))
        self.minimized_check.setChecked(settings.start_minimized)
        self.autostart_check = QCheckBox(self.tr("Start Frontdesk when I log in"))
        self.autostart_check.setVisible(autostart is not None)
        if autostart is not None:
            self.autostart_check.setChecked(autostart.is_enabled())
            self.autostart_check.setToolTip(autostart.location)
        self.language_combo = QComboBox()
        self.language_combo.setAccessibleName(self.tr("Language"))
        for lang, text in (
            (Language.SYSTEM, self.tr("System language")),
            (Language.ENGLISH, "English"),
            (Language.GERMAN, "Deutsch"),
        ):
            self.language_combo.addItem(text, str(lang))
        self.language_combo.setCurrentIndex(self.language_combo.findData(str(settings.language)))
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()
        follow_theme(self._restyle)

        form = QFormLayout()
        form.addRow(self.tr("&Server:"), self.server_edit)
        form.addRow(self.tr("&New visitors:"), self.notify_combo)
        form.addRow("", self.messages_check)
        form.addRow("", self.sound_check)
        form.addRow(self.tr("&Repeat sound for waiting chats:"), self.repeat_spin)
        form.addRow(self.tr("&Away when idle for:"), self.away_spin)
        form.addRow("", self.away_note)
        form.addRow("", self.tabs_check)
        form.addRow("", self.minimized_check)
        form.addRow("", self.autostart_check)
        form.addRow(self.tr("&Language:"), self.language_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _restyle(self, theme: Theme) -> None:
        self.error_label.setStyleSheet(error_sheet(theme))

    def accept(self) -> None:
        """Validate, save, close."""
        url = normalize_server_url(self.server_edit.text())
        if url is None:
            self.error_label.setText(self.tr("Enter the server address, starting with http:// or https://."))
            self.error_label.show()
            return
        if self._autostart is not None and self.autostart_check.isChecked() != self._autostart.is_enabled():
            try:
                self._autostart.set_enabled(self.autostart_check.isChecked())
            except AutostartError as exc:
                self.error_label.setText(str(exc))
                self.error_label.show()
                return
        s = self._settings
        s.server_url = url
        s.notify_rule = NotifyRule(self.notify_combo.currentData())
        s.notify_messages = self.messages_check.isChecked()
        s.sound = self.sound_check.isChecked()
        s.alert_repeat_seconds = self.repeat_spin.value()
        s.auto_away_minutes = self.away_spin.value()
        s.start_minimized = self.minimized_check.isChecked()
        s.conversations_in_tabs = self.tabs_check.isChecked()
        language = Language(self.language_combo.currentData())
        changed = language != s.language
        s.language = language
        s.sync()
        super().accept()
        if changed:
            app = QCoreApplication.instance()
            if app is not None:
                # Qt then sends LanguageChange: windows re-translate, visitor labels and countries follow.
                install_translators(app, str(language))
        self.applied.emit()
