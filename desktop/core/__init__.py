"""Pure core of the desktop app: visitor store, filters and search, states, ordering, clocks (no Qt, no I/O)."""
