"""desktop.ui."""
