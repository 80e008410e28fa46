"""Frontdesk's place on each desktop: app id, resources, single instance, autostart, translations."""
