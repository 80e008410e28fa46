"""Frontdesk server: websocket endpoints, REST API, presence, rules, persistence."""

__version__ = "0.1.0"
