"""Encoding and validated decoding of frames, with errors that say what was wrong."""

from __future__ import annotations

import re
from typing import Any, Final, Generic, TypeVar

import msgspec

from protocol.messages import AgentToServer, ErrorCode, ServerToAgent, ServerToVisitor, VisitorToServer
from protocol.rules import MAX_FRAME_BYTES


class FrameError(ValueError):
    """A frame that cannot be accepted; ``code`` and the text go into an error frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


_encoder: Final = msgspec.json.Encoder()


def encode(message: msgspec.Struct) -> bytes:
    """Encode one message as a JSON frame."""
    return _encoder.encode(message)


def with_seq(body: bytes, seq: int) -> bytes:
    """A delta frame from its body encoded without ``seq`` (``{"type":...}``) and the seq the log gave it.

    The seq goes first; decoding finds the ``type`` tag wherever it is.
    """
    return b'{"seq":%d,' % seq + body[1:]


def snapshot_frame(seq: int, reason: str, records: list[bytes], *, part: int, more: bool) -> bytes:
    """A ``snapshot`` page from visitor records already encoded as JSON objects (no decoding on the way)."""
    tail = b',"part":%d' % part if part else b""
    if more:
        tail += b',"more":true'
    return (
        b'{"type":"snapshot","seq":%d,"reason":"%s","visitors":[' % (seq, reason.encode())
        + b",".join(records)
        + b"]"
        + tail
        + b"}"
    )


T = TypeVar("T")

# The rule for every text field of the protocol: NUL and the other C0 control characters (carriage
# return included) are dropped, tab and newline kept, so SQLite and PostgreSQL (which refuses NUL)
# store the same text, and the rest of what a visitor typed is not lost to a refused frame.
# A JSON escape of a C0 control character other than tab (\u0009) and newline (\u000a), preceded by an
# even number of backslashes (an odd number would make the backslash itself the escaped character).
# JSON forbids these characters raw inside strings, so escapes are the only way they can arrive.
_CONTROL = r"(?<!\\)((?:\\\\)*)\\(?:u00(?:0[0-8bBcCdDeEfF]|1[0-9a-fA-F])|[bfr])"
_CONTROL_TEXT: Final = re.compile(_CONTROL)
_CONTROL_BYTES: Final = re.compile(_CONTROL.encode())
_CONTROL_TABLE: Final = dict.fromkeys(c for c in range(32) if c not in (9, 10))


def strip_controls_in_frame(frame: bytes | str) -> bytes | str:
    """The frame with every escaped C0 control character except tab and newline removed from its strings."""
    if isinstance(frame, str):
        return _CONTROL_TEXT.sub(r"\1", frame) if "\\" in frame else frame
    return _CONTROL_BYTES.sub(rb"\1", frame) if b"\\" in frame else frame


def strip_controls(text: str) -> str:
    """``text`` without C0 control characters except tab and newline (the same rule for REST input)."""
    return text.translate(_CONTROL_TABLE) if not text.isprintable() else text


class _Decoder(Generic[T]):
    """A validating decoder for one direction's union."""

    def __init__(self, union: Any, direction: str, max_bytes: int | None = MAX_FRAME_BYTES) -> None:
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(union)
        self._direction = direction
        self._max_bytes = max_bytes

    def decode(self, frame: bytes | str) -> T:
        """Decode and validate one frame or raise :class:`FrameError`."""
        if self._max_bytes is not None:
            size = len(frame.encode() if isinstance(frame, str) else frame)
            if size > self._max_bytes:
                raise FrameError(
                    ErrorCode.FRAME_TOO_LARGE,
                    f"frame of {size} bytes exceeds the limit of {self._max_bytes} bytes; send less per frame",
                )
        try:
            return self._decoder.decode(strip_controls_in_frame(frame))
        except RecursionError:
            # msgspec recurses per nesting level; a deep frame must not escape as a crash (close 4500).
            raise FrameError(ErrorCode.BAD_FRAME, "frame is nested too deeply; send flat JSON objects") from None
        except msgspec.ValidationError as exc:
            raise FrameError(
                ErrorCode.BAD_FRAME, f"invalid {self._direction} frame: {exc}; see docs/protocol.md"
            ) from None
        except msgspec.DecodeError as exc:
            raise FrameError(ErrorCode.BAD_FRAME, f"frame is not valid JSON: {exc}") from None


agent_requests: Final = _Decoder[AgentToServer](AgentToServer, "agent")
"""Decodes what an agent sends (server side)."""
agent_events: Final = _Decoder[ServerToAgent](ServerToAgent, "server-to-agent", max_bytes=None)
"""Decodes what the server sends an agent (desktop side); uncapped, a snapshot of many visitors is large."""
visitor_requests: Final = _Decoder[VisitorToServer](VisitorToServer, "visitor")
"""Decodes what the widget sends (server side)."""
visitor_events: Final = _Decoder[ServerToVisitor](ServerToVisitor, "server-to-visitor")
"""Decodes what the server sends the widget (tests and the demo traffic)."""
