"""Frontdesk server: websocket endpoints, REST API, presence, rules, persistence."""
