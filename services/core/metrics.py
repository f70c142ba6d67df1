"""Prometheus metrics every process updates; the API serves them at /metrics.

Counters and histograms live in the process that observes them (prometheus_client's default
registry). `greenplat serve --workers N` answers one port from N processes: it sets
PROMETHEUS_MULTIPROC_DIR before they start, they keep their values in files there, and a
scrape answered by any of them adds up all of them (`process_metrics`). Values that describe
the whole platform (outbox lag, index sizes) are read from the database when scraped, so every
API replica reports the same truth.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def process_metrics() -> CollectorRegistry:
    """This process's metrics, or those of every worker of the server it belongs to."""
    if not os.environ.get(MULTIPROCESS_DIR):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


# Latency buckets from a fast lookup to a slow cold-model match.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUEST_SECONDS = Histogram(
    "greenplat_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    buckets=_BUCKETS,
)
MATCH_SECONDS = Histogram(
    "greenplat_match_duration_seconds",
    "Time to answer one match or search request (the /v1/matches and /v1/search routes).",
    buckets=_BUCKETS,
)
TASK_FAILURES = Counter(
    "greenplat_task_failures",
    "Background tasks that raised, by task name (retries included).",
    ["task"],
)
TASK_SECONDS = Histogram(
    "greenplat_task_duration_seconds",
    "Run time of background tasks in this process, by task name.",
    ["task"],
    buckets=_BUCKETS,
)
