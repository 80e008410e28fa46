"""Several server processes on Redis: delta latency across processes beside one process, idle socket memory.

Starts its own redis-server and PostgreSQL (Debian's programs), real ``frontdesk-server serve``
processes, and reuses bench/server.py's visitor and agent load generators (separate processes;
latency on ``time.monotonic()``, one clock for every process on Linux).

    .venv/bin/python -m bench.cluster latency [--rate 2000] [--seconds 10] [--visitors 400]
    .venv/bin/python -m bench.cluster idle [--visitors 10000] [--procs 2]

``latency`` runs three set-ups in one run at the same offered rate: one process without Redis;
visitors and agent on process A with Redis; visitors on A and the agent on B (visitor -> A ->
Redis -> B -> agent). ``idle`` holds idle visitor sockets spread over two processes and reports
RSS per socket and Redis memory per visitor.
"""

from __future__ import annotations

import argparse
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
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "pg.log"), "-w", "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        yield f"postgresql://frontdesk@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "stop", "-m", "fast"]), check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


class Server:
    """One ``frontdesk-server serve`` process."""

    def __init__(self, database: str, redis: str | None, log: Path) -> None:
        self.port = _free_port()
        command = [*CLI, "serve", "--port", str(self.port), "--database", database, "--log-level", "warning"]
        if redis:
            command += ["--redis", redis]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.port}"
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
                cpu0, trips0 = _redis_cpu(redis_url), _round_trips(a)
                lat, sent, result = _run_load(b, a, key, token, rate, seconds, visitors)
                cpu, trips = _redis_cpu(redis_url) - cpu0, _round_trips(a)
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
            finally:
                a.stop()
                b.stop()
    return figures


def run_idle(visitors: int, procs: int) -> list[Figure]:
    """Idle visitor sockets over two processes on Redis: RSS per socket, Redis memory per visitor."""
    raise_nofile()
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="fd-cluster-") as tmp,
        redis_server(Path(tmp)) as (redis_url, _redis_pid),
        postgres() as database,
    ):
        key = _account(database)
        servers = [Server(database, redis_url, Path(tmp) / f"s{i}.log") for i in range(2)]
        gens: list[Child] = []
        try:
            before = [rss_of(s.proc.pid) for s in servers]
            redis_before = int(_redis_info(redis_url, "memory")["used_memory"])
            per_server = visitors // len(servers)
            for i, server in enumerate(servers):
                url = f"{server.ws}/ws/visitor?account={key}"
                share = per_server // procs
                for p in range(procs):
                    first = i * per_server + p * share
                    gens.append(
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
                            str(share),
                            "--reconnect",
                            "0",
                        )
                    )
            for gen in gens:
                gen.read(900)
            time.sleep(5)
            after = [rss_of(s.proc.pid) for s in servers]
            redis_after = int(_redis_info(redis_url, "memory")["used_memory"])
            held = per_server // procs * procs
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                figures.append(
                    Figure(
                        f"process {i + 1}: RSS per idle visitor socket ({held:,} sockets)",
                        "KiB",
                        [(a - b) / held / 1024],
                        "<= 16 KiB",
                    )
                )
            figures.append(
                Figure("Redis memory per present visitor", "B", [(redis_after - redis_before) / (held * len(servers))])
            )
        finally:
            for gen in gens:
                gen.close()
            for server in servers:
                server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", choices=["latency", "idle"])
    parser.add_argument("--rate", type=float, default=2000.0, help="page views per second offered")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--visitors", type=int, default=0, help="visitor sockets (latency: 400, idle: 10,000)")
    parser.add_argument("--procs", type=int, default=2, help="idle: generator processes per server")
    args = parser.parse_args()
    if args.bench == "latency":
        figures = run_latency(args.rate, args.seconds, args.visitors or 400)
        title = f"cluster: delta latency at {args.rate:g} deltas/s (loopback, two processes on Redis)"
    else:
        figures = run_idle(args.visitors or 10_000, args.procs)
        title = "cluster: idle visitor sockets on two processes with Redis"
    report(title, figures)


if __name__ == "__main__":
    main()
