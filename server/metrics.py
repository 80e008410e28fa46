"""Prometheus metrics of one server process (served at ``/metrics``).

The counters live in prometheus-client's default registry; socket gauges read the hub when scraped.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

DELTAS = Counter("frontdesk_deltas_total", "Deltas appended to an account's log by this process")
DELIVERED = Counter("frontdesk_deltas_delivered_total", "Log entries this process received for its agents")
DELIVERY_LATENCY = Histogram(
    "frontdesk_delta_delivery_seconds",
    "From a delta's publish in Redis to its delivery to this process's agent sockets",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0),
)
LOG_GAPS = Counter("frontdesk_log_gaps_filled_total", "Gaps in an account's live deltas filled from the stream")
LOG_RESETS = Counter("frontdesk_log_resets_total", "Accounts whose delta log lost continuity (Redis lost it)")
REDIS_ROUND_TRIPS = Counter("frontdesk_redis_round_trips_total", "Commands and scripts sent to Redis", ["op"])
REDIS_LATENCY = Histogram(
    "frontdesk_redis_seconds",
    "Time of one Redis round trip",
    buckets=(0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0),
)
COMMITS_REFUSED = Counter(
    "frontdesk_commits_refused_total",
    "Optimistic visitor writes refused because the record moved (the change was applied again)",
)
AGENT_RESYNCS = Counter(
    "frontdesk_agent_resyncs_total",
    "Agents whose queue of deltas overflowed and who were sent a fresh snapshot instead",
)
CONTROL = Counter("frontdesk_control_messages_total", "Control messages received from the cluster")
SOCKETS = Gauge("frontdesk_sockets", "Open websockets of this process", ["kind"])
CONTENT_TYPE = CONTENT_TYPE_LATEST


def watch_sockets(agents: Callable[[], float], visitors: Callable[[], float]) -> None:
    """Read the socket counts from the hub whenever the metrics are scraped."""
    SOCKETS.labels("agent").set_function(agents)
    SOCKETS.labels("visitor").set_function(visitors)


def render() -> bytes:
    """The metrics in Prometheus' text format."""
    return generate_latest(REGISTRY)
