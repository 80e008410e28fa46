"""Cluster fixtures: a redis-server per module, a PostgreSQL cluster per session, three servers per test."""

from tests.fixtures.cluster import cluster
from tests.fixtures.postgres import postgres_cluster
from tests.fixtures.redis import redis_server

__all__ = ["cluster", "postgres_cluster", "redis_server"]
