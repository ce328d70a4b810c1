"""Operations: ``/healthz`` for load balancers and ``/metrics`` for Prometheus.

``/metrics`` writes the fetch counters and histogram of ``newswire.metrics``: this process's
(the refresher records them when the scheduler runs here, under ``newswire run``) plus every
``newswire worker``'s, which each worker writes to the database (``Store.shared_metrics``), so
any web node describes the whole deployment. The gauges are read from the store at scrape time:
articles stored, sources by health, workers reporting.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from newswire import __version__, metrics
from newswire.errors import NewswireError
from newswire.web.api import source_health
from newswire.web.state import store_of

log = logging.getLogger(__name__)

HEALTH_STATES = ("ok", "failing", "disabled", "new")

router = APIRouter(tags=["operations"])


class HealthOut(BaseModel):
    status: Literal["ok", "error"]
    database: Literal["ok", "unavailable"]
    articles: int | None = None
    message: str | None = None


@router.get("/healthz", response_model=HealthOut, response_model_exclude_none=True, summary="Liveness and database check",
            responses={503: {"model": HealthOut, "description": "The database cannot be read"}})
def healthz(request: Request) -> HealthOut | JSONResponse:
    """200 with the article count when the database answers, 503 when it cannot be read."""
    try:
        count = store_of(request).article_count()
    except (NewswireError, OSError):
        log.exception("health check: database unreadable")
        body = HealthOut(status="error", database="unavailable", message="the database cannot be read")
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return HealthOut(status="ok", database="ok", articles=count)


class MetricsResponse(Response):
    media_type = metrics.CONTENT_TYPE


@router.get("/metrics", response_class=MetricsResponse, summary="Prometheus metrics",
            responses={200: {"description": "Prometheus text exposition format 0.0.4",
                             "content": {"text/plain": {"schema": {"type": "string"}}}}})
def metrics_endpoint(request: Request) -> Response:
    store = store_of(request)
    # This process's own counters are live in REGISTRY; its row (``run --workers``) would count them twice.
    shared, reporting = store.shared_metrics(datetime.now(timezone.utc), excluding=metrics.process_name())
    return MetricsResponse((metrics.REGISTRY.snapshot() + shared).render() + workers_gauge(reporting)
                           + store_gauges(store.article_count(), store.list_sources()) + build_info())


def workers_gauge(reporting: int) -> str:
    return metrics.family("newswire_workers_reporting", "gauge",
                          "newswire worker processes that wrote their counters in the last two minutes.",
                          [metrics.sample("newswire_workers_reporting", {}, reporting)])


def store_gauges(article_count: int, sources: list) -> str:
    by_health = Counter(source_health(s) for s in sources)
    return (metrics.family("newswire_articles_stored", "gauge", "Articles in the database.",
                           [metrics.sample("newswire_articles_stored", {}, article_count)])
            + metrics.family("newswire_sources", "gauge", "Followed sources by health (ok, failing, disabled, new).",
                             [metrics.sample("newswire_sources", {"health": h}, by_health.get(h, 0))
                              for h in HEALTH_STATES]))


def build_info() -> str:
    return metrics.family("newswire_build_info", "gauge", "The running Newswire version; always 1.",
                          [metrics.sample("newswire_build_info", {"version": __version__}, 1)])
