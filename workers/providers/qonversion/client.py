"""Qonversion REST API v4 client (providers.md: experiments)."""

from __future__ import annotations

from typing import Any

import aiohttp

from expbridge.workers.providers.http import (
    Outcome,
    UpstreamHttp,
    UpstreamObserver,
    path_segment,
)
from expbridge.workers.providers.qonversion.responses import (
    Experiment,
    ExperimentList,
    ExperimentUser,
    Group,
    GroupList,
)
from expbridge.workers.providers.qonversion.summary import FILTER_PARAM, normalise_summary
from expbridge.workers.providers.reports import QonversionReport

PROVIDER = "qonversion"
# [inferred] The list's page size limit is not published; 100 is the usual cursor-API cap.
LIST_LIMIT = 100
# A lookup by alias_id reads at most this many pages before it gives up looking.
MAX_LOOKUP_PAGES = 50


def parse_qonversion_error(parsed: Any, text: str) -> tuple[str | None, str]:
    """`{"error": {"type", "code", "message", "details": [{field, message}]}}`."""
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        return None, text[:200] or "no error body"
    message = str(error.get("message") or error.get("code") or "upstream error")
    details = error.get("details")
    if isinstance(details, list) and details:
        fields = "; ".join(
            f"{d.get('field')}: {d.get('message')}" for d in details if isinstance(d, dict)
        )
        message = f"{message} ({fields})"
    code = error.get("code")
    return (str(code) if code is not None else None), message


class QonversionClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        secret_key: str,
        timeout_s: float,
        observer: UpstreamObserver | None = None,
    ) -> None:
        self.http = UpstreamHttp(
            session,
            PROVIDER,
            base_url,
            timeout_s=timeout_s,
            parse_error=parse_qonversion_error,
            headers={"Authorization": f"Bearer {secret_key}"},
            observer=observer,
        )

    async def get_experiment(self, experiment_id: str) -> Outcome[Experiment]:
        response = await self.http.request(
            "GET",
            f"/experiments/{path_segment(experiment_id)}",
            operation="get_experiment",
            template="/experiments/{experiment_id}",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def update_experiment(
        self, experiment_id: str, changes: dict[str, Any], idempotency_key: str
    ) -> Outcome[Experiment]:
        response = await self.http.request(
            "PATCH",
            f"/experiments/{path_segment(experiment_id)}",
            json_body=changes,
            idempotency_key=idempotency_key,
            operation="update_experiment",
            template="/experiments/{experiment_id}",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def set_status(
        self, experiment_id: str, status: str, idempotency_key: str
    ) -> Outcome[Experiment]:
        response = await self.http.request(
            "POST",
            f"/experiments/{path_segment(experiment_id)}/status",
            json_body={"status": status},
            idempotency_key=idempotency_key,
            operation="set_status",
            template="/experiments/{experiment_id}/status",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def list_experiments(
        self, limit: int = LIST_LIMIT, starting_after: str | None = None
    ) -> Outcome[ExperimentList]:
        params = [("limit", str(limit))]
        if starting_after is not None:
            params.append(("starting_after", starting_after))
        response = await self.http.request(
            "GET",
            "/experiments",
            params=params,
            operation="list_experiments",
            template="/experiments",
        )
        return Outcome(response.status, ExperimentList.model_validate(response.data))

    async def find_by_alias(self, alias_id: str) -> Experiment | None:
        """Walk the list's cursor pages for the experiment with this alias_id."""
        cursor: str | None = None
        for _ in range(MAX_LOOKUP_PAGES):
            page = (await self.list_experiments(starting_after=cursor)).value
            found = next((e for e in page.data if e.alias_id == alias_id), None)
            if found is not None or not page.has_more or not page.data:
                return found
            cursor = page.data[-1].id
        return None

    async def create_experiment(
        self, body: dict[str, Any], idempotency_key: str
    ) -> Outcome[Experiment]:
        response = await self.http.request(
            "POST",
            "/experiments",
            json_body=body,
            idempotency_key=idempotency_key,
            operation="create_experiment",
            template="/experiments",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def delete_experiment(self, experiment_id: str, idempotency_key: str) -> Outcome[None]:
        response = await self.http.request(
            "DELETE",
            f"/experiments/{path_segment(experiment_id)}",
            idempotency_key=idempotency_key,
            operation="delete_experiment",
            template="/experiments/{experiment_id}",
        )
        return Outcome(response.status, None)

    async def list_groups(self, experiment_id: str) -> Outcome[GroupList]:
        response = await self.http.request(
            "GET",
            f"/experiments/{path_segment(experiment_id)}/groups",
            operation="list_groups",
            template="/experiments/{experiment_id}/groups",
        )
        return Outcome(response.status, GroupList.model_validate(response.data))

    async def create_group(
        self, experiment_id: str, body: dict[str, Any], idempotency_key: str
    ) -> Outcome[Group]:
        response = await self.http.request(
            "POST",
            f"/experiments/{path_segment(experiment_id)}/groups",
            json_body=body,
            idempotency_key=idempotency_key,
            operation="create_group",
            template="/experiments/{experiment_id}/groups",
        )
        return Outcome(response.status, Group.model_validate(response.data))

    async def attach_user(
        self, experiment_id: str, user_id: str, group_id: str, idempotency_key: str
    ) -> Outcome[ExperimentUser]:
        response = await self.http.request(
            "POST",
            f"/experiments/{path_segment(experiment_id)}/users/{path_segment(user_id)}",
            json_body={"group_id": group_id},
            idempotency_key=idempotency_key,
            operation="attach_user",
            template="/experiments/{experiment_id}/users/{user_id}",
        )
        return Outcome(response.status, ExperimentUser.model_validate(response.data or {}))

    async def detach_user(
        self, experiment_id: str, user_id: str, idempotency_key: str
    ) -> Outcome[None]:
        response = await self.http.request(
            "DELETE",
            f"/experiments/{path_segment(experiment_id)}/users/{path_segment(user_id)}",
            idempotency_key=idempotency_key,
            operation="detach_user",
            template="/experiments/{experiment_id}/users/{user_id}",
        )
        return Outcome(response.status, None)

    async def fetch_summary(self, experiment_id: str) -> Outcome[QonversionReport]:
        response = await self.http.request(
            "GET",
            "/experiments/summary",
            params=[(FILTER_PARAM, experiment_id)],
            operation="fetch_summary",
            template="/experiments/summary",
        )
        return Outcome(response.status, normalise_summary(response.data, experiment_id))
