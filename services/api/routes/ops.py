"""Operations endpoints: liveness, readiness naming each dependency, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenplat.api.deps import Conn, PlatformDep
from greenplat.api.health import run_checks
from greenplat.core import outbox
from greenplat.core.db import Connection
from greenplat.platform import Platform

router = APIRouter(tags=["ops"])


@router.get("/healthz", summary="存活 / Liveness: the process answers")
def healthz() -> dict:
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="就绪 / Readiness: database, search backend and broker all answer",
    responses={503: {"description": "A dependency is down; `failing` names it"}},
)
def readyz(platform: PlatformDep) -> JSONResponse:
    checks = run_checks(platform)
    failing = [check.name for check in checks if not check.ok]
    body = {
        "status": "unavailable" if failing else "ready",
        "failing": failing,
        "checks": {check.name: check.as_dict() for check in checks},
    }
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(platform: PlatformDep, conn: Conn) -> Response:
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(PlatformCollector(platform, conn))
    body = generate_latest(REGISTRY) + generate_latest(scraped)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class PlatformCollector(Collector):
    """Platform-wide values read from the database at scrape time: outbox and index sizes."""

    def __init__(self, platform: Platform, conn: Connection) -> None:
        self.platform = platform
        self.conn = conn

    def collect(self) -> Iterator[Metric]:
        families = {
            "pending": GaugeMetricFamily(
                "greenplat_outbox_pending", "Outbox rows not yet indexed.", labels=["library"]
            ),
            "lag": GaugeMetricFamily(
                "greenplat_outbox_lag_seconds",
                "Age of the oldest outbox row not yet indexed (0 when none).",
                labels=["library"],
            ),
            "failing": GaugeMetricFamily(
                "greenplat_outbox_failing",
                "Outbox rows not yet indexed whose indexing task failed at least once.",
                labels=["library"],
            ),
        }
        for library, health in outbox.health(self.conn).items():
            families["pending"].add_metric([library], health.pending)
            families["lag"].add_metric([library], health.lag_seconds)
            families["failing"].add_metric([library], health.failing)
        yield from families.values()
        yield from self._index_sizes()

    def _index_sizes(self) -> Iterator[Metric]:
        status = self.platform.indexer.status(self.conn)
        indexed = GaugeMetricFamily(
            "greenplat_index_documents",
            "Documents in the search index, by library and backend.",
            labels=["library", "backend"],
        )
        records = GaugeMetricFamily(
            "greenplat_library_records", "Records in the database, by library.", labels=["library"]
        )
        for library, counts in status["libraries"].items():
            indexed.add_metric([library, status["backend"]], counts["indexed"])
            records.add_metric([library], counts["records"])
        given_up = GaugeMetricFamily(
            "greenplat_outbox_given_up",
            "Outbox rows whose indexing failed too often to be retried (needs a person).",
            value=status["given_up"],
        )
        yield from (indexed, records, given_up)
