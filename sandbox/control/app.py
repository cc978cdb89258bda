"""The control plane under /_sandbox: request log, faults, state, seeding, report numbers."""

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from expbridge.sandbox.app_keys import CONVERT, FAULTS, IDEMPOTENCY, QONVERSION, REQUEST_LOG
from expbridge.sandbox.control.models import ConvertReportNumbers, ReportNumbers
from expbridge.sandbox.control.seed import SeedError, seed_convert, seed_qonversion
from expbridge.sandbox.errors import ApiError, BodyError, field_errors, parse_json_object
from expbridge.sandbox.faults import FaultSpec
from expbridge.sandbox.provider_middlewares import error_middleware
from expbridge.sandbox.stats import Counts


def problem(status: int, message: str, details: list[tuple[str, str]] | None = None) -> ApiError:
    body: dict[str, Any] = {"error": message}
    if details:
        body["details"] = [{"field": f, "message": m} for f, m in details]
    return ApiError(status, body)


def from_http(exc: web.HTTPException) -> ApiError:
    return problem(exc.status, exc.reason)


def internal() -> ApiError:
    return problem(500, "internal error")


async def body_of(request: web.Request) -> dict[str, Any]:
    try:
        return parse_json_object(await request.read(), allow_empty=False)
    except BodyError as exc:
        raise problem(400, str(exc)) from exc


async def list_requests(request: web.Request) -> web.Response:
    records = request.config_dict[REQUEST_LOG].select(
        request.query.get("provider"), request.query.get("path_prefix")
    )
    return web.json_response([r.to_json() for r in records])


async def clear_requests(request: web.Request) -> web.Response:
    request.config_dict[REQUEST_LOG].clear()
    return web.Response(status=204)


async def add_fault(request: web.Request) -> web.Response:
    try:
        spec = FaultSpec.model_validate(await body_of(request))
    except ValidationError as exc:
        raise problem(422, "invalid fault rule", field_errors(exc.errors())) from exc
    rule = request.config_dict[FAULTS].add(spec)
    return web.json_response({"id": rule.id}, status=201)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([r.to_json() for r in request.config_dict[FAULTS].rules])


async def clear_faults(request: web.Request) -> web.Response:
    request.config_dict[FAULTS].clear()
    return web.Response(status=204)


async def remove_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["rule_id"]
    if not rule_id.isdigit() or not request.config_dict[FAULTS].remove(int(rule_id)):
        raise problem(404, f"no fault rule {rule_id}")
    return web.Response(status=204)


def snapshot(request: web.Request) -> dict[str, Any]:
    return {
        "qonversion": request.config_dict[QONVERSION].snapshot(),
        "convert": request.config_dict[CONVERT].snapshot(),
    }


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(snapshot(request))


async def seed(request: web.Request) -> web.Response:
    data = await body_of(request)
    try:
        for name in data:
            if name not in ("qonversion", "convert") or not isinstance(data[name], dict):
                raise SeedError(f"unknown or malformed section {name!r}")
        seed_qonversion(request.config_dict[QONVERSION], data.get("qonversion", {}))
        seed_convert(request.config_dict[CONVERT], data.get("convert", {}))
    except SeedError as exc:
        raise problem(400, str(exc)) from exc
    return web.json_response(snapshot(request))


def _set_convert_numbers(request: web.Request, body: ConvertReportNumbers) -> None:
    state = request.config_dict[CONVERT]
    experience = state.experiences.get(body.experience_id)
    if experience is None or experience["project_id"] != body.project_id:
        raise problem(404, f"no experience {body.experience_id} in project {body.project_id}")
    goal = state.goals.get(body.goal_id or "")
    if body.goal_id is not None and (goal is None or goal["project_id"] != body.project_id):
        raise problem(404, f"no goal {body.goal_id} in project {body.project_id}")
    known = {str(v["id"]) for v in experience["variations"]}
    unknown = sorted(set(body.variations) - known)
    if unknown:
        raise problem(422, f"variations not in the experience: {unknown}")
    numbers = state.report_numbers.setdefault((experience["id"], body.goal_id), {})
    for vid, n in body.variations.items():
        numbers[vid] = Counts(n.visitors, n.conversions)


async def set_report_numbers(request: web.Request) -> web.Response:
    try:
        body = ReportNumbers.validate_python(await body_of(request))
    except ValidationError as exc:
        raise problem(422, "invalid report numbers", field_errors(exc.errors())) from exc
    if isinstance(body, ConvertReportNumbers):
        _set_convert_numbers(request, body)
        return web.Response(status=204)
    state = request.config_dict[QONVERSION]
    experiment = state.find_experiment(body.experiment_id)
    if experiment is None:
        raise problem(404, f"no experiment {body.experiment_id}")
    known = {g["id"] for g in state.groups_of(experiment["id"])}
    unknown = sorted(set(body.groups) - known)
    if unknown:
        raise problem(422, f"groups not in the experiment: {unknown}")
    numbers = state.report_numbers.setdefault(experiment["id"], {})
    for gid, n in body.groups.items():
        numbers[gid] = Counts(n.users, n.conversions)
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    request.config_dict[QONVERSION].clear()
    request.config_dict[CONVERT].clear()
    request.config_dict[FAULTS].clear()
    request.config_dict[REQUEST_LOG].clear()
    request.config_dict[IDEMPOTENCY].clear()
    return web.Response(status=204)


def create_control_app() -> web.Application:
    app = web.Application(middlewares=[error_middleware(from_http, internal)])
    app.router.add_get("/requests", list_requests)
    app.router.add_delete("/requests", clear_requests)
    app.router.add_post("/faults", add_fault)
    app.router.add_get("/faults", list_faults)
    app.router.add_delete("/faults", clear_faults)
    app.router.add_delete("/faults/{rule_id}", remove_fault)
    app.router.add_get("/state", get_state)
    app.router.add_post("/seed", seed)
    app.router.add_post("/reports", set_report_numbers)
    app.router.add_post("/reset", reset)
    return app
