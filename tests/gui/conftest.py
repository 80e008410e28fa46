"""Fixtures for GUI tests: the qasync loop (re-raising loop errors), an in-memory keyring, waiting helpers."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from desktop.settings import Settings
from desktop.ui.gc_guard import GuiThreadCollector

T = TypeVar("T")


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in a dict: stands in for the desktop's Secret Service."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture(autouse=True)
def _modifiers_released() -> Iterator[None]:
    """No keyboard modifier stays down from one test into the next.

    A simulated Ctrl+W that closes the widget it was sent to never gets its release delivered, so Qt kept
    Ctrl (and Shift) down: a later test's ``selectRow`` then extended the selection instead of replacing it.
    """
    yield
    app = QApplication.instance()
    if app is not None and QGuiApplication.keyboardModifiers() != Qt.KeyboardModifier.NoModifier:
        sink = QWidget()
        QTest.keyRelease(sink, Qt.Key.Key_Control)  # spontaneous, as QTest's own: Qt takes its modifiers
        sink.deleteLater()


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """An empty in-memory keyring backend."""
    return MemoryKeyring()


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    """Settings in an ini file of the test's temp dir (never the user's real settings)."""
    return Settings(QSettings(str(tmp_path / "frontdesk.ini"), QSettings.Format.IniFormat))


class QLoop:
    """The qasync loop of one test, with helpers to run coroutines and wait for conditions."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run ``coro`` on the qasync loop (Qt events are processed meanwhile)."""
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    def do(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn`` while the loop runs, as every Qt event handler does in the real app."""

        async def call() -> None:
            fn(*args)

        self.run(call())

    def wait_until(self, predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
        """Process Qt and asyncio events until ``predicate()`` is true; fail after ``timeout`` seconds."""
        self.run(wait_for_condition(predicate, timeout, what), timeout + 5)

    def spin(self, seconds: float) -> None:
        """Let the loop run for a while (only where nothing observable can be awaited)."""
        self.run(asyncio.sleep(seconds), seconds + 5)


async def wait_for_condition(predicate: Callable[[], object], limit: float = 15.0, what: str = "") -> None:
    """Poll ``predicate`` every 20 ms until true; raise AssertionError naming ``what`` after ``limit`` seconds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {limit}s waiting for {what or predicate}")
        await asyncio.sleep(0.02)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[QLoop]:
    """A qasync QEventLoop for the test; exceptions reported to the loop fail the test at teardown."""
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    # As in the app: the live server's thread shares this process, so collect cycles on this thread only.
    collector = GuiThreadCollector()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    original_hook = sys.excepthook
    try:
        yield QLoop(loop)
    finally:
        sys.excepthook = original_hook
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()
            asyncio.set_event_loop(None)
            # Collect the test's Qt objects here, on the GUI thread, not later on some server thread.
            collector.stop()
    for context in errors:
        exc = context.get("exception")
        if exc is not None:
            raise exc
        pytest.fail(f"asyncio loop error: {context.get('message')}")
