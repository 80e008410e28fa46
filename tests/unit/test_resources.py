"""The bundled resources exist and are well-formed: an icon for every visitor state, the app icon."""

from __future__ import annotations

import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop.core.state import VisitorState
from desktop.integration.appid import APP_ID, APP_NAME
from desktop.integration.resources import resource_path, resource_root, state_icon_name, state_icon_path
from tests.programs import need_program

SVG = "{http://www.w3.org/2000/svg}svg"
# The states the icon legend lists; desktop.core.state.VisitorState must match it.
LEGEND = [
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


def _parse_svg(path: Path) -> ET.Element:
    root = ET.parse(path).getroot()
    assert root.tag == SVG, f"{path.name} is not an SVG document (root {root.tag})"
    assert root.get("viewBox"), f"{path.name} has no viewBox, so it cannot scale"
    return root


def test_resource_root_is_the_repository_resources_dir() -> None:
    assert resource_root() == Path(__file__).resolve().parents[2] / "resources"


@pytest.mark.parametrize("state", LEGEND)
def test_every_legend_state_has_a_parsing_svg(state: str) -> None:
    path = state_icon_path(state)
    assert path.name == f"state-{state.replace('_', '-')}.svg"
    root = _parse_svg(path)
    assert root.get("viewBox") == "0 0 16 16", "state icons are drawn on the 16 px grid so they stay crisp there"


def test_every_visitor_state_of_the_core_has_an_icon() -> None:
    assert {state_icon_name(s) for s in VisitorState} == {state_icon_name(s) for s in LEGEND}
    for state in VisitorState:
        _parse_svg(state_icon_path(state))


def test_app_icon_parses() -> None:
    _parse_svg(resource_path("icons", "frontdesk.svg"))


def test_no_stray_icons() -> None:
    names = {p.name for p in (resource_root() / "icons").glob("*.svg")}
    assert names == {"frontdesk.svg"} | {state_icon_name(s) for s in LEGEND}


def test_missing_resource_names_the_file() -> None:
    with pytest.raises(FileNotFoundError, match=r"icons/nope\.svg"):
        resource_path("icons", "nope.svg")


@pytest.mark.parametrize("parts", [(), ("..", "pyproject.toml"), ("icons/frontdesk.svg",), ("",)])
def test_resource_path_refuses_anything_but_plain_components(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="plain path components"):
        resource_path(*parts)


# Linux desktop integration files --------------------------------------------------------------------------------

LINUX = resource_root() / "linux"
DESKTOP_FILE = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_desktop_file_passes_desktop_file_validate() -> None:
    validator = need_program("desktop-file-validate", "checks the Linux .desktop file")
    result = subprocess.run([validator, str(DESKTOP_FILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower(), result.stdout


def test_metainfo_passes_appstreamcli_validate() -> None:
    appstreamcli = need_program("appstreamcli", "checks the AppStream metainfo")
    result = subprocess.run(
        [appstreamcli, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_file_uses_the_app_id_everywhere() -> None:
    entries = dict(line.split("=", 1) for line in DESKTOP_FILE.read_text(encoding="utf-8").splitlines() if "=" in line)
    assert entries["Icon"] == APP_ID
    assert entries["Exec"].split()[0] == "frontdesk"
    assert entries["StartupWMClass"] == APP_NAME, "Qt's X11 WM_CLASS class is the application name"


def test_metainfo_names_the_app_id_desktop_file_and_screenshot() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == DESKTOP_FILE.name
    image = root.findtext("screenshots/screenshot/image") or ""
    assert image.endswith("/docs/screenshot.png")
    assert (resource_root().parent / "docs" / "screenshot.png").is_file(), "the screenshot the metainfo shows"
    assert root.find("content_rating") is not None
    assert root.find("releases/release") is not None


@pytest.mark.parametrize("size", [16, 24, 32, 48, 64, 128, 256, 512])
def test_hicolor_png_icons_have_their_size(size: int) -> None:
    path = LINUX / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    assert _png_size(path) == (size, size)


def test_hicolor_scalable_icon_is_the_app_icon() -> None:
    scalable = LINUX / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert scalable.read_bytes() == resource_path("icons", "frontdesk.svg").read_bytes(), (
        "run packaging/render_icons.py after editing resources/icons/frontdesk.svg"
    )


def test_windows_ico_and_macos_icns_hold_the_usual_sizes() -> None:
    ico = resource_path("windows", "frontdesk.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1)
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes
    icns = resource_path("macos", "frontdesk.icns").read_bytes()
    assert icns[:4] == b"icns"
    assert struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, offset = set(), 8
    while offset < len(icns):
        kinds.add(icns[offset : offset + 4])
        offset += struct.unpack(">I", icns[offset + 4 : offset + 8])[0]
    assert {b"ic07", b"ic08", b"ic09", b"ic10"} <= kinds
