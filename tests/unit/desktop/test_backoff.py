"""Reconnect delays and the websocket address (pure parts of desktop.net)."""

from __future__ import annotations

import itertools
import random

import pytest

from desktop.net.backoff import backoff
from desktop.net.client import ConnectionState, ws_url_for


def test_backoff_grows_with_jitter_up_to_the_maximum() -> None:
    delays = list(itertools.islice(backoff(initial=1, minimum=2, maximum=30, factor=2, rand=lambda: 0.0), 8))
    assert delays == [0.0, 2, 4, 8, 16, 30, 30, 30]
    jittered = list(itertools.islice(backoff(initial=1, minimum=2, maximum=30, factor=2, rand=lambda: 0.999), 3))
    assert jittered[0] == pytest.approx(0.999)
    assert jittered[1] == pytest.approx(1.001)


def test_backoff_spreads_clients() -> None:
    rng = random.Random(1)
    firsts = {round(next(backoff(rand=rng.random)), 3) for _ in range(50)}
    assert len(firsts) > 40
    assert all(0 <= d < 1 for d in firsts)


@pytest.mark.parametrize(
    ("http", "ws"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws/agent"),
        ("https://chat.example.com/", "wss://chat.example.com/ws/agent"),
        ("https://example.com/frontdesk/", "wss://example.com/frontdesk/ws/agent"),
        (" HTTP://host:1 ", "ws://host:1/ws/agent"),
    ],
)
def test_ws_url(http: str, ws: str) -> None:
    assert ws_url_for(http) == ws


@pytest.mark.parametrize("bad", ["", "chat.example.com", "ftp://x", "http://"])
def test_ws_url_rejects_non_server_addresses(bad: str) -> None:
    with pytest.raises(ValueError, match="not a server address"):
        ws_url_for(bad)


def test_every_state_has_a_text() -> None:
    assert all(state.text for state in ConnectionState)
    assert ConnectionState.UNAUTHORIZED.final
    assert not ConnectionState.RECONNECTING.final
