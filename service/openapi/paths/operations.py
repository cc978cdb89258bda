"""Routes for operators and tooling: health, metrics, this document."""

from __future__ import annotations

from expbridge.service import answers
from expbridge.service.openapi.route_doc import (
    ANONYMOUS,
    METRICS,
    Reply,
    RouteDoc,
    problems,
    text,
)

ROUTE_DOCS: tuple[RouteDoc, ...] = (
    RouteDoc(
        "GET",
        "/healthz",
        "Liveness: the process answers",
        "operations",
        replies={200: Reply("alive", answers.Health)},
    ),
    RouteDoc(
        "GET",
        "/readyz",
        "Readiness: Redis is reachable",
        "operations",
        replies={
            200: Reply("ready", answers.Readiness),
            503: Reply("Redis unreachable", answers.Readiness),
        },
    ),
    RouteDoc(
        "GET",
        "/metrics",
        "Prometheus metrics (names prefixed expbridge_)",
        "operations",
        description="Open unless EXPBRIDGE_METRICS_TOKEN is set; then that bearer token.",
        security=(METRICS, ANONYMOUS),
        replies={
            200: text("Prometheus text format", "text/plain"),
            **problems(401, s401="EXPBRIDGE_METRICS_TOKEN is set and was not sent"),
        },
    ),
    RouteDoc(
        "GET",
        "/openapi.json",
        "This document",
        "operations",
        replies={200: Reply("OpenAPI 3.1", {"type": "object"})},
    ),
    RouteDoc(
        "GET",
        "/docs",
        "This document as a page (no external resources)",
        "operations",
        replies={200: text("HTML", "text/html")},
    ),
)
