"""The bundled resources exist and are well-formed: an icon for every visitor state, the app icon."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop.integration.resources import resource_path, resource_root, state_icon_name, state_icon_path

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
    # TODO(platform): plain import once desktop/core/state.py has landed.
    state_module = pytest.importorskip("desktop.core.state", reason="desktop.core.state not written yet")
    assert sorted(str(s) for s in state_module.VisitorState) == sorted(LEGEND)
    for state in state_module.VisitorState:
        _parse_svg(resource_path("icons", state_icon_name(state)))


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
