"""Convert API client, v1 or v2: one class, the route table of the configured version.

Every request is signed (convert_signing) by UpstreamHttp's signer hook, over the exact
bytes sent, again on every attempt.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from expbridge.workers.providers.convert.errors import parse_convert_error
from expbridge.workers.providers.convert.report import normalise_convert_report
from expbridge.workers.providers.convert.responses import KINDS, ConvertObject, Experience
from expbridge.workers.providers.convert.routes import ConvertApi
from expbridge.workers.providers.convert.signing import ConvertSigner
from expbridge.workers.providers.http import (
    Outcome,
    UpstreamHttp,
    UpstreamObserver,
    UpstreamResponse,
    path_segment,
)
from expbridge.workers.providers.reports import ConvertReport

PROVIDER = "convert"
# A lookup by name reads at most this many pages before it gives up looking.
MAX_LOOKUP_PAGES = 20


class ConvertClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        api: ConvertApi,
        base_url: str,
        signer: ConvertSigner,
        *,
        account_id: str | None,
        timeout_s: float,
        observer: UpstreamObserver | None = None,
    ) -> None:
        if api.version == "v2" and not account_id:
            raise ValueError("Convert API v2 needs an account id")
        self.api = api
        self.account_id = account_id or ""
        self.http = UpstreamHttp(
            session,
            PROVIDER,
            base_url,
            timeout_s=timeout_s,
            parse_error=parse_convert_error,
            signer=signer,
            observer=observer,
        )

    def _path(self, operation: str, project_id: str = "", object_id: str = "", **more: str) -> str:
        ids = {"pid": project_id, "oid": object_id, **more}
        encoded = {name: path_segment(value) for name, value in ids.items()}
        return self.api.route(operation).path.format(
            account_id=path_segment(self.account_id), **encoded
        )

    async def _call(
        self,
        operation: str,
        *,
        project_id: str = "",
        object_id: str = "",
        body: Any = None,
        key: str | None = None,
        **more: str,
    ) -> UpstreamResponse:
        route = self.api.route(operation)
        return await self.http.request(
            route.method,
            self._path(operation, project_id, object_id, **more),
            json_body=body,
            idempotency_key=key,
            operation=operation,
            template=route.path,
        )

    @staticmethod
    def _ids(kind: str, project_id: str | None, object_id: str | None) -> dict[str, str]:
        if kind == "projects":
            return {"project_id": object_id or project_id or ""}
        return {"project_id": project_id or "", "object_id": object_id or ""}

    async def list_page(
        self, kind: str, project_id: str | None, page: int, filters: dict[str, Any] | None = None
    ) -> tuple[list[ConvertObject], bool]:
        """One page of a list, and whether more pages follow."""
        per_page = self.api.max_per_page
        body = {"page": page, "results_per_page": per_page, **(filters or {})}
        response = await self._call(f"{kind}.list", body=body, **self._ids(kind, project_id, None))
        data = response.data
        if self.api.enveloped_lists:
            items = data.get("data", []) if isinstance(data, dict) else []
            total = (data.get("extra") or {}).get("pagination", {}).get("items_count")
            more = total > page * per_page if isinstance(total, int) else len(items) == per_page
        else:
            items = data if isinstance(data, list) else []
            more = len(items) == per_page
        model = KINDS[kind].model
        return [model.model_validate(item) for item in items], more

    async def find_by_name(
        self, kind: str, project_id: str | None, name: str
    ) -> ConvertObject | None:
        spec = KINDS[kind]
        filters = {"search": name} if spec.searchable else {}
        for page in range(1, MAX_LOOKUP_PAGES + 1):
            items, more = await self.list_page(kind, project_id, page, filters)
            found = next((item for item in items if spec.name_of(item) == name), None)
            if found is not None or not more:
                return found
        return None

    async def get(
        self, kind: str, project_id: str | None, object_id: str | None = None
    ) -> Outcome[ConvertObject]:
        response = await self._call(f"{kind}.get", **self._ids(kind, project_id, object_id))
        return Outcome(response.status, KINDS[kind].model.model_validate(response.data))

    async def create(
        self, kind: str, project_id: str | None, body: dict[str, Any], key: str
    ) -> Outcome[ConvertObject]:
        response = await self._call(
            f"{kind}.create", body=body, key=key, **self._ids(kind, project_id, None)
        )
        return Outcome(response.status, KINDS[kind].model.model_validate(response.data))

    async def update(
        self,
        kind: str,
        project_id: str | None,
        object_id: str | None,
        body: dict[str, Any],
        key: str,
    ) -> Outcome[ConvertObject]:
        response = await self._call(
            f"{kind}.update", body=body, key=key, **self._ids(kind, project_id, object_id)
        )
        return Outcome(response.status, KINDS[kind].model.model_validate(response.data))

    async def delete(
        self, kind: str, project_id: str | None, object_id: str | None, key: str
    ) -> Outcome[None]:
        response = await self._call(
            f"{kind}.delete", key=key, **self._ids(kind, project_id, object_id)
        )
        return Outcome(response.status, None)

    async def set_experience_status(
        self, project_id: str, experience_id: str, status: str, key: str
    ) -> Outcome[ConvertObject]:
        body = {"experience_status": status}
        return await self.update("experiences", project_id, experience_id, body, key)

    async def set_hypothesis_status(
        self, project_id: str, hypothesis_id: str, status: str, key: str
    ) -> Outcome[ConvertObject]:
        response = await self._call(
            "hypotheses.status",
            project_id=project_id,
            object_id=hypothesis_id,
            body={"status": status},
            key=key,
        )
        return Outcome(response.status, KINDS["hypotheses"].model.model_validate(response.data))

    async def add_variation(
        self, project_id: str, experience_id: str, variation: dict[str, Any], key: str
    ) -> Outcome[Experience]:
        """The experience with the new variation (v1 answers it; v2 updates the experience)."""
        body = (
            {"variations": [variation]} if self.api.variations_via_experience_update else variation
        )
        response = await self._call(
            "variations.add", project_id=project_id, object_id=experience_id, body=body, key=key
        )
        return Outcome(response.status, Experience.model_validate(response.data))

    async def delete_variation(
        self, project_id: str, experience_id: str, variation_id: str, key: str
    ) -> Outcome[Experience | None]:
        response = await self._call(
            "variations.delete",
            project_id=project_id,
            object_id=experience_id,
            key=key,
            vid=variation_id,
        )
        # v1 answers the experience (the seed), v2 nothing.
        value = Experience.model_validate(response.data) if response.data else None
        return Outcome(response.status, value)

    async def fetch_report(
        self,
        project_id: str,
        experience_id: str,
        goal_id: str | None = None,
        start: int | None = None,
        end: int | None = None,
    ) -> Outcome[ConvertReport]:
        body: dict[str, Any] = {}
        start_field, end_field = self.api.report_range_fields
        if start is not None:
            body[start_field] = start
        if end is not None:
            body[end_field] = end
        more: dict[str, str] = {}
        if goal_id is not None:
            more["gid"] = goal_id
            if self.api.report_goals_in_body:
                body["goals"] = [goal_id]
        response = await self._call(
            "reports.goal" if goal_id is not None else "reports.full",
            project_id=project_id,
            object_id=experience_id,
            body=body,
            **more,
        )
        report = normalise_convert_report(response.data, experience_id, goal_id)
        return Outcome(response.status, report)
