"""Presence on Redis: visitor records as hashes, tabs and agent sockets counted per process under a lease.

Keys of account A: ``fd:{acc:A}:v:ID`` (the visitor's fields), ``fd:{acc:A}:visitors`` (present
ids), ``fd:{acc:A}:tabs:ID`` (fields ``PROCESS|TAB``), ``fd:{acc:A}:idle`` (visitor -> ms since its
last tab closed), ``fd:{acc:A}:agents`` (fields ``PROCESS|CONN``). Per process: ``fd:procs`` (a
sorted set of lease expiry times, Redis' clock) and ``fd:proc:PROCESS`` (what it holds, so a
survivor can drop the tabs of a process that died). All times come from Redis' clock, so the
machines' clocks do not need to agree.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server import metrics
from server.live.redis.connection import PREFIX, RedisLink, account_key
from server.live.redis.log import RedisDeltaLog, log_keys
from server.live.seams import DeltaLog, Fields, Moved, Page, Stored

log = logging.getLogger(__name__)

PROCESSES = f"{PREFIX}procs"
ACCOUNTS = f"{PREFIX}accounts"
INSTANCE = f"{PREFIX}instance"
"""A token set once per life of the Redis data: a changed token means everything shared was lost."""
CLAIM_MS = 30_000
"""How long a survivor's claim on a dead process's cleanup holds before another may redo it."""


def _token() -> str:
    return secrets.token_hex(8)


def _held(process_id: str) -> str:
    return f"{PREFIX}proc:{process_id}"


def _record(account_id: int, visitor_id: str) -> str:
    return account_key(account_id, f"v:{visitor_id}")


def _tabs(account_id: int, visitor_id: str) -> str:
    return account_key(account_id, f"tabs:{visitor_id}")


def _revisions(account_id: int) -> str:
    return account_key(account_id, "rev")


def _visitor_keys(account_id: int, visitor_id: str) -> list[str]:
    return [
        _record(account_id, visitor_id),
        _tabs(account_id, visitor_id),
        account_key(account_id, "idle"),
        account_key(account_id, "visitors"),
    ]


class RedisPresence:
    """``Presence`` shared by every process through Redis (see the module's docstring)."""

    def __init__(self, link: RedisLink, *, lease_seconds: float) -> None:
        self._link = link
        self._me = link.process_id
        self._lease_ms = str(round(lease_seconds * 1000))
        self._accounts_listed: set[int] = set()
        self._marker: bytes | None = None
        self._local: dict[tuple[int, str], int] = {}
        """Tabs of each visitor on this process: only their records are remembered."""
        self._known: dict[tuple[int, str], tuple[bytes, dict[str, bytes]]] = {}
        """The last record (revision, fields) this process read or wrote of a visitor with a tab here:
        while Redis still has that revision, a read is answered without sending the record again."""

    def _field(self, item: str) -> str:
        return f"{self._me}|{item}"

    # ------------------------------------------------------------------ tabs

    async def attach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Count a tab of the visitor on this process; returns its tabs over all processes."""
        # Listed under this process first (both go out in one pipelined write, in this order): a crash
        # between the two leaves nothing a survivor cannot find.
        keys = [_tabs(account_id, visitor_id), account_key(account_id, "idle")]
        key = (account_id, visitor_id)
        self._local[key] = self._local.get(key, 0) + 1
        _listed, count = await asyncio.gather(
            self._link.call("SADD", _held(self._me), f"t|{account_id}|{visitor_id}|{tab_id}"),
            self._link.script("tab_attach", keys, [self._field(tab_id), visitor_id]),
        )
        return int(count)

    async def detach(self, account_id: int, visitor_id: str, tab_id: str) -> int:
        """Forget one tab; returns the tabs left (0 starts the visitor's idle time)."""
        keys = [_tabs(account_id, visitor_id), account_key(account_id, "idle")]
        key = (account_id, visitor_id)
        left_here = self._local.get(key, 0) - 1
        if left_here > 0:
            self._local[key] = left_here
        else:
            self._local.pop(key, None)
            self._known.pop(key, None)
        count, _unlisted = await asyncio.gather(
            self._link.script("tab_detach", keys, [self._field(tab_id), visitor_id]),
            self._link.call("SREM", _held(self._me), f"t|{account_id}|{visitor_id}|{tab_id}"),
        )
        return int(count)

    async def tabs(self, account_id: int, visitor_id: str) -> int:
        """The visitor's tabs over all processes."""
        count: int = await self._link.call("HLEN", _tabs(account_id, visitor_id))
        return count

    async def claim(self, job: str, seconds: float) -> bool:
        """True for exactly one process: ``SET NX`` with an expiry."""
        won = await self._link.call("SET", f"{PREFIX}claim:{job}", self._me, "NX", "PX", str(round(seconds * 1000)))
        return bool(won)

    # ------------------------------------------------------------------ records

    async def load(
        self, account_id: int, visitor_id: str, fields: Sequence[str] | None = None
    ) -> dict[str, bytes] | None:
        """The visitor's fields (all, or the named ones that exist), or None when not present."""
        if fields is None:
            return await self._load_all(account_id, visitor_id)
        if not fields:
            exists = await self._link.call("EXISTS", _record(account_id, visitor_id))
            return {} if exists else None
        pairs = await self._link.script("visitor_load", [_record(account_id, visitor_id)], list(fields))
        if pairs is None:
            return None
        return {pairs[i].decode(): pairs[i + 1] for i in range(0, len(pairs), 2)}

    async def _load_all(self, account_id: int, visitor_id: str) -> dict[str, bytes] | None:
        key = (account_id, visitor_id)
        known = self._known.get(key)
        if known is None:
            found = await self._link.call("HGETALL", _record(account_id, visitor_id))
        else:
            # The page view path: one small reply when nobody else wrote the record since.
            found = await self._link.script("visitor_fresh", [_record(account_id, visitor_id)], [known[0]])
            if found == 1:
                return dict(known[1])
        found_ = self._remember(key, found)
        return None if found_ is None else found_.fields

    def _remember(self, key: tuple[int, str], found: Any) -> Stored | None:
        """A record Redis sent (HGETALL's reply), remembered while this process holds a tab of the visitor."""
        if not found:
            self._known.pop(key, None)
            return None
        if isinstance(found, dict):  # RESP3 (redis-py 8's default) answers a map
            record = {k.decode(): v for k, v in found.items()}
        else:
            record = {found[i].decode(): found[i + 1] for i in range(0, len(found), 2)}
        rev = record.pop("rev", b"")  # not a field of the visitor: callers compare fields to what they stored
        if rev and key in self._local:
            self._known[key] = (rev, record)
        return Stored(rev, dict(record))

    async def read(self, account_id: int, visitor_id: str) -> Stored | None:
        """The record and its revision: as remembered (no round trip) while a tab of the visitor is here."""
        key = (account_id, visitor_id)
        known = self._known.get(key)
        if known is not None:
            return Stored(known[0], dict(known[1]))
        return self._remember(key, await self._link.call("HGETALL", _record(account_id, visitor_id)))

    def _stored(self, key: tuple[int, str], before: bytes, rev: bytes, fields: Fields) -> None:
        """Keep the remembered record current after this process's write (revision ``before`` -> ``rev``)."""
        known = self._known.get(key)
        if known is None:
            return
        if known[0] != before:  # another process wrote in between: read the whole record next time
            del self._known[key]
            return
        self._known[key] = (rev, {**known[1], **fields})

    async def store(self, account_id: int, visitor_id: str, fields: Fields) -> None:
        """Set some fields of a visitor (creating the record); fields not named are left alone."""
        if not fields:
            return
        args: list[str | bytes] = [visitor_id]
        for name, value in fields.items():
            args += [name, value]
        keys = [_record(account_id, visitor_id), account_key(account_id, "visitors"), _revisions(account_id)]
        key = (account_id, visitor_id)
        try:
            before, rev = await self._link.script("visitor_store", keys, args)
        except BaseException:
            self._known.pop(key, None)
            raise
        self._stored(key, before, rev, fields)
        await self._listed(account_id)

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
        """Fields and delta in one script (one round trip, atomic), refused when the record left ``rev``."""
        if not isinstance(log, RedisDeltaLog):  # pragma: no cover - the seams come as one set
            raise TypeError("a Redis presence commits to a Redis delta log")
        args: list[str | bytes | int] = [visitor_id, rev or b"", body or b"", log.history_size, log_keys(account_id)[2]]
        for name, value in fields.items():
            args += [name, value]
        keys = [
            _record(account_id, visitor_id),
            account_key(account_id, "visitors"),
            _revisions(account_id),
            *log_keys(account_id)[:2],
        ]
        key = (account_id, visitor_id)
        try:
            reply = await self._link.script("visitor_commit", keys, args)
        except BaseException:
            self._known.pop(key, None)
            raise
        if not reply[0]:
            return Moved(self._remember(key, reply[1]))
        _done, before, now, _epoch, seq = reply
        if body is not None:
            metrics.DELTAS.inc()
        self._stored(key, before, now, fields)
        await self._listed(account_id)
        return int(seq)

    async def _listed(self, account_id: int) -> None:
        if account_id not in self._accounts_listed:
            await self._link.call("SADD", ACCOUNTS, account_id)
            self._accounts_listed.add(account_id)

    async def remove(self, account_id: int, visitor_id: str) -> None:
        """Forget a visitor, its fields and tabs."""
        self._known.pop((account_id, visitor_id), None)
        await self._link.script("visitor_remove", _visitor_keys(account_id, visitor_id), [visitor_id])

    async def expire(self, account_id: int, visitor_id: str, idle_for: float) -> bool:
        """Remove the visitor if it has had no tab for ``idle_for`` seconds; True only for the call that did."""
        done = await self._link.script(
            "visitor_expire", _visitor_keys(account_id, visitor_id), [visitor_id, str(round(idle_for * 1000))]
        )
        return bool(done)

    async def scan(self, account_id: int, cursor: str = "", count: int = 500) -> Page:
        """About ``count`` visitors (Redis' SSCAN: one present throughout the scan is returned at least once)."""
        found = await self._link.script(
            "visitor_scan",
            [account_key(account_id, "visitors")],
            [cursor or "0", str(count), account_key(account_id, "v:")],
        )
        next_cursor = found[0].decode()
        visitors = []
        for i in range(1, len(found), 2):
            flat = found[i + 1]
            record = {flat[j].decode(): flat[j + 1] for j in range(0, len(flat), 2)}
            record.pop("rev", None)
            visitors.append((found[i].decode(), record))
        return Page("" if next_cursor == "0" else next_cursor, visitors)

    async def count(self, account_id: int | None = None) -> int:
        """Present visitors of one account, or of all accounts."""
        if account_id is not None:
            n: int = await self._link.call("SCARD", account_key(account_id, "visitors"))
            return n
        accounts = await self._link.call("SMEMBERS", ACCOUNTS)
        counts = await asyncio.gather(
            *(self._link.call("SCARD", account_key(int(member), "visitors")) for member in accounts)
        )
        return sum(counts)

    # ------------------------------------------------------------------ agents

    async def agent_attach(self, account_id: int, conn_id: str) -> int:
        """Count an agent socket on this process; returns the account's agent sockets over all processes."""
        keys = [account_key(account_id, "agents"), account_key(account_id, "idle")]
        _listed, count = await asyncio.gather(
            self._link.call("SADD", _held(self._me), f"a|{account_id}|{conn_id}"),
            self._link.script("tab_attach", keys, [self._field(conn_id), ""]),
        )
        return int(count)

    async def agent_detach(self, account_id: int, conn_id: str) -> int:
        """Forget an agent socket; returns the account's agent sockets left."""
        keys = [account_key(account_id, "agents"), account_key(account_id, "idle")]
        count, _unlisted = await asyncio.gather(
            self._link.script("tab_detach", keys, [self._field(conn_id), ""]),
            self._link.call("SREM", _held(self._me), f"a|{account_id}|{conn_id}"),
        )
        return int(count)

    async def agents(self, account_id: int) -> int:
        """The account's agent sockets over all processes."""
        count: int = await self._link.call("HLEN", account_key(account_id, "agents"))
        return count

    # ------------------------------------------------------------------ leases

    async def heartbeat(self) -> bool:
        """Renew this process's lease; True when its registrations were lost since the last renewal.

        Lost: Redis lost the shared state, or this process renewed too late and a survivor dropped its
        tabs and agents as a dead process's.
        """
        renewed = self._marker is not None
        marker, lapsed = await self._link.script(
            "lease_renew", [PROCESSES, INSTANCE], [self._me, self._lease_ms, _token(), "1" if renewed else "0"]
        )
        lost = renewed and marker != self._marker
        self._marker = marker
        if lost:
            log.warning("Redis lost the shared live state (restarted or flushed); registering this process again")
        elif lapsed:
            lost = True
            log.warning("this process renewed its lease too late (overloaded?); registering its sockets again")
        if lost:
            self._accounts_listed.clear()
            self._known.clear()
        return lost

    async def reap(self) -> list[tuple[int, str]]:
        """Drop the tabs and agents of processes whose lease expired; returns visitors left with no tab."""
        claimed = await self._link.script("lease_claim", [PROCESSES], [self._me, str(CLAIM_MS)])
        left: list[tuple[int, str]] = []
        for i in range(0, len(claimed), 2):
            process = claimed[i].decode()
            expired_at = claimed[i + 1].decode().split(".")[0]
            left += await self._reap_process(process, expired_at)
        return left

    async def _reap_process(self, process: str, expired_at: str) -> list[tuple[int, str]]:
        held = await self._link.call("SMEMBERS", _held(process))
        tabs: dict[int, list[tuple[str, str]]] = defaultdict(list)
        agents: dict[int, list[str]] = defaultdict(list)
        for member in held:
            parts = member.decode().split("|", 3)
            if parts[0] == "t" and len(parts) == 4:
                tabs[int(parts[1])].append((parts[2], f"{process}|{parts[3]}"))
            elif parts[0] == "a" and len(parts) == 3:
                agents[int(parts[1])].append(f"{process}|{parts[2]}")
        left: list[tuple[int, str]] = []
        for account_id in sorted(set(tabs) | set(agents)):
            keys = [account_key(account_id, "idle"), account_key(account_id, "agents")]
            args: list[str] = [expired_at, process]
            for visitor_id, field in tabs[account_id]:
                keys.append(_tabs(account_id, visitor_id))
                args += [visitor_id, field]
            args.append("--")
            args += agents[account_id]
            gone = await self._link.script("lease_reap", keys, args)
            left += [(account_id, v.decode()) for v in gone]
        await self._link.call("DEL", _held(process))
        await self._link.call("ZREM", PROCESSES, process)
        if held:
            log.info("process %s stopped renewing its lease; dropped its %d sockets", process, len(held))
        return left

    async def aclose(self) -> None:
        """Give up the lease now: a surviving process drops this one's remaining tabs and agents."""
        await self._link.script("lease_renew", [PROCESSES, INSTANCE], [self._me, "0", _token(), "0"])
