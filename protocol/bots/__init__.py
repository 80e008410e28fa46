"""Chatbots: the flow model, its validation and the pure engine (shared by the server and the desktop preview)."""
