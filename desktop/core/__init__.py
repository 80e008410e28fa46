"""desktop.core."""
