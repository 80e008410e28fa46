"""The settings dialog, the icon legend and the login dialog's own checks (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import QApplication

from desktop.core.state import VisitorState
from desktop.integration.autostart import Autostart
from desktop.integration.i18n import install_translators
from desktop.integration.resources import state_icon
from desktop.settings import Language, NotifyRule, Settings
from desktop.ui.legend import LEGEND_ORDER, LegendDialog, StateIconProvider
from desktop.ui.login import LoginDialog, normalize_server_url
from desktop.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


def test_settings_dialog_saves_every_preference_and_autostart(
    qapp: QApplication, settings: Settings, tmp_path: Path
) -> None:
    autostart = Autostart(["/opt/frontdesk/frontdesk"], platform="linux", directory=tmp_path / "autostart")
    dialog = SettingsDialog(settings, autostart)
    dialog.server_edit.setText("https://chat.example.com/")
    dialog.notify_combo.setCurrentIndex(dialog.notify_combo.findData(str(NotifyRule.RETURNING)))
    dialog.messages_check.setChecked(False)
    dialog.sound_check.setChecked(True)
    dialog.minimized_check.setChecked(True)
    dialog.autostart_check.setChecked(True)
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData(str(Language.GERMAN)))
    locale = QLocale()
    try:
        dialog.accept()
        # The new language applies at once, without a restart.
        assert QCoreApplication.translate("FilterBar", "All") == "Alles"
        assert QLocale().language() == QLocale.Language.German
    finally:
        install_translators(qapp, "en")
        QLocale.setDefault(locale)
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    assert settings.server_url == "https://chat.example.com"
    assert settings.notify_rule is NotifyRule.RETURNING
    assert settings.notify_messages is False
    assert settings.sound is True
    assert settings.start_minimized is True
    assert settings.language is Language.GERMAN
    assert autostart.is_enabled()

    again = SettingsDialog(settings, autostart)
    assert again.autostart_check.isChecked()
    again.autostart_check.setChecked(False)
    again.accept()
    assert not autostart.is_enabled()


def test_settings_dialog_refuses_a_bad_server_address_and_changes_nothing(
    qapp: QApplication, settings: Settings
) -> None:
    before = settings.server_url
    dialog = SettingsDialog(settings)
    assert not dialog.autostart_check.isVisibleTo(dialog)
    dialog.server_edit.setText("chat.example.com")
    dialog.sound_check.setChecked(True)
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "http://" in dialog.error_label.text()
    assert settings.server_url == before
    assert settings.sound is False


def test_legend_lists_every_visitor_icon_with_its_meaning(qapp: QApplication) -> None:
    dialog = LegendDialog(StateIconProvider(state_icon))
    assert set(LEGEND_ORDER) == set(VisitorState)
    assert dialog.list.count() == len(VisitorState)
    for row in range(dialog.list.count()):
        item = dialog.list.item(row)
        assert not item.icon().isNull()
        assert item.text()
    assert {dialog.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(dialog.list.count())} == {
        str(s) for s in VisitorState
    }


def test_login_dialog_checks_its_fields_before_anything_is_sent(qapp: QApplication) -> None:
    dialog = LoginDialog("", "")
    sent: list[tuple[str, str, str]] = []
    dialog.submitted.connect(lambda *args: sent.append(args))
    dialog.url_edit.setText("ftp://x")
    dialog.login_button.click()
    assert "http://" in dialog.error_label.text()
    dialog.url_edit.setText("http://127.0.0.1:8000/")
    dialog.login_button.click()
    assert "e-mail" in dialog.error_label.text()
    dialog.email_edit.setText("ann@example.com")
    dialog.login_button.click()
    assert "password" in dialog.error_label.text()
    assert sent == []
    dialog.password_edit.setText("pw")
    dialog.login_button.click()
    assert sent == [("http://127.0.0.1:8000", "ann@example.com", "pw")]
    assert not dialog.login_button.isEnabled()  # busy until the answer
    assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password
    assert normalize_server_url(" https://a.example/x/ ") == "https://a.example/x"
    assert normalize_server_url("https://") is None
