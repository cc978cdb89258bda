"""Qonversion REST API v4 client (providers.md: experiments)."""

from __future__ import annotations

from typing import Any

import aiohttp

from workers.providers.http import Outcome, UpstreamHttp, UpstreamObserver
from workers.providers.qonversion_models import Experiment

PROVIDER = "qonversion"


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
            "GET", f"/experiments/{experiment_id}", operation="get_experiment"
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def update_experiment(
        self, experiment_id: str, changes: dict[str, Any], idempotency_key: str
    ) -> Outcome[Experiment]:
        response = await self.http.request(
            "PATCH",
            f"/experiments/{experiment_id}",
            json_body=changes,
            idempotency_key=idempotency_key,
            operation="update_experiment",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))

    async def set_status(
        self, experiment_id: str, status: str, idempotency_key: str
    ) -> Outcome[Experiment]:
        response = await self.http.request(
            "POST",
            f"/experiments/{experiment_id}/status",
            json_body={"status": status},
            idempotency_key=idempotency_key,
            operation="set_status",
        )
        return Outcome(response.status, Experiment.model_validate(response.data))
