"""desktop.net."""
