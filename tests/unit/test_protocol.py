"""The wire protocol decodes valid frames and rejects bad ones with a clear error."""

from __future__ import annotations

import msgspec
import pytest

from protocol import ACTIVE_WINDOW_SECONDS, MAX_FRAME_BYTES, Plan, capabilities_for, is_active
from protocol.codec import FrameError, agent_events, agent_requests, encode, strip_controls, visitor_requests
from protocol.messages import (
    AccountInfo,
    AgentInfo,
    ErrorCode,
    Hello,
    SendMessage,
    Snapshot,
    Visitor,
    VisitorChat,
    VisitorHello,
)


def test_send_message_round_trips() -> None:
    msg = SendMessage(ref="r1", id="msg-00000001", visitor_id="visitor-0001", text="Hallo <b>du</b>")
    assert agent_requests.decode(encode(msg)) == msg


@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (b"not json", "not valid JSON"),
        (b'{"type": "launch_missiles"}', "$.type"),
        (b'{"type": "send_message", "ref": "r", "id": "x", "visitor_id": "visitor-0001", "text": "hi"}', "$.id"),
        (
            b'{"type": "send_message", "ref": "r", "id": "msg-00000001", "visitor_id": "visitor-0001", "text": ""}',
            "text",
        ),
        (b'{"type": "open_conversation", "ref": "r"}', "visitor_id"),
    ],
)
def test_bad_agent_frames_name_the_problem(frame: bytes, fragment: str) -> None:
    with pytest.raises(FrameError) as info:
        agent_requests.decode(frame)
    assert info.value.code is ErrorCode.BAD_FRAME
    assert fragment in str(info.value)


def test_oversized_frame_is_refused_before_parsing() -> None:
    frame = b'{"type": "activity", "kind": "scroll", "pad": "' + b"x" * MAX_FRAME_BYTES + b'"}'
    with pytest.raises(FrameError) as info:
        visitor_requests.decode(frame)
    assert info.value.code is ErrorCode.FRAME_TOO_LARGE
    assert str(MAX_FRAME_BYTES) in str(info.value)


@pytest.mark.parametrize(
    ("escaped", "text"),
    [
        (r"a\u0000b", "ab"),
        (r"line\r\nnext", "line\nnext"),
        (r"tab\there", "tab\there"),
        (r"\u0007bell\u001F\u000a", "bell\n"),
        (r"\b\fform", "form"),
        (r"a\\u0000", "a\\u0000"),  # an escaped backslash followed by the letters u0000
        (r"a\\\u0000", "a\\"),  # an escaped backslash, then a real NUL
        ("caf\u00e9 \u2603", "caf\u00e9 \u2603"),
    ],
)
def test_text_fields_lose_control_characters_but_keep_tab_and_newline(escaped: str, text: str) -> None:
    frame = '{"type": "chat_message", "id": "m12345678", "text": "x' + escaped + '"}'
    for raw in (frame, frame.encode()):
        message = visitor_requests.decode(raw)
        assert isinstance(message, VisitorChat)
        assert message.text == "x" + text


def test_rest_input_follows_the_same_text_rule() -> None:
    assert strip_controls("a\x00b\r\n\tc\x1b") == "ab\n\tc"
    assert strip_controls("plain") == "plain"


def test_deep_nesting_is_a_bad_frame_not_a_crash() -> None:
    with pytest.raises(FrameError) as info:
        agent_requests.decode('{"type": "auth", "token": ' + "[" * 5000 + "]" * 5000 + "}")
    assert info.value.code is ErrorCode.BAD_FRAME


def test_message_text_is_capped() -> None:
    frame = encode(SendMessage(ref="r", id="msg-00000001", visitor_id="visitor-0001", text="a")).replace(
        b'"a"', b'"' + b"a" * 4001 + b'"'
    )
    with pytest.raises(FrameError):
        agent_requests.decode(frame)


def test_visitor_hello_tag_is_separate_from_agent_hello() -> None:
    hello = VisitorHello(tab_id="tab-00000001", url="https://shop.example/")
    assert visitor_requests.decode(encode(hello)) == hello


def test_server_events_decode_into_their_types() -> None:
    visitor = Visitor(id="visitor-0001", label="#0001", first_seen_at=1.0, visit_started_at=1.0, last_activity_at=2.0)
    hello = Hello(
        protocol=2,
        server_version="0.1.0",
        agent=AgentInfo(id=1, email="a@example.com", name="Ada"),
        account=AccountInfo(id=1, name="Shop", plan=Plan.FREE),
        capabilities=capabilities_for(Plan.FREE),
        seq=7,
        epoch="e1",
    )
    snap = Snapshot(seq=7, reason="initial", visitors=[visitor])
    assert agent_events.decode(encode(hello)) == hello
    assert agent_events.decode(encode(snap)) == snap
    assert msgspec.json.decode(encode(snap))["visitors"][0]["id"] == "visitor-0001"


@pytest.mark.parametrize(("plan", "allowed"), [(Plan.FREE, False), (Plan.STANDARD, True), (Plan.PRO, True)])
def test_proactive_chat_needs_standard_or_pro(plan: Plan, allowed: bool) -> None:
    assert capabilities_for(plan).proactive_chat is allowed
    assert capabilities_for(plan).auto_messages is allowed


def test_active_means_activity_in_the_last_ten_minutes() -> None:
    assert ACTIVE_WINDOW_SECONDS == 600
    assert is_active(1000.0, 1000.0 + 599.9)
    assert not is_active(1000.0, 1000.0 + 600.0)


def test_large_snapshot_from_the_server_decodes() -> None:
    visitors = [
        Visitor(id=f"visitor-{i:06d}", label=f"#{i}", first_seen_at=1.0, visit_started_at=1.0, last_activity_at=2.0)
        for i in range(2000)
    ]
    frame = encode(Snapshot(seq=1, reason="initial", visitors=visitors))
    assert len(frame) > MAX_FRAME_BYTES
    decoded = agent_events.decode(frame)
    assert isinstance(decoded, Snapshot)
    assert len(decoded.visitors) == 2000
