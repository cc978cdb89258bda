"""What each route of the ingress is, for the OpenAPI document: one entry per method and path,
grouped by who calls the route.

Add an entry with every new route: the document lists every registered route, and a test fails
when one has no entry here.
"""

from __future__ import annotations

from expbridge.service.openapi.paths import admin, chatops, operations, producers
from expbridge.service.openapi.route_doc import RouteDoc

ROUTE_DOCS: tuple[RouteDoc, ...] = (
    *producers.ROUTE_DOCS,
    *admin.ROUTE_DOCS,
    *chatops.ROUTE_DOCS,
    *operations.ROUTE_DOCS,
)
