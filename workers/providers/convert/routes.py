"""The Convert API route tables, as data (providers.md). Correct a route here, not in logic.

Evidence of each route: `doc` published by Convert (v2), `observed` in public client code,
`inferred` our reading of the pattern — not confirmed, the first thing to check when a
route answers 404 or 405. Placeholders: {account_id}, {pid} (project), {oid} (the object),
{vid} (variation), {gid} (goal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from expbridge.events.convert.kinds import SCOPED_KINDS as SCOPED_RESOURCE_KINDS

Evidence = Literal["doc", "observed", "inferred"]
ApiVersion = Literal["v1", "v2"]
# Project-scoped resources, named as in the paths.
SCOPED_KINDS = tuple(kind.plural for kind in SCOPED_RESOURCE_KINDS)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    evidence: Evidence


@dataclass(frozen=True)
class ConvertApi:
    version: ApiVersion
    routes: Mapping[str, Route]
    # v2 wraps lists in {"data": [...], "extra": {"pagination": ...}}; v1 answers a bare array.
    enveloped_lists: bool
    max_per_page: int
    # v2 has no variation-add route: a new variation rides on an experience update.
    variations_via_experience_update: bool
    # Body fields of a report's time range.
    report_range_fields: tuple[str, str]
    # v2 narrows a report to a goal with the body's `goals`; v1 names the goal in the path.
    report_goals_in_body: bool

    def route(self, operation: str) -> Route:
        return self.routes[operation]


def _table(rows: list[tuple[str, str, str, Evidence]]) -> Mapping[str, Route]:
    return MappingProxyType({op: Route(method, path, ev) for op, method, path, ev in rows})


INF: Evidence = "inferred"
OBS: Evidence = "observed"
DOC: Evidence = "doc"

V1_ROUTES = _table(
    [
        # Observed as GET /projects/; the seed's lists take a JSON body, so POST.
        ("projects.list", "POST", "/projects", OBS),
        ("projects.get", "GET", "/projects/get/{pid}", INF),
        ("projects.create", "POST", "/projects/add", INF),
        ("projects.update", "POST", "/projects/update/{pid}", INF),
        ("projects.delete", "DELETE", "/projects/delete/{pid}", INF),
        ("experiences.list", "POST", "/experiences/{pid}", INF),
        ("experiences.get", "GET", "/experiences/get/{pid}/{oid}", INF),
        ("experiences.create", "POST", "/experiences/add/{pid}", INF),
        ("experiences.update", "POST", "/experiences/update/{pid}/{oid}", INF),
        ("experiences.delete", "DELETE", "/experiences/delete/{pid}/{oid}", INF),
        ("variations.add", "POST", "/variations/add/{pid}/{oid}", INF),
        ("variations.delete", "DELETE", "/variations/delete/{pid}/{oid}/{vid}", INF),
        ("goals.list", "POST", "/goals/{pid}", OBS),
        ("goals.get", "GET", "/goals/get/{pid}/{oid}", INF),
        ("goals.create", "POST", "/goals/add/{pid}", INF),
        ("goals.update", "POST", "/goals/update/{pid}/{oid}", INF),
        ("goals.delete", "DELETE", "/goals/delete/{pid}/{oid}", INF),
        ("audiences.list", "POST", "/audiences/{pid}", OBS),
        ("audiences.get", "GET", "/audiences/get/{pid}/{oid}", OBS),
        ("audiences.create", "POST", "/audiences/add/{pid}", OBS),
        ("audiences.update", "POST", "/audiences/update/{pid}/{oid}", INF),
        ("audiences.delete", "DELETE", "/audiences/delete/{pid}/{oid}", INF),
        ("hypotheses.list", "POST", "/hypotheses/{pid}", INF),
        ("hypotheses.get", "GET", "/hypotheses/get/{pid}/{oid}", INF),
        ("hypotheses.create", "POST", "/hypotheses/add/{pid}", INF),
        ("hypotheses.update", "POST", "/hypotheses/update/{pid}/{oid}", INF),
        ("hypotheses.delete", "DELETE", "/hypotheses/delete/{pid}/{oid}", INF),
        ("hypotheses.status", "POST", "/hypotheses/update-status/{pid}/{oid}", INF),
        ("reports.goal", "POST", "/reports/get/{pid}/{oid}/{gid}", INF),
        ("reports.full", "POST", "/reports/get/{pid}/{oid}", INF),
    ]
)

_P = "/accounts/{account_id}/projects"
_X = _P + "/{pid}/experiences/{oid}"


def _v2_scoped(kind: str) -> list[tuple[str, str, str, Evidence]]:
    base = f"{_P}/{{pid}}/{kind}"
    return [
        (f"{kind}.list", "POST", base, DOC),
        (f"{kind}.get", "GET", f"{base}/{{oid}}", DOC),
        (f"{kind}.create", "POST", f"{base}/add", DOC),
        (f"{kind}.update", "POST", f"{base}/{{oid}}/update", DOC),
        (f"{kind}.delete", "DELETE", f"{base}/{{oid}}/delete", DOC),
    ]


V2_ROUTES = _table(
    [
        ("projects.list", "POST", _P, DOC),
        ("projects.get", "GET", _P + "/{pid}", DOC),
        ("projects.create", "POST", _P + "/add", DOC),
        ("projects.update", "POST", _P + "/{pid}/update", DOC),
        ("projects.delete", "DELETE", _P + "/{pid}/delete", DOC),
        *(row for kind in SCOPED_KINDS for row in _v2_scoped(kind)),
        # Variations live inside the experience: a new one is sent in an experience update.
        ("variations.add", "POST", _X + "/update", INF),
        ("variations.update", "PUT", _X + "/variations/{vid}/update", DOC),
        ("variations.delete", "DELETE", _X + "/variations/{vid}/delete", DOC),
        ("hypotheses.status", "POST", _P + "/{pid}/hypotheses/{oid}/update-status", DOC),
        # One route for both: the body's `goals` narrows the report to the named goal.
        ("reports.goal", "POST", _X + "/aggregated_report", DOC),
        ("reports.full", "POST", _X + "/aggregated_report", DOC),
    ]
)

V1 = ConvertApi(
    version="v1",
    routes=V1_ROUTES,
    enveloped_lists=False,
    max_per_page=50,
    variations_via_experience_update=False,
    report_range_fields=("start_timestamp", "end_timestamp"),
    report_goals_in_body=False,
)
V2 = ConvertApi(
    version="v2",
    routes=V2_ROUTES,
    enveloped_lists=True,
    max_per_page=50,
    variations_via_experience_update=True,
    # [inferred] v2 does not publish the range fields of aggregated_report.
    report_range_fields=("start_time", "end_time"),
    report_goals_in_body=True,
)
APIS: Mapping[str, ConvertApi] = MappingProxyType({"v1": V1, "v2": V2})
