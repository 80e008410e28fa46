"""The rules of one widget socket, whichever way its frames arrive.

Two adapters drive a :class:`VisitorSession`: the Litestar handler in ``server.sockets`` (any ASGI
server) and the callback-style protocol in ``server.wsvisitor`` (uvicorn with Frontdesk's protocol
class, no task held while a tab is idle). Both send everything through the socket's :class:`Outbox`.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus, urlsplit

from protocol.codec import FrameError, encode, visitor_requests
from protocol.messages import Banned, CloseCode, Error, ErrorCode, VisitorHello, VisitorToServer
from server.live.core import BANNED_TEXT
from server.live.hub import AccountState, Hub, VisitorConn
from server.outbox import Outbox
from server.ratelimit import TokenBucket
from server.services import Services

log = logging.getLogger(__name__)

VISITOR_PATH = "/ws/visitor"
VISITOR_OUTBOX = 1000
"""Frames queued for one widget socket before it is closed as too slow."""
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def account_key(query_string: bytes) -> str:
    """The ``account`` parameter of the socket's query string ('' when missing)."""
    for part in query_string.decode("latin-1").split("&"):
        name, _, value = part.partition("=")
        if name == "account":
            return unquote_plus(value)
    return ""


def origin_allowed(origin: str | None, host: str | None, account: list[str], server_wide: tuple[str, ...]) -> bool:
    """Whether a page at ``origin`` may use the account's widget."""
    if origin is None:
        return True  # not a browser: an Origin check cannot stop it anyway
    parts = urlsplit(origin.strip().lower())
    if parts.hostname in _LOCAL_HOSTS:
        return True
    if not parts.scheme or not parts.netloc:
        return False  # "null" (file://, sandboxed frames)
    if host is not None and parts.netloc == host.lower():
        return True  # a page this server serves itself
    wanted = f"{parts.scheme}://{parts.netloc}"
    allowed = {entry.strip().lower().rstrip("/") for entry in (*account, *server_wide)}
    return "*" in allowed or wanted in allowed


class VisitorSession:
    """One widget socket: account and origin checks, hello, rate limit, events, disconnect."""

    __slots__ = ("account", "bucket", "conn", "outbox", "services")

    def __init__(self, services: Services, outbox: Outbox) -> None:
        self.services = services
        self.outbox = outbox
        self.account: AccountState | None = None
        self.conn: VisitorConn | None = None
        """Set once the hello was accepted (the visitor is attached to the hub)."""
        self.bucket: TokenBucket | None = None

    @property
    def hub(self) -> Hub:
        """The process's live hub."""
        hub = self.services.hub
        assert hub is not None
        return hub

    @property
    def hello_timeout(self) -> float:
        """Seconds a socket may stay open before its hello frame."""
        return self.services.settings.auth_timeout_seconds

    def _refuse(self, code: ErrorCode, message: str, close_code: int) -> None:
        self.outbox.push(encode(Error(code=code, message=message)).decode())
        self.outbox.close(close_code, code.value)

    def _unavailable(self) -> None:
        """The database or Redis failed under a request: the widget is told so and reconnects with back-off."""
        self._refuse(
            ErrorCode.UNAVAILABLE,
            "the server could not reach its database; the widget connects again by itself",
            CloseCode.TRY_AGAIN_LATER,
        )

    async def open(self, key: str, origin: str | None, host: str | None) -> bool:
        """Check the account key and the page's origin; False (and the socket closing) when refused."""
        try:
            account = await self.hub.account_by_key(key) if key and len(key) <= 64 else None
        except Exception:
            log.exception("widget socket: the account could not be read")
            self._unavailable()
            return False
        if account is None:
            self._refuse(
                ErrorCode.UNKNOWN_ACCOUNT,
                "unknown account key; copy data-account from the Frontdesk account settings",
                CloseCode.FORBIDDEN,
            )
            return False
        if not origin_allowed(origin, host, account.row.allowed_origins, self.services.settings.allowed_origins):
            self._refuse(
                ErrorCode.ORIGIN_NOT_ALLOWED,
                f"pages from {origin} may not use this account; add the origin to the account's allowed origins",
                CloseCode.FORBIDDEN,
            )
            return False
        self.account = account
        return True

    def hello_timed_out(self) -> None:
        """No hello arrived in time: say so and close."""
        self._refuse(ErrorCode.BAD_FRAME, "no hello frame in time; send hello first", 1008)

    async def hello(self, frame: str | bytes, *, ip: str | None, user_agent: str) -> bool:
        """The first frame: attach the visitor and send its welcome; False (socket closing) when refused."""
        account = self.account
        assert account is not None
        try:
            hello = visitor_requests.decode(frame)
        except FrameError as exc:
            self._refuse(exc.code, str(exc), 1008)
            return False
        if not isinstance(hello, VisitorHello):
            self._refuse(ErrorCode.BAD_FRAME, "the first frame must be hello", 1008)
            return False
        conn = self.conn = VisitorConn(self.outbox, hello.tab_id)  # a hello failing half-way is detached too
        try:
            welcomed = await self.hub.visitor_hello(account, conn, hello, ip=ip, user_agent=user_agent)
        except Exception:
            log.exception("widget hello failed")
            self._unavailable()
            return False
        if not welcomed:
            self.conn = None
            self.outbox.push(encode(Banned(message=BANNED_TEXT)).decode())
            self.outbox.close(CloseCode.FORBIDDEN, "banned")
            return False
        self.bucket = TokenBucket(self.services.settings.visitor_rate)
        return True

    def admit(self, frame: str | bytes) -> VisitorToServer | None:
        """A frame after hello, rate-limited and decoded; None when it was answered with an error or dropped."""
        bucket = self.bucket
        if bucket is None or self.outbox.closing:
            return None
        if not bucket.allow():
            if bucket.abusive:
                self._error(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; reconnect later"))
                self.outbox.close(CloseCode.RATE_LIMITED, "rate limited")
                return None
            self._error(Error(code=ErrorCode.RATE_LIMITED, message="too many frames; slow down"))
            return None
        try:
            return visitor_requests.decode(frame)
        except FrameError as exc:
            self._error(Error(code=exc.code, message=str(exc)))
            return None

    def _error(self, message: Error) -> None:
        self.outbox.push(encode(message).decode())

    async def event(self, message: VisitorToServer) -> None:
        """Apply one admitted frame; a failure is logged and answered, the socket stays open."""
        account, conn = self.account, self.conn
        if account is None or conn is None:
            return
        try:
            await self.hub.visitor_event(account, conn, message)
        except Exception:
            log.exception("visitor event %s failed", type(message).__name__)
            self._error(Error(code=ErrorCode.INTERNAL, message="the server failed; try again"))

    async def disconnected(self) -> None:
        """The socket is gone: detach the visitor (once)."""
        account, conn = self.account, self.conn
        self.conn = None
        self.bucket = None
        if account is not None and conn is not None:
            await self.hub.visitor_disconnected(account, conn)
