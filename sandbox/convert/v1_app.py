"""The simulated Convert API v1, mounted under /convert/api/v1.

Routes follow the table in providers.md; all but the list calls observed in client code
(projects, goals, audiences and audience get/create) are [inferred] from that pattern.
"""

from aiohttp import web

from expbridge.sandbox.convert.handlers import (
    V1,
    create_handler,
    delete_handler,
    get_handler,
    hypothesis_status,
    list_handler,
    update_handler,
)
from expbridge.sandbox.convert.middlewares import convert_middlewares
from expbridge.sandbox.convert.reports import v1_report
from expbridge.sandbox.convert.variation_handlers import v1_add_variation, v1_delete_variation

SCOPED_KINDS = ("experiences", "goals", "hypotheses", "audiences")


def create_convert_v1_app() -> web.Application:
    app = web.Application(middlewares=convert_middlewares())
    r = app.router
    r.add_post("/projects", list_handler("projects", V1))
    # Observed in public client code as a GET with a trailing slash.
    r.add_get("/projects/", list_handler("projects", V1))
    r.add_get("/projects/get/{pid}", get_handler("projects"))
    r.add_post("/projects/add", create_handler("projects", V1))
    r.add_post("/projects/update/{pid}", update_handler("projects", V1))
    r.add_delete("/projects/delete/{pid}", delete_handler("projects"))
    for kind in SCOPED_KINDS:
        r.add_post(f"/{kind}/{{pid}}", list_handler(kind, V1))
        r.add_get(f"/{kind}/get/{{pid}}/{{oid}}", get_handler(kind))
        r.add_post(f"/{kind}/add/{{pid}}", create_handler(kind, V1))
        r.add_post(f"/{kind}/update/{{pid}}/{{oid}}", update_handler(kind, V1))
        r.add_delete(f"/{kind}/delete/{{pid}}/{{oid}}", delete_handler(kind))
    r.add_post("/hypotheses/update-status/{pid}/{oid}", hypothesis_status)
    r.add_post("/variations/add/{pid}/{oid}", v1_add_variation)
    r.add_delete("/variations/delete/{pid}/{oid}/{vid}", v1_delete_variation)
    r.add_post("/reports/get/{pid}/{oid}", v1_report)
    r.add_post("/reports/get/{pid}/{oid}/{gid}", v1_report)
    return app
