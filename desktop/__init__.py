"""Frontdesk desktop app for support agents."""
