"""The simulated Convert API v2, mounted under /convert/api/v2 (paths under /accounts/{id})."""

from aiohttp import web
from aiohttp.typedefs import Handler

from expbridge.sandbox.app_keys import CONFIG
from expbridge.sandbox.convert.errors import not_found
from expbridge.sandbox.convert.handlers import (
    V2,
    create_handler,
    delete_handler,
    get_handler,
    hypothesis_status,
    list_handler,
    update_handler,
)
from expbridge.sandbox.convert.middlewares import convert_middlewares
from expbridge.sandbox.convert.reports import v2_aggregated_report
from expbridge.sandbox.convert.variation_handlers import v2_delete_variation, v2_update_variation

SCOPED_KINDS = ("experiences", "goals", "hypotheses", "audiences")


@web.middleware
async def known_account(request: web.Request, handler: Handler) -> web.StreamResponse:
    account_id = request.match_info.get("account_id")
    if account_id is not None and account_id != request.config_dict[CONFIG].convert_account_id:
        raise not_found(f"Account {account_id}")
    return await handler(request)


def create_convert_v2_app() -> web.Application:
    app = web.Application(middlewares=convert_middlewares(known_account))
    r = app.router
    projects = "/accounts/{account_id}/projects"
    r.add_post(projects, list_handler("projects", V2))
    r.add_post(f"{projects}/add", create_handler("projects", V2))
    r.add_get(f"{projects}/{{pid}}", get_handler("projects"))
    r.add_post(f"{projects}/{{pid}}/update", update_handler("projects", V2))
    r.add_delete(f"{projects}/{{pid}}/delete", delete_handler("projects"))
    for kind in SCOPED_KINDS:
        base = f"{projects}/{{pid}}/{kind}"
        r.add_post(base, list_handler(kind, V2))
        r.add_post(f"{base}/add", create_handler(kind, V2))
        r.add_get(f"{base}/{{oid}}", get_handler(kind))
        r.add_post(f"{base}/{{oid}}/update", update_handler(kind, V2))
        r.add_delete(f"{base}/{{oid}}/delete", delete_handler(kind))
    one = f"{projects}/{{pid}}/experiences/{{oid}}"
    r.add_put(f"{one}/variations/{{vid}}/update", v2_update_variation)
    r.add_delete(f"{one}/variations/{{vid}}/delete", v2_delete_variation)
    r.add_post(f"{one}/aggregated_report", v2_aggregated_report)
    r.add_post(f"{projects}/{{pid}}/hypotheses/{{oid}}/update-status", hypothesis_status)
    return app
