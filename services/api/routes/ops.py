"""Operations endpoints: liveness, readiness naming each dependency, Prometheus metrics."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from greenplat.api.deps import Conn, PlatformDep, SettingsDep
from greenplat.api.health import run_checks
from greenplat.api.openapi import errors
from greenplat.core import outbox
from greenplat.core.db import Connection
from greenplat.core.errors import Forbidden
from greenplat.core.metrics import process_metrics
from greenplat.platform import Platform

router = APIRouter(tags=["ops"])


_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def is_operator(request: Request, settings: SettingsDep) -> bool:
    """Whether the caller may read operations details: with GREENPLAT_METRICS_TOKEN set, the
    caller sends it as a bearer token; without one, only this host (loopback) may."""
    if settings.metrics_token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {settings.metrics_token}".encode())
    return request.client is not None and request.client.host in _LOOPBACK


Operator = Annotated[bool, Depends(is_operator)]


@router.get("/healthz", summary="存活 / Liveness: the process answers (public)")
def healthz() -> dict:
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="就绪 / Readiness: database, search backend and broker all answer (public)",
    description="Anyone gets the status and the names of failing components; the details of"
    " each check (versions, addresses, hints) only the operator (see /metrics).",
    responses={503: {"description": "A dependency is down; `failing` names it"}},
)
def readyz(platform: PlatformDep, operator: Operator) -> JSONResponse:
    checks = run_checks(platform)
    failing = [check.name for check in checks if not check.ok]
    body: dict = {"status": "unavailable" if failing else "ready", "failing": failing}
    if operator:
        body["checks"] = {check.name: check.as_dict() for check in checks}
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get(
    "/metrics",
    summary="Prometheus metrics (operator only)",
    description="Needs `Authorization: Bearer <GREENPLAT_METRICS_TOKEN>`; without that setting,"
    " only requests from this host (loopback) are served.",
    response_class=Response,
    responses=errors(403),
)
def metrics(platform: PlatformDep, conn: Conn, operator: Operator) -> Response:
    if not operator:
        raise Forbidden(
            "指标仅供运维读取：请带上 GREENPLAT_METRICS_TOKEN 或在本机访问"
            " / metrics are for operators: send GREENPLAT_METRICS_TOKEN or ask from this host"
        )
    scraped = CollectorRegistry(auto_describe=False)
    scraped.register(PlatformCollector(platform, conn))
    body = generate_latest(process_metrics()) + generate_latest(scraped)
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
