"""Small formatting helpers for times and visitor facts shown in the UI."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale

from desktop.core import labels
from protocol.messages import ChatMessage, Visitor


def tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """Translate a string in the shared "Frontdesk" context (module-level helpers have no QObject)."""
    return QCoreApplication.translate("Frontdesk", text, disambiguation, n)


def format_duration(seconds: float) -> str:
    """A duration as h:mm:ss or m:ss (never negative)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def ui_locale() -> str:
    """The UI's locale name ("de_DE"): i18n makes the chosen language Qt's default locale."""
    return QLocale().name()


def format_clock(epoch: float) -> str:
    """Local wall-clock time of an instant in the UI's locale."""
    return labels.format_clock(epoch, ui_locale())


def format_datetime(epoch: float) -> str:
    """Local date and time of an instant in the UI's locale."""
    return labels.format_datetime(epoch, ui_locale())


def display_name(visitor: Visitor) -> str:
    """The visitor's name, else e-mail, else a label built from the id in the UI's language."""
    return labels.visitor_label(visitor, ui_locale())


def country_name(visitor: Visitor) -> str:
    """The visitor's country in the UI's language."""
    return labels.country_name(visitor.country_code, ui_locale(), visitor.country)


def author_text(message: ChatMessage, visitor: Visitor | None) -> str:
    """Who wrote a message, for a conversation line."""
    if message.author == "visitor":
        return display_name(visitor) if visitor is not None else tr("Visitor")
    if message.author == "agent":
        return message.agent_name or tr("Agent")
    if message.author == "auto":
        return tr("Automatic message")
    if message.author == "bot":
        return tr("Bot %1").replace("%1", message.agent_name or "").strip()
    return tr("System")


def message_state(message: ChatMessage) -> str:
    """Delivery state of an agent or automatic message; empty for visitor messages."""
    if message.author == "visitor":
        return ""
    if message.read_at is not None:
        return tr("read")
    if message.delivered_at is not None:
        return tr("delivered")
    return tr("sent")


def has_chat(visitor: Visitor) -> bool:
    """Whether the visitor is in or asking for a conversation already (no plan needed to answer)."""
    return visitor.in_chat or visitor.chat_status in ("unanswered", "active")
