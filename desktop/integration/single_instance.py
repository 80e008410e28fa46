"""One Frontdesk per user: a second launch hands its arguments to the running one and exits."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, QThread, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from desktop.integration.appid import APP_ID
from desktop.integration.windows import allow_foreground_handoff

log = logging.getLogger(__name__)

ACTIVATE = "activate"
# A message is one JSON line; anything longer is not from a Frontdesk launch and is dropped.
MAX_MESSAGE_BYTES = 64 * 1024
CONNECT_TIMEOUT_MS = 3000
CONNECT_RETRY_MS = 100
REPLY_TIMEOUT_MS = 5000
MAX_SOCKET_PATH_BYTES = 100


def socket_address(key: str) -> str:
    """Where the instance listens: a named pipe name on Windows, else a socket path in the temp dir."""
    if sys.platform == "win32":
        return key
    path = Path(QDir.tempPath()) / key
    # Unix socket paths are limited to 104 (macOS) or 108 (Linux) bytes; a deep TMPDIR would not fit.
    if len(str(path).encode()) > MAX_SOCKET_PATH_BYTES:
        path = Path("/tmp") / key  # noqa: S108 (a per-user name with user-only access, never a fixed file)
    return str(path)


def default_key(app_id: str = APP_ID, user: str | None = None) -> str:
    """The per-user name of the instance socket (a Unix socket in the temp dir, a named pipe on Windows)."""
    if user is None:
        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no login name (some containers): fall back to one shared name
            user = "user"
    # Hashed so the name is short (Unix socket paths are limited to ~100 bytes) and safe whatever the login name.
    digest = hashlib.sha256(user.encode("utf-8")).hexdigest()[:12]
    return f"{app_id}-{digest}"


class SingleInstance(QObject):
    """The instance lock and socket; `claim()` decides whether this process is the one that runs."""

    # Emitted in the running instance with the arguments of a later launch: bring the window forward.
    activated = Signal(list)

    def __init__(self, key: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key or default_key()
        self.address = socket_address(self.key)
        # The lock decides who runs; it survives a crash as a stale file that QLockFile recognises by its dead
        # pid, so the socket name can then be cleaned up safely (only the lock holder ever removes it).
        lock_dir = Path(self.address).parent if sys.platform != "win32" else Path(QDir.tempPath())
        self.lock_path = lock_dir / f"{self.key}.lock"
        self._lock = QLockFile(str(self.lock_path))
        self._lock.setStaleLockTime(0)
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    @property
    def is_primary(self) -> bool:
        """Whether this process holds the instance lock and listens for later launches."""
        return self._server is not None

    def claim(self, args: Sequence[str] = ()) -> bool:
        """Become the running instance (True), or hand `args` to the running one (False: exit now)."""
        if self._lock.tryLock(0):
            self._listen()
            return True
        if self._lock.error() != QLockFile.LockError.LockFailedError:
            # No temp dir or no permission: run rather than refuse to start over a missing lock.
            log.warning("single instance lock unusable (%s); running without it", self._lock.error().name)
            return True
        return not self._send_activate(list(args))

    def release(self) -> None:
        """Stop listening and drop the lock (on quit; a crash leaves a stale lock the next start recovers)."""
        for socket in list(self._buffers):
            socket.disconnected.disconnect(self._on_disconnected)
            socket.readyRead.disconnect(self._on_ready_read)
            socket.abort()
            socket.deleteLater()
        self._buffers.clear()
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None
        if self._lock.isLocked():
            self._lock.unlock()

    def _listen(self) -> None:
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # We hold the lock, so a socket left under this name is from a crashed instance.
        QLocalServer.removeServer(self.address)
        if not server.listen(self.address):
            log.warning(
                "single instance socket %s unusable (%s); later launches start apart",
                self.address,
                server.errorString(),
            )
            return
        server.newConnection.connect(self._on_new_connection)
        self._server = server

    def _send_activate(self, args: list[str]) -> bool:
        socket = QLocalSocket(self)
        try:
            # The lock holder may have just started and not be listening yet: retry for a moment.
            for _ in range(CONNECT_TIMEOUT_MS // CONNECT_RETRY_MS):
                socket.connectToServer(self.address)
                if socket.waitForConnected(CONNECT_RETRY_MS):
                    break
                socket.abort()
                QThread.msleep(CONNECT_RETRY_MS)
            else:
                log.warning("Frontdesk is already running but does not answer on %s", self.address)
                return False
            # Windows gives the foreground only to a process the foreground one allows; we are it right now.
            allow_foreground_handoff()
            message = json.dumps({"command": ACTIVATE, "args": args}).encode("utf-8") + b"\n"
            socket.write(message)
            socket.flush()
            reply = b""
            while not reply.endswith(b"\n") and socket.waitForReadyRead(REPLY_TIMEOUT_MS):
                reply += bytes(socket.readAll().data())
            return reply.strip() == b"ok"
        finally:
            socket.abort()
            socket.deleteLater()

    # Slots are bound methods using sender(), not lambdas: Qt drops connections to this object before it
    # deletes the child sockets, so a socket destroyed with us never calls back into a half-deleted object.
    def _on_new_connection(self) -> None:
        assert self._server is not None
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)

    def _on_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._buffers.pop(socket, None)
            socket.deleteLater()

    def _on_ready_read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket):
            return
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        if len(data) > MAX_MESSAGE_BYTES:
            log.warning("dropped an oversized message on the single instance socket")
            self._buffers.pop(socket, None)
            socket.abort()
            return
        if not data.endswith(b"\n"):
            self._buffers[socket] = data
            return
        self._buffers[socket] = b""
        args = _parse_activate(data)
        if args is None:
            log.warning("dropped a malformed message on the single instance socket")
            socket.abort()
            return
        socket.write(b"ok\n")
        socket.flush()
        self.activated.emit(args)


def _parse_activate(data: bytes) -> list[str] | None:
    try:
        message = json.loads(data)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("command") != ACTIVATE:
        return None
    args = message.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return None
    return args
