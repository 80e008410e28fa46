"""Running the UI's server requests as asyncio tasks without losing them or their errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject

from desktop.ui.actions import ActionError

log = logging.getLogger(__name__)


class TaskRunner:
    """Starts coroutines from Qt slots, keeps them referenced, and reports ActionErrors to a callback."""

    def __init__(self, on_error: Callable[[ActionError], None], owner: QObject | None = None) -> None:
        self._on_error = on_error
        # Answers can arrive after the owning window was closed and deleted: then nobody is told.
        self._owner = owner
        self._tasks: set[asyncio.Task[Any]] = set()

    def run(self, coro: Coroutine[Any, Any, Any], on_done: Callable[[], None] | None = None) -> asyncio.Task[Any]:
        """Schedule ``coro``; an ActionError goes to the error callback, anything else is logged."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                return
            exc = t.exception()  # retrieved even when nobody is told, so asyncio does not complain
            if self._owner is not None and not shiboken6.isValid(self._owner):
                return
            if isinstance(exc, ActionError):
                self._on_error(exc)
            elif exc is not None:
                log.error("UI task failed", exc_info=exc)
                self._on_error(ActionError("internal", str(exc) or type(exc).__name__))
            elif on_done is not None:
                on_done()

        task.add_done_callback(done)
        return task

    @property
    def pending(self) -> int:
        """How many tasks are still running (tests wait for zero)."""
        return len(self._tasks)

    def cancel_all(self) -> None:
        """Cancel what is still running (on logout or quit)."""
        for task in list(self._tasks):
            task.cancel()
