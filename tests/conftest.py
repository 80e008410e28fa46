"""Shared fixtures: a real server on an ephemeral port (see tests/fixtures/server.py)."""

from tests.fixtures.server import live_server, live_server_factory

__all__ = ["live_server", "live_server_factory"]
