"""`expbridge send`: post one event to the ingress and print what happened."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import click

from expbridge.events.record import TERMINAL
from expbridge.events.target_refs import target_fields


def parse_target(value: str) -> dict[str, Any]:
    """An ordering-key form (`qonversion:EXP`, `convert:PID/goal:ID`, …) or an alias name."""
    try:
        fields = target_fields(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--target") from None
    return fields if fields is not None else {"alias": value}


def _token(token: str | None) -> str:
    if token:
        return token
    local = Path(os.environ.get("EXPBRIDGE_DATA_DIR", ".expbridge")) / "local-token"
    if local.exists():
        return local.read_text().strip()
    raise click.ClickException(
        "no token: pass --token (or EXPBRIDGE_TOKEN), or use `expbridge run`"
    )


async def _send(url: str, token: str, event: dict[str, Any], wait_s: float | None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(f"{url}/v1/events", json=event) as response:
            body = await response.json(content_type=None)
            click.echo(json.dumps(body, indent=2))
            if response.status != 202 or wait_s is None:
                return 0 if response.status == 202 else 1
        deadline = time.monotonic() + wait_s
        record: dict[str, Any] = {}
        while time.monotonic() < deadline:
            async with session.get(f"{url}/v1/events/{body['id']}") as response:
                record = await response.json(content_type=None)
            if record.get("status") in TERMINAL:
                break
            await asyncio.sleep(0.1)
        click.echo(json.dumps(record, indent=2))
        return 0 if record.get("status") == "succeeded" else 1


@click.command()
@click.argument("event_type")
@click.option(
    "--target",
    "target",
    required=True,
    help="qonversion:EXP_ID, convert:PID/EID, convert:PID/goal:ID, … or an alias",
)
@click.option(
    "--data", "data_json", default="{}", help="JSON object merged into data (besides target)"
)
@click.option("--id", "event_id", default=None, help="Producer event id (idempotency key)")
@click.option("--url", default="http://127.0.0.1:8080", show_default=True, envvar="EXPBRIDGE_URL")
@click.option("--token", default=None, envvar="EXPBRIDGE_TOKEN", help="The source's bearer token")
@click.option("--wait", is_flag=True, help="Follow the event until it succeeds or is dead")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait with --wait")
def send(
    event_type: str,
    target: str,
    data_json: str,
    event_id: str | None,
    url: str,
    token: str | None,
    wait: bool,
    timeout: float,
) -> None:
    """Post one event: `expbridge send experiment.start --target qonversion:exp_demo --wait`."""
    try:
        data = json.loads(data_json)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}", param_hint="--data") from None
    if not isinstance(data, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    event = {
        "type": event_type,
        "id": event_id or f"cli-{uuid.uuid4().hex[:12]}",
        "data": {**data, "target": parse_target(target)},
    }
    try:
        code = asyncio.run(_send(url.rstrip("/"), _token(token), event, timeout if wait else None))
    except aiohttp.ClientError as error:
        raise click.ClickException(f"could not reach {url}: {error}") from None
    raise SystemExit(code)
