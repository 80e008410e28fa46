"""Refresh the .ts files from the code with pyside6-lupdate and compile them with pyside6-lrelease.

Run it after changing UI strings: `python packaging/update_translations.py`, translate the new entries in
resources/translations/frontdesk_de.ts (Qt Linguist: `pyside6-linguist`), run it again to compile, commit both.
`--check` compiles nothing and exits 1 if a German text is untranslated or a .qm is out of date.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "resources" / "translations"
SOURCES = ROOT / "desktop"
# German gets every text; English is the source language, so its catalogue only holds the plural forms.
CATALOGUES = {"de": ["-target-language", "de_DE"], "en": ["-target-language", "en_US", "-pluralonly"]}


# lupdate files a text under the class it is written in, or under the receiver's name for `obj.tr()`, or
# under "" for a module-level helper; Qt asks at run time with the real context. Until the code passes
# literal contexts (`QCoreApplication.translate("Frontdesk", ...)`), these texts are copied to the context
# the app asks for: desktop/ui/text.py's `tr()` helper uses "Frontdesk"; app.py calls `window.tr()` on
# the MainWindow. A source that no longer produces the alias context makes this a no-op.
CONTEXT_ALIASES = {"": "Frontdesk", "window": "MainWindow"}


class ToolMissingError(Exception):
    """A Qt Linguist tool is not installed."""


def tool(name: str) -> str:
    """Path of a PySide6 Linguist tool (pyside6-lupdate, pyside6-lrelease) of this environment."""
    for candidate in (Path(sys.executable).with_name(name), Path(sys.executable).with_name(f"{name}.exe")):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(f"{name} not found; it comes with PySide6 (pip install PySide6-Essentials)")
    return found


def source_files() -> list[str]:
    """The Python files whose tr()/translate() texts go into the catalogues."""
    return [str(p.relative_to(ROOT)) for p in sorted(SOURCES.rglob("*.py"))]


def ts_path(language: str) -> Path:
    """The translation source of a language."""
    return TRANSLATIONS / f"frontdesk_{language}.ts"


def lupdate(language: str, ts: Path) -> None:
    """Merge the texts found in the code into a .ts file (dropping texts the code no longer has)."""
    command = [tool("pyside6-lupdate"), *source_files(), "-no-obsolete", "-locations", "none", "-silent"]
    command += ["-source-language", "en_US", *CATALOGUES[language], "-ts", str(ts)]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 (our own fixed command line)


def apply_context_aliases(ts: Path) -> None:
    """Copy the messages of each alias context (with their translations) into the context Qt asks for."""
    tree = ET.parse(ts)  # noqa: S314 (our own file)
    root = tree.getroot()
    contexts = {context.findtext("name") or "": context for context in root.iter("context")}
    changed = False
    for alias, target in CONTEXT_ALIASES.items():
        if alias not in contexts:
            continue
        if target not in contexts:
            contexts[target] = ET.SubElement(root, "context")
            ET.SubElement(contexts[target], "name").text = target
        existing = {m.findtext("source"): m for m in contexts[target].iter("message")}
        for message in contexts[alias].iter("message"):
            if message.findtext("source") in existing:
                contexts[target].remove(existing[message.findtext("source")])
            contexts[target].append(copy.deepcopy(message))
            changed = True
    if changed:
        ET.indent(tree, space="    ")
        body = ET.tostring(root, encoding="unicode")
        ts.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n{body}\n', encoding="utf-8")


def messages(ts: Path) -> set[tuple[str, str]]:
    """(context, source text) of every message in a .ts file."""
    root = ET.parse(ts).getroot()  # noqa: S314 (our own file)
    return {
        (context.findtext("name") or "", message.findtext("source") or "")
        for context in root.iter("context")
        for message in context.iter("message")
    }


def lrelease(ts: Path, qm: Path) -> None:
    """Compile one .ts into a .qm."""
    command = [tool("pyside6-lrelease"), "-silent", "-nounfinished", str(ts), "-qm", str(qm)]
    subprocess.run(command, cwd=ROOT, check=True)  # noqa: S603 (our own fixed command line)


def unfinished(ts: Path) -> list[str]:
    """Source texts of a .ts that have no finished translation."""
    root = ET.parse(ts).getroot()  # noqa: S314 (our own file)
    missing = []
    for context in root.iter("context"):
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is None or translation.get("type") in ("unfinished", "obsolete", "vanished"):
                missing.append(f"{context.findtext('name')}: {message.findtext('source')!r}")
    return missing


def check() -> list[str]:
    """Problems of the committed catalogues: untranslated texts and .qm files not compiled from their .ts."""
    problems = [f"untranslated in {ts_path('de').name}: {text}" for text in unfinished(ts_path("de"))]
    with tempfile.TemporaryDirectory() as tmp:
        fresh_ts = Path(tmp) / ts_path("de").name
        shutil.copyfile(ts_path("de"), fresh_ts)
        lupdate("de", fresh_ts)
        added = sorted(messages(fresh_ts) - messages(ts_path("de")))
        problems += [f"new in the code, not yet in {ts_path('de').name}: {c}: {text!r}" for c, text in added]
    problems += [f"plural forms missing in {ts_path('en').name}: {text}" for text in unfinished(ts_path("en"))]
    with tempfile.TemporaryDirectory() as tmp:
        for language in CATALOGUES:
            fresh = Path(tmp) / f"{language}.qm"
            lrelease(ts_path(language), fresh)
            committed = ts_path(language).with_suffix(".qm")
            if not committed.exists() or committed.read_bytes() != fresh.read_bytes():
                problems.append(f"{committed.name} is not compiled from {ts_path(language).name}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Update and compile the catalogues, or with --check only report what is out of date."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report untranslated texts and stale .qm files")
    parser.add_argument("--no-lupdate", action="store_true", help="only compile the .ts files as they are")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        if not args.no_lupdate:
            TRANSLATIONS.mkdir(parents=True, exist_ok=True)
            for language in CATALOGUES:
                lupdate(language, ts_path(language))
                apply_context_aliases(ts_path(language))
        for language in CATALOGUES:
            lrelease(ts_path(language), ts_path(language).with_suffix(".qm"))
    except ToolMissingError as error:
        print(f"update_translations: {error}", file=sys.stderr)
        return 1
    for language in CATALOGUES:
        missing = unfinished(ts_path(language))
        state = f"{len(missing)} to translate" if missing else "complete"
        print(f"{ts_path(language).relative_to(ROOT)}: {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
