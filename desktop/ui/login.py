"""The login dialog: server URL, e-mail and password; the caller does the network part."""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.style import Theme, error_sheet, follow_theme


def normalize_server_url(text: str) -> str | None:
    """The server URL without trailing slash, or None when it is not an http(s) URL with a host."""
    text = text.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return text


class LoginDialog(QDialog):
    """Asks for server URL, e-mail and password and emits ``submitted``; errors come back via ``show_error``."""

    submitted = Signal(str, str, str)
    """server URL, e-mail, password."""
    cancelled = Signal()

    def __init__(self, server_url: str = "", email: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Log in to Frontdesk"))
        self.setModal(False)

        self.url_edit = QLineEdit(server_url)
        self.url_edit.setMaxLength(2048)
        self.url_edit.setPlaceholderText("https://chat.example.com")
        self.url_edit.setAccessibleName(self.tr("Server address"))
        self.email_edit = QLineEdit(email)
        self.email_edit.setMaxLength(254)
        self.email_edit.setPlaceholderText(self.tr("you@example.com"))
        self.email_edit.setAccessibleName(self.tr("E-mail"))
        self.password_edit = QLineEdit()
        self.password_edit.setMaxLength(1024)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName(self.tr("Password"))

        form = QFormLayout()
        form.addRow(self.tr("&Server:"), self.url_edit)
        form.addRow(self.tr("&E-mail:"), self.email_edit)
        form.addRow(self.tr("&Password:"), self.password_edit)

        self.notice_label = QLabel()
        self.notice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName(self.tr("Login error"))
        self.error_label.hide()

        self.buttons = QDialogButtonBox()
        self.login_button: QPushButton = self.buttons.addButton(
            self.tr("&Log in"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.login_button.setDefault(True)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.notice_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        if server_url and email:
            self.password_edit.setFocus()
        follow_theme(self.restyle)

    def restyle(self, theme: Theme) -> None:
        """The error line in the theme's own error colour (light, dark and high contrast differ)."""
        self.error_label.setStyleSheet(error_sheet(theme))

    def show_notice(self, text: str) -> None:
        """A standing note (for example: no keyring, the login is kept in memory only)."""
        self.notice_label.setText(text)
        self.notice_label.setVisible(bool(text))

    def show_error(self, text: str) -> None:
        """Show why the login failed and let the user try again."""
        self.set_busy(False)
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        """Disable the form while a login is in flight."""
        for widget in (self.url_edit, self.email_edit, self.password_edit, self.login_button):
            widget.setEnabled(not busy)
        self.login_button.setText(self.tr("Logging in…") if busy else self.tr("&Log in"))

    def _submit(self) -> None:
        url = normalize_server_url(self.url_edit.text())
        email = self.email_edit.text().strip()
        password = self.password_edit.text()
        if url is None:
            self.show_error(self.tr("Enter the server address, starting with http:// or https://."))
            self.url_edit.setFocus()
            return
        if "@" not in email:
            self.show_error(self.tr("Enter the e-mail address of your agent account."))
            self.email_edit.setFocus()
            return
        if not password:
            self.show_error(self.tr("Enter your password."))
            self.password_edit.setFocus()
            return
        self.error_label.hide()
        self.set_busy(True)
        self.submitted.emit(url, email, password)

    def clear_password(self) -> None:
        """Forget the typed password (after a login, successful or not)."""
        self.password_edit.clear()

    def reject(self) -> None:
        """Cancel: the app decides whether that quits."""
        self.clear_password()
        super().reject()
        self.cancelled.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window is cancelling."""
        self.clear_password()
        super().closeEvent(event)
