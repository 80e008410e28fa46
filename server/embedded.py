"""Run the real server in a background thread with its own event loop (tests, the desktop demo)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

import uvicorn
from litestar import Litestar

from protocol.rules import MAX_FRAME_BYTES
from server.app import create_app
from server.config import Settings
from server.services import Services
from server.wsprotocol import LeanWebSocketProtocol
from server.wsvisitor import protocol_class

P = ParamSpec("P")
T = TypeVar("T")


WS_MAX_BYTES = 4 * MAX_FRAME_BYTES
"""Frames up to this size are read (``frame_too_large`` past MAX_FRAME_BYTES); larger ones close with 1009."""


def uvicorn_config(app: Any, settings: Settings, **extra: Any) -> uvicorn.Config:
    """uvicorn's settings for Frontdesk: frames read up to 256 KiB, no compression, no proxy unless configured."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "ws_max_size": WS_MAX_BYTES,
        # Compression costs ~30 KiB per idle socket; frames are small JSON anyway.
        "ws_per_message_deflate": False,
        # Our protocol class; bound to the Frontdesk app it also serves widget sockets without a task each.
        "ws": protocol_class(app) if isinstance(app, Litestar) else LeanWebSocketProtocol,
        "lifespan": "on",
        "log_config": None,
        "access_log": settings.access_log,
        "timeout_graceful_shutdown": 10,
    }
    # Passed explicitly either way: left out, uvicorn trusts X-Forwarded-For from 127.0.0.1 and ::1
    # (or $FORWARDED_ALLOW_IPS), so any loopback hop would let a client fake its address.
    options["proxy_headers"] = bool(settings.forwarded_allow_ips)
    options["forwarded_allow_ips"] = settings.forwarded_allow_ips or ""
    options.update(extra)
    return uvicorn.Config(app, **options)


class EmbeddedServer:
    """The Frontdesk server under uvicorn in a daemon thread; ``start()`` returns once it listens."""

    def __init__(
        self,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        uvicorn_options: dict[str, Any] | None = None,
        **settings: Any,
    ):
        self.settings = Settings(database_url=database_url, host=host, port=port, **settings)
        self._uvicorn_options = uvicorn_options or {}
        """Overrides of :func:`uvicorn_config` (tests: keepalive timing, the plain ASGI websocket path)."""
        self._app = create_app(self.settings)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self.port = 0

    @property
    def http_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://HOST:PORT`` of the running server."""
        return "ws" + self.http_url.removeprefix("http")

    @property
    def services(self) -> Services:
        """Database, store and hub of the running server (use them through :meth:`call`)."""
        services: Services = self._app.state["services"]
        return services

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop."""
        if self._loop is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._loop

    def start(self, timeout: float = 30.0) -> None:
        """Start serving; blocks until the socket listens (raises what start-up raised)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="frontdesk-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the server did not start in time")
        if self._error is not None:
            self._thread.join(5)
            raise RuntimeError(f"the server failed to start: {self._error}") from self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()
            try:
                # Like asyncio.run: tasks others started on this loop (demo traffic) end cancelled, not destroyed.
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    async def _serve(self) -> None:
        server = uvicorn.Server(uvicorn_config(self._app, self.settings, **self._uvicorn_options))
        self._server = server
        watcher = asyncio.get_running_loop().create_task(self._watch_started(server))
        try:
            await server.serve()
        finally:
            watcher.cancel()
        if not server.started and self._error is None:
            self._error = RuntimeError("uvicorn stopped during start-up (is the port in use?)")

    async def _watch_started(self, server: uvicorn.Server) -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn only offers this flag
            await asyncio.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._ready.set()

    def call(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the server's loop from another thread and return its result."""
        future = asyncio.run_coroutine_threadsafe(_as_coroutine(fn(*args, **kwargs)), self.loop)
        return future.result(60)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop serving: sockets close, pending writes finish, the database closes."""
        thread = self._thread
        if thread is None:
            return
        if self._server is not None and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(setattr, self._server, "should_exit", True)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable
