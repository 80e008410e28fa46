"""The agent's websocket client: auth, snapshot or resume, deltas into the store, requests, reconnects."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable, Coroutine, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI

from desktop.core.store import SeqGap, VisitorStore
from desktop.net.backoff import backoff
from protocol.codec import FrameError, agent_events, encode
from protocol.messages import (
    AgentToServer,
    AgentTyping,
    Auth,
    CannedResponses,
    CloseCode,
    Error,
    ErrorCode,
    GetTrail,
    Hello,
    History,
    Notes,
    Result,
    Resumed,
    SendMessage,
    ServerToAgent,
    SetViewing,
    Snapshot,
    Trail,
)
from protocol.rules import PROTOCOL_VERSION

log = logging.getLogger(__name__)

MAX_SERVER_FRAME: Final = 64 * 1024 * 1024
"""Snapshots come in pages of about a thousand visitors; this only guards against a runaway frame."""

Answer = Result | History | Trail | Notes | CannedResponses
"""What answers a request (matched by ``ref``)."""


class ConnectionState(enum.Enum):
    """Where the connection to the server stands, for the status bar."""

    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    UNAUTHORIZED = "unauthorized"
    INCOMPATIBLE = "incompatible"
    CLOSED = "closed"

    @property
    def text(self) -> str:
        """A sentence for the status bar (English; the UI may translate by state)."""
        return _STATE_TEXTS[self]

    @property
    def final(self) -> bool:
        """Whether the client stopped for good (no reconnect will follow)."""
        return self in (ConnectionState.UNAUTHORIZED, ConnectionState.INCOMPATIBLE, ConnectionState.CLOSED)


_STATE_TEXTS: Final = {
    ConnectionState.CONNECTING: "Connecting to the server…",
    ConnectionState.ONLINE: "Online",
    ConnectionState.RECONNECTING: "Connection lost - reconnecting…",
    ConnectionState.UNAUTHORIZED: "Signed out: the login was revoked or expired. Please sign in again.",
    ConnectionState.INCOMPATIBLE: "The server speaks another protocol version; install a matching Frontdesk.",
    ConnectionState.CLOSED: "Disconnected",
}


class RequestError(Exception):
    """The server refused a request (``error`` says why), or it could not be sent (``offline``)."""

    def __init__(self, error: Error, *, offline: bool = False) -> None:
        super().__init__(error.message)
        self.error = error
        self.offline = offline


def ws_url_for(server_url: str) -> str:
    """The agent websocket URL of a server's http(s) base URL (a path prefix is kept)."""
    parts = urlsplit(server_url.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ValueError(f"{server_url!r} is not a server address; use one like https://chat.example.com")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/agent", "", ""))


def decode_event(frame: bytes | str) -> ServerToAgent:
    """Decode one server frame (raises FrameError on a bad frame)."""
    return agent_events.decode(frame)


def _client_name() -> str:
    try:
        return f"Frontdesk desktop {version('frontdesk')}"
    except PackageNotFoundError:
        return "Frontdesk desktop"


class _Outcome(enum.Enum):
    FAILED = "failed"  # never got in sync: keep backing off
    SYNCED = "synced"  # was online: reconnect soon, backoff starts over
    FATAL = "fatal"  # unauthorized or incompatible: stop


class AgentClient:
    """One agent's connection to the server, kept up until :meth:`close`; runs on the asyncio (qasync) loop.

    Events go into the store in order; a lost connection resumes from ``store.seq`` so nothing is lost or
    doubled. SendMessage requests are kept until the server answers and are resent with the same id after
    a reconnect (the server ignores a resend it already stored).
    """

    def __init__(
        self,
        server_url: str,
        token: str,
        store: VisitorStore,
        *,
        on_state: Callable[[ConnectionState], None] | None = None,
        on_hello: Callable[[Hello], None] | None = None,
        on_error: Callable[[Error], None] | None = None,
        delays: Callable[[], Iterator[float]] = backoff,
        open_timeout: float = 10.0,
    ) -> None:
        self.server_url = server_url
        self.ws_url = ws_url_for(server_url)
        self._token = token
        self.store = store
        self._on_state = on_state
        self._on_hello = on_hello
        self._on_error = on_error
        self._delays = delays
        self._open_timeout = open_timeout
        self.state = ConnectionState.CLOSED
        self.detail = ""
        """Why the last connection ended or failed (no secrets), for logs and tooltips."""
        self.hello: Hello | None = None
        self.connections = 0
        """How many times the client got in sync (initial connect plus reconnects)."""
        self._ws: ClientConnection | None = None
        self._online = False
        self._closing = False
        self._wake = asyncio.Event()
        self._pending: dict[str, asyncio.Future[Answer]] = {}
        self._outgoing: dict[str, SendMessage] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._trail_refs = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        store.on_trail_wanted = self._want_trail

    # ------------------------------------------------------------ public API

    @property
    def online(self) -> bool:
        """Whether the client is connected and in sync."""
        return self._online

    @property
    def queued(self) -> list[SendMessage]:
        """Messages not yet acknowledged by the server (queued offline or in flight), oldest first."""
        return list(self._outgoing.values())

    async def run(self) -> None:
        """Connect and stay connected (backoff with jitter between attempts) until closed or refused."""
        self._closing = False
        self._wake.clear()
        self._loop = asyncio.get_running_loop()
        delays = self._delays()
        first = True
        try:
            while not self._closing:
                self._set_state(ConnectionState.CONNECTING if first else ConnectionState.RECONNECTING)
                first = False
                outcome = await self._connect_once()
                if outcome is _Outcome.FATAL or self._closing:
                    break
                if outcome is _Outcome.SYNCED:
                    delays = self._delays()
                await self._sleep(next(delays))
        finally:
            self._online = False
            if not self.state.final:
                self._set_state(ConnectionState.CLOSED)
            self._fail_pending(everything=True)

    async def close(self) -> None:
        """Stop: close the socket, end :meth:`run`, cancel outstanding requests."""
        self._closing = True
        self._wake.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        for task in list(self._background):
            task.cancel()
        self._fail_pending(everything=True)
        if not self.state.final:
            self._set_state(ConnectionState.CLOSED)

    async def request(self, message: AgentToServer) -> Answer:
        """Send a request and wait for its answer (matched by ``ref``); RequestError when refused.

        SendMessage is queued while offline and answered once the server stored it; anything else fails at
        once with ``RequestError(offline=True)`` when there is no connection.
        """
        ref = getattr(message, "ref", None)
        if not isinstance(ref, str) or isinstance(message, Auth):
            raise ValueError(f"{type(message).__name__} is not a request with a ref")
        if ref in self._pending:
            raise ValueError(f"a request with ref {ref!r} is already waiting; use a new ref")
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        try:
            if isinstance(message, SendMessage):
                self._outgoing[ref] = message
                if self._online:
                    with contextlib.suppress(ConnectionClosed):
                        await self._send(message)  # if the socket just died, the reconnect resends it
            elif not self._online or not await self._try_send(message):
                raise RequestError(self._offline_error(ref), offline=True)
            return await future
        finally:
            self._pending.pop(ref, None)
            if future.done() and not future.cancelled():
                # Failed by a lost connection while this request was still being sent: the RequestError
                # raised above says so; retrieve the future's copy so asyncio does not report it as lost.
                future.exception()

    def send_typing(self, visitor_id: str, typing: bool) -> None:
        """Tell the visitor the agent is typing; dropped while offline (it is ephemeral)."""
        if not self._online:
            return
        self._background_task(self._try_send_quietly(AgentTyping(visitor_id=visitor_id, typing=typing)))

    def _background_task(self, work: Coroutine[None, None, None]) -> None:
        # The loop run() runs on: a Qt slot (a selection change) may call in outside a loop callback.
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        task = loop.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def send_viewing(self, visitor_ids: list[str]) -> None:
        """Tell colleagues which visitors this agent has open; dropped while offline (it is ephemeral)."""
        if not self._online:
            return
        self._background_task(self._try_send_quietly(SetViewing(visitor_ids=visitor_ids)))

    def _want_trail(self, visitor_id: str) -> None:
        """The store watches a visitor whose trail it lacks: ask for it (after the sync when offline)."""
        if self._online:
            self._background_task(self._fetch_trail(visitor_id))

    async def _fetch_trail(self, visitor_id: str) -> None:
        self._trail_refs += 1
        try:
            await self.request(GetTrail(ref=f"trail-{self._trail_refs}", visitor_id=visitor_id))
        except RequestError as exc:
            log.info("trail of %s not loaded: %s", visitor_id, exc)

    # ------------------------------------------------------------ connection

    async def _connect_once(self) -> _Outcome:
        try:
            ws = await connect(
                self.ws_url,
                compression=None,
                max_size=MAX_SERVER_FRAME,
                open_timeout=self._open_timeout,
                proxy=None,
                user_agent_header=_client_name(),
            )
        except InvalidURI as exc:
            self.detail = f"not a valid server address: {exc}"
            self._set_state(ConnectionState.CLOSED)
            return _Outcome.FATAL
        except Exception as exc:  # refused, unreachable, TLS, HTTP error, timeout: all worth retrying
            self.detail = f"cannot connect: {type(exc).__name__}: {exc}"
            log.info("connecting to %s failed: %s", self.ws_url, self.detail)
            return _Outcome.FAILED
        if self._closing:  # close() ran while the handshake was under way
            await ws.close()
            return _Outcome.FATAL
        self._ws = ws
        synced = False
        try:
            await ws.send(
                encode(
                    Auth(
                        token=self._token,
                        protocol=PROTOCOL_VERSION,
                        resume_from=self.store.seq or None,
                        epoch=self.store.epoch if self.store.seq else None,
                        client=_client_name(),
                    )
                ).decode()
            )
            while True:
                frame = await ws.recv(decode=False)
                outcome = await self._handle(ws, frame)
                if outcome is _Outcome.SYNCED:
                    synced = True
                elif outcome is not None:
                    return outcome
        except ConnectionClosed:
            pass
        finally:
            self._ws = None
            self._online = False
            await ws.close()
            self._fail_pending(everything=False)
        return self._closed(ws, synced)

    def _closed(self, ws: ClientConnection, synced: bool) -> _Outcome:
        code, reason = ws.close_code, ws.close_reason or ""
        self.detail = f"connection closed ({code} {reason})".strip()
        if code == CloseCode.UNAUTHORIZED:
            self._set_state(ConnectionState.UNAUTHORIZED)
            return _Outcome.FATAL
        if code == CloseCode.INCOMPATIBLE:
            self._set_state(ConnectionState.INCOMPATIBLE)
            return _Outcome.FATAL
        return _Outcome.SYNCED if synced else _Outcome.FAILED

    async def _handle(self, ws: ClientConnection, frame: bytes) -> _Outcome | None:
        """Process one frame; returns SYNCED when in sync, FATAL/FAILED to end the connection."""
        try:
            event = decode_event(frame)
        except FrameError as exc:
            # A frame we cannot read: say so, keep the connection (the seq check catches a lost delta).
            log.warning("bad frame from the server: %s", exc)
            self._report(
                Error(code=ErrorCode.BAD_FRAME, message=f"The server sent a frame this app cannot read: {exc}")
            )
            return None
        try:
            match event:
                case Hello():
                    return self._hello(event)
                case Snapshot() | Resumed():
                    self.store.apply(event)  # each snapshot page is shown as it comes
                    if isinstance(event, Snapshot) and event.more:
                        await asyncio.sleep(0)  # the list can paint this page before the next is decoded
                        return None
                    if not self._online:  # else a resync on a live socket: requests already went out on it
                        await self._flush_outgoing(ws)
                        self.connections += 1
                    self._set_state(ConnectionState.ONLINE)
                    if (missing := self.store.trail_missing) is not None:
                        self._want_trail(missing)
                    return _Outcome.SYNCED
                case Result() | History() | Trail() | Notes():
                    if not isinstance(event, Result):
                        self.store.apply(event)
                    self._answer(event.ref, event)
                case CannedResponses():
                    self.store.apply(event)
                    if event.ref is not None:  # also pushed without a ref after a change
                        self._answer(event.ref, event)
                case Error():
                    return self._error(event)
                case _:
                    self.store.apply(event)
        except SeqGap as exc:
            # Some delta never arrived: reconnect and resume from the last one applied.
            log.warning("%s", exc)
            self.detail = str(exc)
            await ws.close(1000, "seq gap; resuming")
            return _Outcome.SYNCED
        return None

    def _hello(self, hello: Hello) -> _Outcome | None:
        if hello.protocol != PROTOCOL_VERSION:
            self.detail = f"server speaks protocol {hello.protocol}, this app {PROTOCOL_VERSION}"
            self._set_state(ConnectionState.INCOMPATIBLE)
            return _Outcome.FATAL
        self.hello = hello
        self.store.apply(hello)
        if self._on_hello is not None:
            try:
                self._on_hello(hello)
            except Exception:
                log.exception("on_hello failed")
        return None

    def _error(self, error: Error) -> _Outcome | None:
        if error.ref is not None:
            # Refused for good: a queued message is not resent (even if nobody waits for the answer).
            self._outgoing.pop(error.ref, None)
            future = self._pending.get(error.ref)
            if future is not None:
                if not future.done():
                    future.set_exception(RequestError(error))
                return None
        if error.code == ErrorCode.UNAUTHORIZED:
            self.detail = error.message
            self._set_state(ConnectionState.UNAUTHORIZED)
            return _Outcome.FATAL
        if error.code == ErrorCode.INCOMPATIBLE_PROTOCOL:
            self.detail = error.message
            self._set_state(ConnectionState.INCOMPATIBLE)
            return _Outcome.FATAL
        self._report(error)
        return None

    def _answer(self, ref: str, answer: Answer) -> None:
        self._outgoing.pop(ref, None)
        future = self._pending.get(ref)
        if future is not None and not future.done():
            future.set_result(answer)

    async def _flush_outgoing(self, ws: ClientConnection) -> None:
        """Resend every unacknowledged message, oldest first, before going online."""
        sent: set[str] = set()
        while todo := [m for ref, m in self._outgoing.items() if ref not in sent]:
            for message in todo:
                await ws.send(encode(message).decode())
                sent.add(message.ref)
        self._online = True

    async def _send(self, message: msgspec.Struct) -> None:
        ws = self._ws
        if ws is None:
            raise ConnectionClosed(None, None)
        await ws.send(encode(message).decode())

    async def _try_send(self, message: msgspec.Struct) -> bool:
        try:
            await self._send(message)
        except ConnectionClosed:
            return False
        return True

    async def _try_send_quietly(self, message: msgspec.Struct) -> None:
        await self._try_send(message)

    def _fail_pending(self, *, everything: bool) -> None:
        """Settle requests whose answer will not come.

        After a lost connection they fail with ``RequestError(offline=True)``, except queued messages, which
        wait for the reconnect. When the client stops for good (``everything``) they are cancelled: nobody
        is left to act on an error then.
        """
        for ref, future in list(self._pending.items()):
            if future.done():
                continue
            if everything:
                future.cancel()
            elif ref not in self._outgoing:
                future.set_exception(RequestError(self._offline_error(ref), offline=True))
        if everything:
            self._outgoing.clear()

    @staticmethod
    def _offline_error(ref: str) -> Error:
        return Error(
            code=ErrorCode.INTERNAL,
            message="Not connected to the server, so this was not done; try again when the connection is back.",
            ref=ref,
        )

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _set_state(self, state: ConnectionState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("on_state failed")

    def _report(self, error: Error) -> None:
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception:
                log.exception("on_error failed")
