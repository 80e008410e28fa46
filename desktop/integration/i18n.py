"""Translations: Frontdesk's own (resources/translations) and Qt's, for the system or a chosen language."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop.integration.resources import resource_root

log = logging.getLogger(__name__)

# Languages the UI ships in; English is the source language (its .qm only carries the plural forms).
LANGUAGES: tuple[str, ...] = ("en", "de")
SYSTEM = "system"
# Marks the translators installed here, so a language switch removes exactly these.
TRANSLATOR_NAME = "frontdesk-translator"
# Qt's catalogues for the widgets Frontdesk uses (standard buttons, dialogs, context menus of line edits).
QT_CATALOGUES = ("qtbase",)


def resolve_language(language: str | None, ui_languages: Sequence[str] | None = None) -> str:
    """The UI language to use: `language` if it is one we ship, else the first system language we ship, else English.

    `language` is the setting: None, "" or "system" follow the system; "en" or "de" choose.
    """
    if language not in (None, "", SYSTEM):
        code = str(language).replace("-", "_").split("_")[0].lower()
        if code not in LANGUAGES:
            raise ValueError(
                f"Frontdesk has no {language!r} translation; choose one of {', '.join((SYSTEM, *LANGUAGES))}"
            )
        return code
    preferred = QLocale.system().uiLanguages() if ui_languages is None else ui_languages
    for name in preferred:
        code = name.replace("-", "_").split("_")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def translations_dir() -> Path:
    """Where Frontdesk's compiled .qm files are."""
    return resource_root() / "translations"


def qt_translations_dir() -> Path:
    """Where Qt's own .qm files are (the PySide6 wheel's, or the frozen bundle's copy of them)."""
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def install_translators(
    app: QCoreApplication,
    language: str | None,
    *,
    ui_languages: Sequence[str] | None = None,
    own_dir: Path | None = None,
    qt_dir: Path | None = None,
) -> str:
    """Install the translators for `language` (None/"system": follow the system) and return the language used.

    Call it after the QApplication exists and before the first window is built; calling it again switches
    (Qt then sends LanguageChange to every widget). Missing catalogues fall back to English with a log line.
    """
    code = resolve_language(language, ui_languages)
    for old in app.findChildren(QTranslator, TRANSLATOR_NAME):
        app.removeTranslator(old)
        # Unparented at once (deleteLater would keep it a child until the loop runs): Python then frees it.
        old.setParent(None)
    own = own_dir or translations_dir()
    candidates = [(own, f"frontdesk_{code}")]
    if code != "en":
        candidates += [(qt_dir or qt_translations_dir(), f"{catalogue}_{code}") for catalogue in QT_CATALOGUES]
    for directory, name in candidates:
        # Parented to the app: it lives as long as the app without a global to hold it.
        translator = QTranslator(app)
        translator.setObjectName(TRANSLATOR_NAME)
        if translator.load(name, str(directory)):
            app.installTranslator(translator)
        else:
            log.warning("translation %s not found in %s; those texts stay in English", name, directory)
            translator.setParent(None)
    QLocale.setDefault(ui_locale(code, language))
    return code


def ui_locale(code: str, language: str | None) -> QLocale:
    """The default locale for UI language ``code``: dates, numbers, visitor labels and countries follow it.

    Following the system, the system's locale is kept when it speaks the UI's language (de_AT stays de_AT);
    otherwise (a "C" locale with LANGUAGE=de, or English regional settings under a German UI) the UI's
    language wins, so a German UI never shows "Visitor" or "Germany".
    """
    system = QLocale.system()
    if language in (None, "", SYSTEM) and system.name().split("_")[0] == code:
        return system
    return QLocale(code)
