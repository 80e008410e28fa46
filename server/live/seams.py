"""The seams several server processes share: the delta log, presence and the control channel.

Each seam is an async interface (``typing.Protocol``) with two implementations: in memory
(``server.live.memory``, the embedded one-process default) and on Redis (a cluster of processes).
The live core never sees them; the hub (the asyncio adapter) awaits them.

**DeltaLog**: one ordered log per account. ``append`` gives a delta the account's next ``seq``,
keeps it in a capped history and publishes it, in one atomic step. The body is the encoded
delta *without* its seq (``protocol.codec.with_seq`` splices it in). An ``epoch`` names one life
of the log: after Redis lost it (restart, flush) the epoch changes, and a seq from another epoch
must never be mistaken for continuity. A listener receives every entry of an account in seq
order without gaps (an implementation that sees a gap fills it from history first) or, when
that is impossible, ``reset`` (its agents then get ``resume_unavailable`` and a fresh snapshot).
An agent connects by subscribing first, buffering entries, then reading the snapshot or
``since``, then flushing the buffered entries above what it read (subscribe-and-buffer).

**Presence**: who is on each account's site, shared by all processes. A visitor's record is a
set of named fields (encoded by the live core) so two processes updating different parts of
one visitor (a page view on A, a chat state on B) do not overwrite each other. Every write gives
the record a new revision; the page view path reads the record as this process remembers it and
commits its change (fields and delta in one step) only if the revision has not moved, else it
applies the change again on the current record (optimistic concurrency: one round trip). Tabs are counted
over all processes, each process holding a lease it renews with ``heartbeat``; ``reap`` drops
the tabs of processes whose lease expired, so their visitors can leave. Agent sockets are
counted the same way ("agents online" is over all processes).

**ControlChannel**: typed messages every process acts on for its own sockets: a frame for a
visitor's tabs or an account's agents, closing a banned visitor's tabs, a revoked token, an
account whose plan, rules or settings changed, an agent whose role changed, an agent's status.
A process receives its own messages too, so a handler does the same whichever process published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple, Protocol

import msgspec


class LogPosition(NamedTuple):
    """Where an account's log stands: its epoch and the last seq handed out."""

    epoch: str
    seq: int


class LogEntry(NamedTuple):
    """One delta of an account's log: its seq and its encoded body (without the seq)."""

    seq: int
    body: bytes


class LogListener(Protocol):
    """Receives an account's log entries in order; both methods must not block (they queue)."""

    def entry(self, account_id: int, entry: LogEntry) -> None:
        """The next entry (seq = the previous one + 1 within an epoch)."""
        ...

    def reset(self, account_id: int, epoch: str) -> None:
        """Continuity was lost (entries could not be recovered, or the epoch changed)."""
        ...


class DeltaLog(Protocol):
    """Per-account ordered delta log with a capped history and live delivery."""

    async def append(self, account_id: int, body: bytes) -> int:
        """Give ``body`` the account's next seq, keep it and publish it, atomically; returns the seq."""
        ...

    async def position(self, account_id: int) -> LogPosition:
        """The account's epoch and last seq (creating the log, with a new epoch, when absent)."""
        ...

    async def since(self, account_id: int, after: int, epoch: str) -> list[LogEntry] | None:
        """Every entry after ``after`` up to now, or None when some were trimmed or ``epoch`` is not current."""
        ...

    async def subscribe(self, account_id: int, listener: LogListener) -> None:
        """Deliver the account's entries appended from now on to ``listener``."""
        ...

    async def unsubscribe(self, account_id: int, listener: LogListener) -> None:
        """Stop delivering to ``listener``."""
        ...

    async def forget(self, account_id: int) -> None:
        """Drop every kept entry of the account (an erasure: no replay may hold the erased data).

        Afterwards ``since`` returns None for any ``after`` below the current seq (the agent gets a
        fresh snapshot), while the seq and the epoch go on and live delivery is untouched. A Redis
        implementation (``server.live.redis.log``) deletes the account's stream, atomically with
        respect to ``append`` (no entry appended before the call survives it), and a listener that later finds a gap
        it cannot fill from the history calls ``reset``.
        """
        ...

    async def aclose(self) -> None:
        """Release connections and tasks."""
        ...


Fields = Mapping[str, bytes]
"""Named, separately encoded parts of a visitor record (the live core names and encodes them)."""


class Stored(NamedTuple):
    """A visitor's record as read: its revision and its fields."""

    rev: bytes
    """Changes with every write of the record (unique within the account, never reused)."""
    fields: dict[str, bytes]


class Moved(NamedTuple):
    """A conditional commit found the record at another revision: nothing was written."""

    current: Stored | None
    """The record now (None: the visitor is no longer present)."""


class Page(NamedTuple):
    """One page of a presence scan."""

    cursor: str
    """Pass to the next ``scan``; empty when the scan is complete."""
    visitors: list[tuple[str, dict[str, bytes]]]
    """Visitor ids with their fields."""


class Presence(Protocol):
    """Shared visitor records, tab counts and agent counts, with a lease per process."""

    async def attach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Count a tab of the visitor on this process; returns the visitor's tabs over all processes."""
        ...

    async def detach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Forget one tab; returns the tabs left over all processes (0 starts the visitor's idle time)."""
        ...

    async def tabs(self, account_id: int, visitor_id: str) -> int:
        """The visitor's tabs over all processes."""
        ...

    async def claim(self, job: str, seconds: float) -> bool:
        """True for exactly one caller over all processes within ``seconds`` (a job that must run once)."""
        ...

    async def load(
        self, account_id: int, visitor_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, bytes] | None:
        """The visitor's fields (all, or the named ones that exist), or None when not present."""
        ...

    async def store(self, account_id: int, visitor_id: str, fields: Fields) -> None:
        """Set some fields of a visitor (creating the record); fields not named are left alone."""
        ...

    async def read(self, account_id: int, visitor_id: str) -> Stored | None:
        """The visitor's record with its revision, or None when not present.

        Answered from this process's memory when it holds a tab of the visitor (no round trip), so it
        may be stale: a ``commit`` at its revision tells, and hands over the current record.
        """
        ...

    async def commit(
        self,
        account_id: int,
        visitor_id: str,
        fields: Fields,
        log: DeltaLog,
        body: bytes | None = None,
        *,
        rev: bytes | None = None,
    ) -> int | Moved:
        """Store ``fields`` and append ``body`` (when given) to ``log``, atomically; the seq (0 without a body).

        With ``rev`` (optimistic): only while the record is still at that revision. Otherwise nothing
        is written or appended and the current record comes back (:class:`Moved`), for the caller to
        apply its change to it and commit again. A record that is gone is never created by it.
        """
        ...

    async def remove(self, account_id: int, visitor_id: str) -> None:
        """Forget a visitor, its fields and tabs."""
        ...

    async def expire(self, account_id: int, visitor_id: str, idle_for: float) -> bool:
        """Remove the visitor if it has had no tab for ``idle_for`` seconds; True only for the call that did."""
        ...

    async def scan(self, account_id: int, cursor: str = "", count: int = 500) -> Page:
        """About ``count`` visitors of the account; one present throughout a whole scan is returned at least once."""
        ...

    async def count(self, account_id: int | None = None) -> int:
        """Present visitors of one account, or of all accounts."""
        ...

    async def agent_attach(self, account_id: int, conn_id: str) -> int:
        """Count an agent socket on this process; returns the account's agent sockets over all processes."""
        ...

    async def agent_detach(self, account_id: int, conn_id: str) -> int:
        """Forget an agent socket; returns the account's agent sockets left over all processes."""
        ...

    async def agents(self, account_id: int) -> int:
        """The account's agent sockets over all processes."""
        ...

    async def heartbeat(self) -> bool:
        """Renew this process's lease (call well within the lease time).

        True when the shared presence was lost since the last call (Redis restarted empty or was
        flushed): this process's tabs and agents are no longer registered and must come back.
        """
        ...

    async def reap(self) -> list[tuple[int, str]]:
        """Drop tabs and agents of processes whose lease expired; returns (account, visitor) left with no tab.

        Each such visitor is returned once over all processes, so its "left" is decided once.
        """
        ...

    async def aclose(self) -> None:
        """Give up this process's lease (its tabs and agents are forgotten) and release connections."""
        ...


# ---------------------------------------------------------------- control messages


class _Control(msgspec.Struct, tag_field="kind", kw_only=True, frozen=True):
    """Base of a control message."""


class VisitorFrame(_Control, tag="visitor_frame", kw_only=True, frozen=True):
    """Send an encoded frame to a visitor's tabs (agent message, typing, chat closed)."""

    account_id: int
    visitor_id: str
    frame: str
    except_tab: str | None = None
    """A tab that already has it (the visitor's own message echoed to its other tabs)."""


class CloseVisitor(_Control, tag="close_visitor", kw_only=True, frozen=True):
    """Send a last frame to a visitor's tabs and close them (ban)."""

    account_id: int
    visitor_id: str
    frame: str
    code: int
    reason: str


class AccountVisitorsFrame(_Control, tag="account_visitors_frame", kw_only=True, frozen=True):
    """Send an encoded frame to every visitor tab of an account (agents came online or left)."""

    account_id: int
    frame: str


class AgentsFrame(_Control, tag="agents_frame", kw_only=True, frozen=True):
    """Send an ephemeral encoded frame (no seq, e.g. typing) to an account's agents."""

    account_id: int
    frame: str
    except_conn: str | None = None
    """An agent socket that already knows (the typing agent itself)."""


class RevokeToken(_Control, tag="revoke_token", kw_only=True, frozen=True):
    """Close the agent sockets authenticated with this token (logout, removed agent)."""

    token_hash: str


class AccountChanged(_Control, tag="account_changed", kw_only=True, frozen=True):
    """An account's plan, rules or settings changed: re-read them (a plan change reconnects its agents)."""

    account_id: int


class AgentChanged(_Control, tag="agent_changed", kw_only=True, frozen=True):
    """An agent's role changed: their sockets reconnect to learn it in Hello."""

    agent_id: int


class EraseVisitorLive(_Control, tag="erase_visitor", kw_only=True, frozen=True):
    """The command line erased a visitor in SQL: a process holding the account erases them live too.

    Presence (the visitor vanishes or turns anonymous), the replay history, and whatever a write
    still queued in that process would bring back.
    """

    account_id: int
    visitor_id: str
    request: str = ""
    """Names this erasure: of the processes holding the visitor, the one that claims it erases live."""


class AgentStatus(_Control, tag="agent_status", kw_only=True, frozen=True):
    """An agent's status changed (for the team layer: online, away, busy)."""

    account_id: int
    agent_id: int
    status: str


class TeamConn(_Control, tag="team_conn", kw_only=True, frozen=True):
    """An agent socket announced by its process (team layer): status, visitors viewed and typed to.

    Sent on connect and change, and again every few seconds so other processes' copies converge;
    ``gone`` when it closed.
    """

    account_id: int
    conn_id: str
    agent_id: int
    agent_name: str
    status: str
    viewing: tuple[str, ...] = ()
    typing: tuple[str, ...] = ()
    gone: bool = False


class TeamFrame(_Control, tag="team_frame", kw_only=True, frozen=True):
    """An ephemeral frame for an account's agents; ``online_only`` skips those who are Away (team layer)."""

    account_id: int
    frame: str
    online_only: bool = False
    agent_id: int | None = None
    """Only this agent's sockets (a status change told to the agent's other devices)."""


Control = (
    VisitorFrame
    | CloseVisitor
    | AccountVisitorsFrame
    | AgentsFrame
    | RevokeToken
    | AccountChanged
    | AgentStatus
    | TeamConn
    | TeamFrame
    | AgentChanged
    | EraseVisitorLive
)
"""Every control message; a Redis implementation encodes them with msgspec (``kind`` is the tag)."""

ControlHandler = Callable[[Control], None]
"""Acts on one control message for this process's sockets; must not block."""


class ControlChannel(Protocol):
    """Publish/subscribe of control messages to every process (including the publisher)."""

    async def publish(self, message: Control) -> None:
        """Deliver to every subscribed process, this one included."""
        ...

    async def subscribe(self, handler: ControlHandler) -> None:
        """Call ``handler`` for every message published from now on."""
        ...

    async def unsubscribe(self, handler: ControlHandler) -> None:
        """Stop calling ``handler``."""
        ...

    async def aclose(self) -> None:
        """Release connections and tasks."""
        ...


class Seams(NamedTuple):
    """The three seams one server process uses."""

    log: DeltaLog
    presence: Presence
    control: ControlChannel

    async def aclose(self) -> None:
        """Close all three."""
        await self.control.aclose()
        await self.presence.aclose()
        await self.log.aclose()
