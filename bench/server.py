"""Server on loopback: idle visitor connections, a reconnect storm, fan-out to agents, chat latency.

Three kinds of processes, so the load generators never share the server's interpreter:

* the server: the real ASGI app under uvicorn (``server.embedded.EmbeddedServer``, temp SQLite, default
  settings) in its own process; it reports its RSS on request;
* visitor generators (``--procs`` of them): real websocket clients speaking the widget protocol;
* agent processes: raw websocket agent connections that timestamp every frame they receive.

Latency is measured across processes with ``time.monotonic()`` (one system-wide clock on Linux): a visitor
puts its send time into the page URL (or the chat text) and the agent side reads it back from the frame.

    .venv/bin/python -m bench.server idle [--visitors 15000] [--reconnect 10000] [--procs 2]
    .venv/bin/python -m bench.server fanout [--agents 50] [--rate 400] [--seconds 10] [--chat-rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import IO, Any

from bench.common import Figure, percentile, report, rss_of

PASSWORD = "bench password 123"
TOKEN_ENV = "FRONTDESK_BENCH_TOKEN"
"""The environment variable carrying an agent token to a child process."""
TRACE_ENV = "FRONTDESK_BENCH_TRACE"
"""Set (to a frame depth) in the server child: trace allocations; the first 'rss' marks the baseline, 'trace'
reports what was allocated since and is still held."""


def raise_nofile() -> int:
    """Raise the soft open-files limit to the hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1_048_576
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), flush=True)


# ------------------------------------------------------------------ role: server


def role_server(settings: dict[str, Any]) -> None:
    """Run the server; answer 'rss' and 'quit' on stdin (EOF also quits)."""
    raise_nofile()
    import httpx

    from protocol.rules import Plan
    from server import admin
    from server.config import RateLimit
    from server.embedded import EmbeddedServer

    preload = int(settings.pop("preload", 0))
    depth = int(os.environ.get(TRACE_ENV) or 0)
    if depth:
        tracemalloc.start(depth)
    baseline: tracemalloc.Snapshot | None = None
    if "visitor_rate" in settings:  # [burst, per_second]
        burst, per_second = settings.pop("visitor_rate")
        settings["visitor_rate"] = RateLimit(burst=burst, per_second=per_second)
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as tmp:
        server = EmbeddedServer(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}", port=0, **settings)
        server.start()
        try:
            created = server.call(
                admin.create_account,
                server.services,
                name="Bench shop",
                plan=Plan.PRO,
                agent_email="agent@bench.example",
                agent_password=PASSWORD,
            )
            if preload:
                server.call(_preload, server, created.account_id, preload)
            token = httpx.post(
                f"{server.http_url}/api/v1/auth/login",
                json={"email": "agent@bench.example", "password": PASSWORD},
                timeout=30,
            ).json()["token"]
            _emit(
                {
                    "pid": os.getpid(),
                    "ws": server.ws_url,
                    "http": server.http_url,
                    "account_key": created.account_key,
                    "token": token,
                }
            )
            for line in sys.stdin:
                if line.strip() == "rss":
                    if depth and baseline is None:
                        baseline = tracemalloc.take_snapshot()
                    _emit({"rss": rss_of(os.getpid())})
                elif line.strip() == "trace" and baseline is not None:
                    _emit({"trace": _allocations(baseline, tracemalloc.take_snapshot(), depth)})
                elif line.strip() == "quit":
                    break
        finally:
            server.stop()


def _allocations(before: tracemalloc.Snapshot, after: tracemalloc.Snapshot, depth: int) -> list[list[Any]]:
    """Memory allocated since ``before`` and still held, by allocation site: [bytes, blocks, site], largest first."""
    grown = [d for d in after.compare_to(before, "traceback") if d.size_diff > 0]
    grown.sort(key=lambda d: d.size_diff, reverse=True)
    out: list[list[Any]] = []
    for diff in grown[:40]:
        frames = [f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno}" for f in diff.traceback][:depth]
        out.append([diff.size_diff, diff.count_diff, " <- ".join(frames)])
    return out


async def _preload(server: Any, account_id: int, n: int) -> None:
    """Put ``n`` synthetic visitors into the live presence (as if connected), so snapshots carry them."""
    from bench.common import make_visitors
    from server.live.record import VisitorState, encode_all

    presence = server.services.hub.seams.presence
    for visitor in make_visitors(n, now=time.time()):
        await presence.store(account_id, visitor.id, encode_all(VisitorState(record=visitor)))


# ------------------------------------------------------------------ role: visitors


async def _visitor_hello(url: str, vid: str, page: str) -> Any:
    from websockets.asyncio.client import connect

    from protocol.codec import encode
    from protocol.messages import VisitorHello

    ws = await connect(url, open_timeout=60, ping_interval=None, compression=None)
    await ws.send(encode(VisitorHello(visitor_id=vid, tab_id="tab" + vid, url=page, title="Bench")).decode())
    first = await asyncio.wait_for(ws.recv(), 60)
    if '"welcome"' not in first:
        await ws.close()
        raise ConnectionRefusedError(first[:200])
    return ws


async def _connect_retrying(url: str, vid: str, stats: dict[str, int], deadline: float) -> Any:
    """Connect like the widget does: retry with backoff until admitted (bounded by ``deadline``)."""
    delay = 0.25
    while True:
        try:
            return await _visitor_hello(url, vid, "https://shop.example/")
        except (OSError, TimeoutError, ConnectionRefusedError, Exception):
            stats["retries"] += 1
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _visitors_idle(url: str, first: int, n: int, reconnect: int) -> None:
    """Connect ``n`` visitors (ids ``first``..), report, then on 'storm' drop ``reconnect`` and reconnect them."""
    loop = asyncio.get_running_loop()
    stats = {"retries": 0}
    ids = [f"bench{first + i:010d}" for i in range(n)]
    sem = asyncio.Semaphore(100)
    t0 = time.monotonic()

    async def ramp(vid: str) -> Any:
        async with sem:
            return await _connect_retrying(url, vid, stats, t0 + 600)

    sockets = list(await asyncio.gather(*(ramp(v) for v in ids)))
    _emit({"ready": n, "seconds": time.monotonic() - t0, "retries": stats["retries"]})
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().strip():
        if line == "storm":
            for ws in sockets[:reconnect]:
                ws.transport.abort()  # a network drop: no close handshake
            await asyncio.sleep(1.0)
            stats["retries"] = 0
            cpu0 = time.process_time()
            t1 = time.monotonic()
            again = await asyncio.gather(
                *(_connect_retrying(url, v, stats, t1 + 120) for v in ids[:reconnect]), return_exceptions=True
            )
            ok = [ws for ws in again if not isinstance(ws, BaseException)]
            _emit(
                {
                    "reconnected": len(ok),
                    "failed": len(again) - len(ok),
                    "seconds": time.monotonic() - t1,
                    "retries": stats["retries"],
                    "cpu": time.process_time() - cpu0,
                }
            )
            sockets[:reconnect] = ok
        elif line == "quit":
            break
    for ws in sockets:
        ws.transport.abort()


async def _visitors_active(url: str, first: int, n: int, rate: float, seconds: float, chat_rate: float) -> None:
    """``n`` visitors sending page views at ``rate``/s in total (and chats at ``chat_rate``/s) for ``seconds``."""
    from protocol.codec import encode
    from protocol.messages import PageView, VisitorChat

    stats = {"retries": 0}
    ids = [f"act{first + i:010d}" for i in range(n)]
    sockets = await asyncio.gather(*(_connect_retrying(url, v, stats, time.monotonic() + 120) for v in ids))
    _emit({"ready": n})
    # "warm": one unstamped page view each, so first-use costs on the server and agents are not measured.
    while sys.stdin.readline().strip() == "warm":  # anything else ("go") starts the run
        for k, ws in enumerate(sockets):
            await ws.send(encode(PageView(url=f"https://shop.example/warm-up/{k}", title="Warm-up")).decode())
        _emit({"warmed": n})
    sent = chats = 0
    start = time.monotonic()
    end = start + seconds
    chat_every = max(1, round(rate / chat_rate)) if chat_rate > 0 else 0
    k = 0
    while (now := time.monotonic()) < end:
        due = int((now - start) * rate)
        while sent < due:
            ws = sockets[k % n]
            k += 1
            stamp = time.monotonic()
            if chat_every and sent % chat_every == 0:
                text = f"chat t={stamp:.6f} ;"
                await ws.send(encode(VisitorChat(id=f"m{first}x{sent:09d}", text=text)).decode())
                chats += 1
            else:
                page = f"https://shop.example/p?t={stamp:.6f};"
                await ws.send(encode(PageView(url=page, title="Bench page")).decode())
            sent += 1
        await asyncio.sleep(0.002)
    _emit({"sent": sent, "chats": chats, "seconds": time.monotonic() - start, "start": start})
    await asyncio.sleep(0.5)
    for ws in sockets:
        ws.transport.abort()


def role_visitors(args: argparse.Namespace) -> None:
    raise_nofile()
    if args.mode == "idle":
        asyncio.run(_visitors_idle(args.url, args.first, args.n, args.reconnect))
    else:
        rate = (args.rate or [400.0])[0]
        asyncio.run(_visitors_active(args.url, args.first, args.n, rate, args.seconds, args.chat_rate))


# ------------------------------------------------------------------ role: agents


def _stamp(frame: str, marker: str) -> float | None:
    i = frame.find(marker)
    if i < 0:
        return None
    j = frame.find(";", i)
    try:
        return float(frame[i + len(marker) : j])
    except ValueError:
        return None


async def _agents(url: str, token: str, n: int, seconds: float) -> None:
    """``n`` agent connections recording the latency of every stamped page view and chat message."""
    from websockets.asyncio.client import connect

    from protocol.codec import encode
    from protocol.messages import Auth
    from protocol.rules import PROTOCOL_VERSION

    page_lat: list[float] = []
    chat_lat: list[float] = []
    received = [0]
    last = [0.0]  # when the last stamped frame arrived

    async def agent() -> Any:
        ws = await connect(url + "/ws/agent", max_size=None, open_timeout=60, ping_interval=None, compression=None)
        await ws.send(encode(Auth(token=token, protocol=PROTOCOL_VERSION)).decode())
        return ws

    async def listen(ws: Any, stop: float) -> None:
        seen: set[float] = set()  # later visitor deltas repeat the last page's URL: count each stamp once
        with contextlib.suppress(Exception):
            while True:
                frame = await asyncio.wait_for(ws.recv(), max(0.1, stop - time.monotonic()))
                now = time.monotonic()
                received[0] += 1
                if '"type":"message"' in frame:
                    t = _stamp(frame, "chat t=")
                    if t is not None:
                        chat_lat.append((now - t) * 1000)
                        last[0] = now
                elif '"type":"visitor' in frame:  # visitor (arrival) and visitor_patch (a page view)
                    t = _stamp(frame, "p?t=")
                    if t is not None and t not in seen:
                        seen.add(t)
                        page_lat.append((now - t) * 1000)
                        last[0] = now

    async def discard(ws: Any) -> None:
        while True:
            await ws.recv()

    sockets = await asyncio.gather(*(agent() for _ in range(n)))
    # Keep reading until "go" (dropping what arrives): an agent that stops reading leaves its hello and
    # warm-up frames (~400 per socket) queued, and the first 0.5-1 s of the run would wait behind them.
    drains = [asyncio.create_task(discard(ws)) for ws in sockets]
    _emit({"ready": n})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"; the loop keeps running
    for task in drains:
        task.cancel()  # cancelling recv() loses no frame (websockets)
    await asyncio.gather(*drains, return_exceptions=True)
    received[0] = 0
    stop = time.monotonic() + seconds + 1.5
    t0 = time.monotonic()
    await asyncio.gather(*(listen(ws, stop) for ws in sockets))
    _emit(
        {
            "received": received[0],
            "seconds": time.monotonic() - t0,
            "go": t0,
            "last": last[0],
            "page_lat": page_lat,
            "chat_lat": chat_lat,
            "cpu": time.process_time(),
        }
    )
    for ws in sockets:
        ws.transport.abort()


def role_agents(args: argparse.Namespace) -> None:
    raise_nofile()
    asyncio.run(_agents(args.url, os.environ[TOKEN_ENV], args.n, args.seconds))


# ------------------------------------------------------------------ orchestration


class Child:
    """A child process speaking JSON lines on stdout and commands on stdin."""

    def __init__(self, *args: str, token: str | None = None, trace: int = 0) -> None:
        # A token goes through the environment, never the command line (visible in ps and profilers).
        extra = {TOKEN_ENV: token} if token is not None else {}
        if trace:
            extra[TRACE_ENV] = str(trace)
        env = {**os.environ, **extra} if extra else None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def read(self, timeout: float = 900.0) -> dict[str, Any]:
        """The next JSON line (raises if the child died or took longer than ``timeout``)."""
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(out, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            while True:
                if not sel.select(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"child {self.proc.args!r} said nothing in {timeout} s")
                line = out.readline()
                if not line:
                    raise RuntimeError(f"child {self.proc.args!r} exited with {self.proc.wait()}")
                if line.startswith("{"):
                    return json.loads(line)  # type: ignore[no-any-return]

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.send("quit")
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(Exception):
                    pipe.close()


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    size, extra = divmod(n, parts)
    out, first = [], 0
    for p in range(parts):
        count = size + (1 if p < extra else 0)
        out.append((first, count))
        first += count
    return out


def run_idle(
    visitors: int = 15_000, reconnect: int = 10_000, procs: int = 2, warm: int = 50, trace: int = 0
) -> list[Figure]:
    """Idle visitor connections (RSS per connection) and a reconnect storm of ``reconnect`` of them.

    ``trace`` > 0: the server traces allocations (that many frames deep) and the memory the idle sockets
    hold is printed by allocation site (tracing slows the server and adds its own RSS).
    """
    raise_nofile()
    server = Child("--role", "server", trace=trace)
    gens: list[Child] = []
    try:
        info = server.read(120)
        url = f"{info['ws']}/ws/visitor?account={info['account_key']}"
        # Warm up code paths and the database before the baseline RSS.
        if warm:
            warmer = Child(
                "--role", "visitors", "--url", url, "--mode", "idle", "--first", "900000000", "--n", str(warm)
            )
            warmer.read()
            warmer.close()
            time.sleep(1.0)
        server.send("rss")
        rss0 = server.read()["rss"]
        reconnect = min(reconnect, visitors)
        gens = [
            Child(
                "--role",
                "visitors",
                "--url",
                url,
                "--mode",
                "idle",
                "--first",
                str(first),
                "--n",
                str(count),
                "--reconnect",
                str(part_r),
            )
            for (first, count), (_, part_r) in zip(_split(visitors, procs), _split(reconnect, procs), strict=True)
        ]
        ramps = [g.read() for g in gens]
        time.sleep(1.0 if warm else 0.1)
        server.send("rss")
        rss1 = server.read()["rss"]
        if trace:
            server.send("trace")
            _print_allocations(server.read()["trace"], visitors)
        for g in gens:
            g.send("storm")
        storms = [g.read(300) for g in gens]
    finally:
        for g in gens:
            g.close()
        server.close()
    per_conn = (rss1 - rss0) / visitors
    connected = sum(r["ready"] for r in ramps)
    return [
        Figure("idle visitor connections held by one server process", "conns", [float(connected)], ">= 15,000"),
        Figure(f"  server RSS per idle connection ({visitors:,})", "KiB", [per_conn / 1024], "<= 16 KiB"),
        Figure("  server RSS with them (MiB)", "MiB", [rss1 / 2**20]),
        Figure("  ramp-up time (100 handshakes in flight per generator)", "s", [max(r["seconds"] for r in ramps)]),
        Figure(
            f"reconnect storm: {reconnect:,} visitors at once, all admitted in",
            "s",
            [max(s["seconds"] for s in storms)],
            "< 15 s",
            note=f"failed {sum(s['failed'] for s in storms)}, client retries {sum(s['retries'] for s in storms)}, "
            f"generator CPU {max(s['cpu'] for s in storms):.1f} s",
        ),
    ]


def _print_allocations(sites: list[list[Any]], sockets: int) -> None:
    total = sum(size for size, _, _ in sites)
    print(f"traced memory held by {sockets:,} idle sockets, top sites: {total / sockets:,.0f} bytes per socket")
    for size, count, where in sites:
        print(f"{size / sockets:8,.0f} B {count / sockets:6.2f} blocks  {where}")


def run_fanout(
    agents: int = 50,
    rate: float = 400.0,
    seconds: float = 10.0,
    chat_rate: float = 10.0,
    visitors: int = 200,
    settle: float = 4.0,
) -> list[Figure]:
    """Agents receiving every delta of visitors sending page views at ``rate``/s; delivery and chat latency."""
    raise_nofile()
    server = Child("--role", "server")
    kids: list[Child] = []
    try:
        info = server.read(120)
        url = f"{info['ws']}/ws/visitor?account={info['account_key']}"
        agent_procs = [
            Child(
                "--role",
                "agents",
                "--url",
                info["ws"],
                "--n",
                str(count),
                "--seconds",
                str(seconds),
                token=info["token"],
            )
            for _, count in _split(agents, 2 if agents > 1 else 1)
            if count
        ]
        kids += agent_procs
        for a in agent_procs:
            a.read(120)
        vis = Child(
            "--role", "visitors", "--url", url, "--mode", "active", "--n", str(visitors), "--rate", str(rate),
            "--seconds", str(seconds), "--chat-rate", str(chat_rate),
        )  # fmt: skip
        kids.append(vis)
        vis.read(300)
        vis.send("warm")  # one page view per visitor through server and agents before measuring
        vis.read(120)
        time.sleep(settle)  # let the hello and warm-up deltas settle
        for a in agent_procs:
            a.send("go")
        vis.send("go")
        sent = vis.read(seconds + 120)
        results = [a.read(seconds + 120) for a in agent_procs]
    finally:
        for k in kids:
            k.close()
        server.close()
    page_lat = [x for r in results for x in r["page_lat"]]
    chat_lat = [x for r in results for x in r["chat_lat"]]
    received = sum(r["received"] for r in results)
    deliveries = len(page_lat) + len(chat_lat)
    expected = sent["sent"] * agents
    return [
        Figure(
            f"fan-out deliveries per second to {agents} agents, {rate:g} deltas/s offered",
            "/s",
            [deliveries / max(1e-9, max(r["last"] for r in results) - sent["start"])],
            ">= 20,000",
            note=f"offered {expected / sent['seconds']:,.0f}/s; {deliveries:,} of {expected:,} stamped frames arrived, "
            f"the last {max(r['last'] for r in results) - sent['start']:.1f} s after sending began "
            f"(sending took {sent['seconds']:.1f} s; {received:,} frames in all)",
        ),
        Figure("  delivery latency visitor -> server -> agent, p50", "ms", [percentile(page_lat, 50)]),
        Figure("  delivery latency p99", "ms", [percentile(page_lat, 99)], "< 10 ms"),
        Figure("  delivery latency max", "ms", [max(page_lat) if page_lat else float("nan")]),
        Figure(
            f"chat message visitor -> agent under that load, p50 ({len(chat_lat)} deliveries)",
            "ms",
            [percentile(chat_lat, 50)],
        ),
        Figure("  chat latency p99", "ms", [percentile(chat_lat, 99)], "< 20 ms"),
        Figure("  agent-side CPU seconds (per agent process, max)", "s", [max(r["cpu"] for r in results)]),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", choices=["idle", "fanout", "all"], default="all")
    parser.add_argument("--role", choices=["server", "visitors", "agents"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="idle", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--visitors", type=int, default=15_000)
    parser.add_argument("--reconnect", type=int, default=10_000)
    parser.add_argument("--procs", type=int, default=2, help="visitor generator processes")
    parser.add_argument(
        "--trace", type=int, default=0, metavar="DEPTH", help="idle: trace the server's allocations, DEPTH frames"
    )
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, action="append", help="page views per second, each fanned out (repeatable; default 400)"
    )
    parser.add_argument("--active-visitors", type=int, default=200)
    parser.add_argument("--chat-rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.role == "server":
        role_server(json.loads(args.settings))
        return
    if args.role == "visitors":
        role_visitors(args)
        return
    if args.role == "agents":
        role_agents(args)
        return
    figures: list[Figure] = []
    if args.bench in ("idle", "all"):
        figures += run_idle(args.visitors, args.reconnect, args.procs, trace=args.trace)
    if args.bench in ("fanout", "all"):
        for rate in args.rate or [400.0]:
            figures += run_fanout(args.agents, rate, args.seconds, args.chat_rate, args.active_visitors)
    report("server: connections, reconnect storm, fan-out, chat latency (loopback)", figures)


if __name__ == "__main__":
    main()
