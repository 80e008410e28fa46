"""The pre-built server text frames are byte-for-byte what the websockets library would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from server.wsprotocol import wire_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_wire_frame_matches_websockets(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert wire_frame(text) == expected


def test_the_same_string_is_framed_once() -> None:
    text = '{"type":"visitor_left","seq":1,"visitor_id":"v12345678"}'
    assert wire_frame(text) is wire_frame(text)
    equal_but_distinct = "".join(text)
    assert wire_frame(equal_but_distinct) == wire_frame(text)
