"""Several server processes on Redis: delta latency across processes beside one process, idle socket memory.

Starts its own redis-server and PostgreSQL (Debian's programs), real ``frontdesk-server serve``
processes, and reuses bench/server.py's visitor and agent load generators (separate processes;
latency on ``time.monotonic()``, one clock for every process on Linux).

    .venv/bin/python -m bench.cluster latency [--rate 2000] [--seconds 10] [--visitors 400]
    .venv/bin/python -m bench.cluster idle [--visitors 10000] [--procs 2] [--servers 2] [--json]

``latency`` runs three set-ups in one run at the same offered rate: one process without Redis;
visitors and agent on process A with Redis; visitors on A and the agent on B (visitor -> A ->
Redis -> B -> agent). ``idle`` holds idle visitor sockets spread over ``--servers`` processes (each on
its own loopback address, 127.0.0.2 and up, so no address pair runs out of source ports) and
reports how many were admitted, RSS per socket, Redis memory per visitor, and an agent's paged
snapshot of all of them: time to the first page and to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
from websockets.exceptions import ConnectionClosed

from bench.common import Figure, percentile, report, rss_of
from bench.server import PASSWORD, Child, raise_nofile

CLI = [sys.executable, "-m", "server.cli"]
EMAIL = "agent@cluster.bench"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _program(name: str, also_in: str = "") -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(os.path.join(also_in, name)), reverse=True)), None)
    if not found:
        raise SystemExit(f"bench.cluster needs {name} (scripts/system-deps installs it)")
    return found


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def redis_server(root: Path) -> Iterator[tuple[str, int]]:
    """A redis-server without persistence; yields (url, pid)."""
    port = _free_port()
    proc = subprocess.Popen(
        [_program("redis-server"), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(root), "--maxmemory-policy", "noeviction"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0", proc.pid
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (fsync off) in its own directory; yields its ``postgres`` database."""
    pg_bin = "/usr/lib/postgresql/*/bin"
    initdb, pg_ctl = _program("initdb", pg_bin), _program("pg_ctl", pg_bin)
    root = Path(tempfile.mkdtemp(prefix="fd-cluster-pg-"))
    data = root / "pg"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    port = _free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "frontdesk"]), check=True,
                   capture_output=True)  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=600"
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "pg.log"), "-w", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://frontdesk@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "stop", "-m", "fast"]), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


class Server:
    """One ``frontdesk-server serve`` process."""

    def __init__(self, database: str, redis: str | None, log: Path, host: str = "127.0.0.1") -> None:
        self.port = _free_port()
        command = [*CLI, "serve", "--host", host, "--port", str(self.port), "--database", database]
        command += ["--log-level", "warning"]
        if redis:
            command += ["--redis", redis]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self.http = f"http://{host}:{self.port}"
        self.ws = f"ws://{host}:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {log}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.http}/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"server not ready; see {log}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _account(database: str) -> str:
    """Create the bench account in ``database``; returns its widget key."""
    env = {**os.environ, "FRONTDESK_AGENT_PASSWORD": PASSWORD}
    done = subprocess.run(
        [*CLI, "account", "create", "--name", "Bench", "--plan", "pro", "--agent-email", EMAIL, "--database", database],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"account create failed: {done.stderr}")
    key: str = json.loads(done.stdout)["account_key"]
    return key


def _token(server: Server) -> str:
    response = httpx.post(f"{server.http}/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    token: str = response.json()["token"]
    return token


def _redis_info(url: str, section: str) -> dict[str, str]:
    port = int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    out = subprocess.run(
        [_program("redis-cli"), "-p", str(port), "INFO", section], capture_output=True, text=True, check=True
    ).stdout
    return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)


def _round_trips(server: Server) -> dict[str, float]:
    """Redis round trips of one process so far, by command or script (from its /metrics)."""
    text = httpx.get(f"{server.http}/metrics", timeout=10).text
    trips: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("frontdesk_redis_round_trips_total{"):
            op = line.split('op="', 1)[1].split('"', 1)[0]
            trips[op] = float(line.rsplit(" ", 1)[1])
    return trips


def _counter(server: Server, name: str) -> float:
    """One counter of a process's /metrics (0 when absent)."""
    for line in httpx.get(f"{server.http}/metrics", timeout=10).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _redis_cpu(url: str) -> float:
    info = _redis_info(url, "cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _run_load(
    agent_server: Server, visitor_server: Server, key: str, token: str, rate: float, seconds: float, visitors: int
) -> tuple[list[float], dict[str, Any], dict[str, Any]]:
    """Visitors on one server sending page views, one agent on another; the agent's latencies."""
    agent = Child("--role", "agents", "--url", agent_server.ws, "--n", "1", "--seconds", str(seconds), token=token)
    vis: Child | None = None
    try:
        agent.read(120)
        url = f"{visitor_server.ws}/ws/visitor?account={key}"
        vis = Child(
            "--role", "visitors", "--url", url, "--mode", "active", "--n", str(visitors), "--rate", str(rate),
            "--seconds", str(seconds), "--chat-rate", "0",
        )  # fmt: skip
        vis.read(300)
        vis.send("warm")
        vis.read(120)
        time.sleep(3)
        agent.send("go")
        vis.send("go")
        sent = vis.read(seconds + 120)
        result = agent.read(seconds + 120)
    finally:
        if vis is not None:
            vis.close()
        agent.close()
    return result["page_lat"], sent, result


def _latency_figures(label: str, lat: list[float], sent: dict[str, Any], result: dict[str, Any]) -> list[Figure]:
    span = max(1e-9, result["last"] - sent["start"])
    return [
        Figure(
            f"{label}: deltas per second delivered to the agent",
            "/s",
            [len(lat) / span],
            note=f"{len(lat):,} of {sent['sent']:,} page views arrived; "
            f"offered {sent['sent'] / sent['seconds']:,.0f}/s",
        ),
        Figure(f"  {label}: latency p50", "ms", [percentile(lat, 50)], "< 5 ms"),
        Figure(f"  {label}: latency p99", "ms", [percentile(lat, 99)], "< 20 ms"),
        Figure(f"  {label}: latency max", "ms", [max(lat) if lat else float("nan")]),
    ]


def run_latency(rate: float, seconds: float, visitors: int) -> list[Figure]:
    """Delta latency: one process, one process on Redis, and across two processes on Redis."""
    raise_nofile()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="fd-cluster-") as tmp:
        root = Path(tmp)
        sqlite = f"sqlite:///{root / 'single.sqlite3'}"
        key = _account(sqlite)
        single = Server(sqlite, None, root / "single.log")
        try:
            lat, sent, result = _run_load(single, single, key, _token(single), rate, seconds, visitors)
            figures += _latency_figures("one process, no Redis", lat, sent, result)
        finally:
            single.stop()
        with redis_server(root) as (redis_url, redis_pid), postgres() as database:
            key = _account(database)
            a = Server(database, redis_url, root / "a.log")
            b = Server(database, redis_url, root / "b.log")
            try:
                token = _token(a)
                lat, sent, result = _run_load(a, a, key, token, rate, seconds, visitors)
                figures += _latency_figures("process A with Redis (visitors and agent on A)", lat, sent, result)
                refused0 = _counter(a, "frontdesk_commits_refused_total")
                cpu0, trips0, a_cpu0 = _redis_cpu(redis_url), _round_trips(a), _cpu_of(a.proc.pid)
                lat, sent, result = _run_load(b, a, key, token, rate, seconds, visitors)
                cpu, trips = _redis_cpu(redis_url) - cpu0, _round_trips(a)
                a_cpu = _cpu_of(a.proc.pid) - a_cpu0
                refused = _counter(a, "frontdesk_commits_refused_total") - refused0
                resyncs = _counter(b, "frontdesk_agent_resyncs_total")
                figures += _latency_figures("visitor -> A -> Redis -> B -> agent", lat, sent, result)
                figures.append(
                    Figure(
                        "  Redis CPU per delta (A -> B run)",
                        "us",
                        [cpu / max(1, sent["sent"]) * 1e6],
                        note=f"{cpu:.2f} s of Redis CPU for {sent['sent']:,} deltas, "
                        f"RSS {rss_of(redis_pid) / 2**20:.0f} MiB",
                    )
                )
                per_view = {op: (n - trips0.get(op, 0)) / max(1, sent["sent"]) for op, n in trips.items()}
                figures.append(
                    Figure(
                        "  Redis round trips of process A per page view",
                        "",
                        [sum(per_view.values())],
                        note=", ".join(f"{op} {n:.2f}" for op, n in sorted(per_view.items()) if n >= 0.01),
                    )
                )
                figures.append(
                    Figure(
                        "  process A CPU per page view (A -> B run, with the visitors' hellos)",
                        "us",
                        [a_cpu / max(1, sent["sent"]) * 1e6],
                        note=f"{a_cpu:.2f} s of CPU for {sent['sent']:,} page views",
                    )
                )
                figures.append(
                    Figure(
                        "  optimistic commits of process A refused per page view",
                        "",
                        [refused / max(1, sent["sent"])],
                        note=f"{refused:.0f} refused and applied again to the current record",
                    )
                )
                figures.append(
                    Figure(
                        "  agent resyncs on process B (its queue overflowed: deltas dropped, fresh snapshot)",
                        "",
                        [resyncs],
                    )
                )
            finally:
                a.stop()
                b.stop()
    return figures


class _Page(msgspec.Struct):
    """What the snapshot bench reads of a frame (visitors left undecoded)."""

    type: str
    visitors: list[msgspec.Raw] = []
    more: bool = False


async def _paged_snapshot(server: Server, token: str, kinds: dict[str, int]) -> tuple[float, float, int, int]:
    """An agent's snapshot: seconds to the first page and to the last, visitors received, pages.

    ``kinds`` counts every frame by type (what filled the agent's queue when the server closed it).
    """
    from websockets.asyncio.client import connect

    from protocol.codec import encode
    from protocol.messages import Auth
    from protocol.rules import PROTOCOL_VERSION

    decoder = msgspec.json.Decoder(_Page)
    t0 = time.monotonic()
    first = 0.0
    count = pages = 0
    async with connect(server.ws + "/ws/agent", max_size=None, open_timeout=60, ping_interval=None) as ws:
        await ws.send(encode(Auth(token=token, protocol=PROTOCOL_VERSION)).decode())
        deadline = t0 + 120
        while time.monotonic() < deadline:
            frame = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
            page = decoder.decode(frame)
            kinds[page.type] = kinds.get(page.type, 0) + 1
            if page.type != "snapshot":
                continue
            pages += 1
            count += len(page.visitors)
            if pages == 1:
                first = time.monotonic() - t0
            if not page.more:
                return first, time.monotonic() - t0, count, pages
    raise TimeoutError("the snapshot did not end within 120 s")


def _present(url: str) -> int:
    """Present visitors of every account, as Redis counts them."""
    port = int(url.rsplit(":", 1)[1].split("/", maxsplit=1)[0])
    keys = subprocess.run(
        [_program("redis-cli"), "-p", str(port), "--scan", "--pattern", "fd:{acc:*}:visitors"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    total = 0
    for key in keys:
        command = [_program("redis-cli"), "-p", str(port), "SCARD", key]
        total += int(subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip() or 0)
    return total


def run_idle(visitors: int, procs: int, servers: int = 2) -> list[Figure]:
    """Idle visitor sockets over several processes on Redis: admitted, RSS per socket, Redis memory, snapshot."""
    limit = raise_nofile()
    per_gen = visitors // (servers * procs)
    if per_gen + 100 > limit:
        raise SystemExit(f"{per_gen:,} sockets per generator exceed the open-files limit {limit:,}: raise --procs")
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="fd-cluster-") as tmp,
        redis_server(Path(tmp)) as (redis_url, _redis_pid),
        postgres() as database,
    ):
        key = _account(database)
        # One loopback address per process: each (source, destination) pair has its own ~28,000 ports.
        hosts = [f"127.0.0.{2 + i}" for i in range(servers)]
        nodes = [Server(database, redis_url, Path(tmp) / f"s{i}.log", host) for i, host in enumerate(hosts)]
        gens: list[Child] = []
        try:
            before = [rss_of(s.proc.pid) for s in nodes]
            redis_before = int(_redis_info(redis_url, "memory")["used_memory"])
            t0 = time.monotonic()
            for i, node in enumerate(nodes):
                url = f"{node.ws}/ws/visitor?account={key}"
                for p in range(procs):
                    first = (i * procs + p) * per_gen
                    args = ["--role", "visitors", "--url", url, "--mode", "idle", "--first", str(first)]
                    gens.append(Child(*args, "--n", str(per_gen), "--reconnect", "0"))
            ready = [gen.read(900) for gen in gens]
            ramp = time.monotonic() - t0
            time.sleep(5)
            after = [rss_of(s.proc.pid) for s in nodes]
            redis_after = int(_redis_info(redis_url, "memory")["used_memory"])
            held = per_gen * procs
            present = _present(redis_url)
            figures.append(
                Figure(
                    f"visitors admitted over {servers} processes",
                    "",
                    [float(present)],
                    f"{held * servers:,}",
                    note=f"ramp {ramp:.0f} s, {sum(r['retries'] for r in ready):,} retries",
                )
            )
            per_socket = [(a - b) / held / 1024 for b, a in zip(before, after, strict=True)]
            figures.append(
                Figure(f"RSS per idle visitor socket ({held:,} per process)", "KiB", per_socket, "<= 16 KiB")
            )
            figures.append(
                Figure("Redis memory per present visitor", "B", [(redis_after - redis_before) / max(1, present)])
            )
            kinds: dict[str, int] = {}
            try:
                first_page, whole, count, pages = asyncio.run(_paged_snapshot(nodes[0], _token(nodes[0]), kinds))
                note = f"{count:,} visitors in {pages} pages"
            except (ConnectionClosed, TimeoutError) as exc:
                first_page = whole = float("nan")
                note = f"failed: {exc}; frames received by type: {kinds}"
            figures.append(Figure("agent snapshot: first page", "ms", [first_page * 1000], "< 1 s", note=note))
            figures.append(Figure("agent snapshot: last page", "ms", [whole * 1000], "< 5 s"))
        finally:
            for gen in gens:
                gen.close()
            for node in nodes:
                node.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", choices=["latency", "idle"])
    parser.add_argument("--rate", type=float, default=2000.0, help="page views per second offered")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visitors", type=int, default=0, help="visitor sockets (latency: 400, idle: 10,000)")
    parser.add_argument("--procs", type=int, default=2, help="idle: generator processes per server")
    parser.add_argument("--servers", type=int, default=2, help="idle: server processes")
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()
    if args.bench == "latency":
        figures = run_latency(args.rate, args.seconds, args.visitors or 400)
        title = f"cluster: delta latency at {args.rate:g} deltas/s (loopback, two processes on Redis)"
    else:
        figures = run_idle(args.visitors or 10_000, args.procs, args.servers)
        title = f"cluster: idle visitor sockets on {args.servers} processes with Redis"
    report(title, figures)
    if args.json:
        print(json.dumps({"title": title, "figures": [{"name": f.name.strip(), "unit": f.unit, "values": f.samples}
                                                       for f in figures]}))  # fmt: skip


if __name__ == "__main__":
    main()
