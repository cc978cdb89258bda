"""`expbridge dlq list|replay` and `events show`, as an operator runs them against Redis."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from expbridge.config.settings import Settings
from tests.conftest import Ingress
from tests.helpers import run_worker_burst, seed_experiment, start_event

EXPBRIDGE = str(Path(sys.executable).parent / "expbridge")


async def expbridge(settings: Settings, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPBRIDGE_")}
    env.update(
        EXPBRIDGE_REDIS_URL=settings.redis_url or "", EXPBRIDGE_QUEUE_NAME=settings.queue_name
    )
    proc = await asyncio.create_subprocess_exec(
        EXPBRIDGE, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def accept(ingress: Ingress, event: dict[str, Any]) -> str:
    response = await ingress.post_event(event)
    assert response.status == 202
    event_id: str = (await response.json())["id"]
    return event_id


async def test_dlq_list_replay_and_events_show(
    ingress: Ingress, settings: Settings, sandbox: Any
) -> None:
    dead = [await accept(ingress, start_event(f"exp_cli{n}")) for n in range(2)]
    await run_worker_burst(settings)

    code, out, err = await expbridge(settings, "dlq", "list")
    assert code == 0, err
    assert sorted(line.split()[0] for line in out.splitlines()) == sorted(dead)
    assert "404" in out and "2 dead event(s)" in err

    code, out, _ = await expbridge(settings, "events", "show", dead[0])
    assert code == 0
    assert json.loads(out)["status"] == "dead"
    code, _, err = await expbridge(settings, "events", "show", "evt_nope")
    assert code != 0 and "no event" in err

    await seed_experiment(sandbox.url, "exp_cli0")
    code, out, err = await expbridge(settings, "dlq", "replay", dead[0])
    assert code == 0, err
    assert out.split() == [dead[0], "requeued"] and "1 of 1 re-queued" in err
    await run_worker_burst(settings)
    assert (await ingress.get_record(dead[0]))["status"] == "succeeded"

    code, out, _ = await expbridge(settings, "dlq", "list", "--type", "experiment.start")
    assert [line.split()[0] for line in out.splitlines()] == [dead[1]]


async def test_events_cancel_and_list_by_status(ingress: Ingress, settings: Settings) -> None:
    first = await accept(ingress, start_event("exp_cancel"))
    second = await accept(ingress, start_event("exp_cancel"))

    code, out, err = await expbridge(settings, "events", "cancel", first)
    assert code == 0, err
    record = json.loads(out)
    assert (record["status"], record["cancelled_by"]) == ("cancelled", "admin")

    code, out, err = await expbridge(settings, "events", "list", "--status", "cancelled")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == [first]
    assert out.split()[3] == "cancelled" and "1 event(s)" in err

    code, _, err = await expbridge(settings, "events", "cancel", "evt_nope")
    assert code != 0 and "no event" in err
    await run_worker_burst(settings)  # `second` took the head's place and runs
    assert (await ingress.get_record(second))["status"] in ("succeeded", "dead")
    code, _, err = await expbridge(settings, "events", "cancel", second)
    assert code != 0 and "already" in err
