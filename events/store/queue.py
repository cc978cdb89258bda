"""The delivery queue: per-target FIFO lists in front of arq, changed only by atomic Lua scripts.

Only the head event of each ordering key has an arq job. Accepting an event appends it to its
key's list (and dispatches it when it is the head); finishing an event removes it and dispatches
the next one. Each script is one atomic step, so an accepted event can never exist without its
record or its place in line, and a crash between two steps loses nothing.

The scripts live in lua/ (package data, read once at import, registered once per client); they
get their keys from events/keys.py (see there). Jobs are written in arq's job format with a JSON
serializer (see `job_serializer`), which lets the scripts build them; workers and pools must use
the same serializer. That format is arq's internal one, so pyproject pins arq's minor version,
and tests/events/store/test_queue.py reads a scripted job with arq's own `deserialize_job`.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from expbridge.events import keys

JOB_FUNCTION = "process_event"


def lua(name: str) -> str:
    """One file of lua/ (the workers compose FINISH with their slot release from these)."""
    return files("expbridge.events.store").joinpath("lua", name).read_text()


def _script(*names: str) -> str:
    """dispatch.lua, then the named files in order (a script may run on into another's body)."""
    return "".join(lua(name) for name in ("dispatch.lua", *names))


ACCEPT = _script("accept.lua")
# A group commit's events in one run: accept.lua as a function of its KEYS and ARGV (its own,
# shadowing the script's), called for each.
ACCEPT_MANY = (
    lua("dispatch.lua")
    + "local function accept(KEYS, ARGV)\n"
    + lua("accept.lua")
    + "end\n"
    + lua("accept_many.lua")
)
FINISH = _script("finish.lua")
REQUEUE_DEAD = _script("requeue_dead.lua")
CANCEL = _script("cancel.lua")
REDISPATCH = _script("redispatch.lua")
PROMOTE_DUE = _script("promote_due.lua")
# A Slack approval's decision; an approval runs on into accept.lua and queues its event.
DECIDE = _script("decide.lua", "accept.lua")

# The trailing ARGV of every queue script (read by lua/dispatch.lua).
LAYOUT = (keys.ARQ_JOB_PREFIX, keys.DISPATCH_PREFIX, keys.JOB_ID_SEPARATOR, JOB_FUNCTION)


def job_serializer(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":")).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


class QueueScript:
    """One registered script, called like redis-py's: the key layout is appended to `args`."""

    def __init__(self, redis: Redis, text: str) -> None:
        self.registered: AsyncScript = redis.register_script(text)
        self.sha: str = self.registered.sha
        self.script: str = text

    @staticmethod
    def args(args: list[Any]) -> list[Any]:
        return [*args, *LAYOUT]

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        return await self.registered(keys=keys, args=self.args(args))


class QueueScripts:
    """The queue scripts, registered once per Redis client."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.queue_name = queue_name
        self.accept = QueueScript(redis, ACCEPT)
        self.accept_many = QueueScript(redis, ACCEPT_MANY)
        self.finish = QueueScript(redis, FINISH)
        self.requeue_dead = QueueScript(redis, REQUEUE_DEAD)
        self.cancel = QueueScript(redis, CANCEL)
        self.redispatch = QueueScript(redis, REDISPATCH)
        self.promote_due = QueueScript(redis, PROMOTE_DUE)
        self.decide = QueueScript(redis, DECIDE)

    # ACCEPT's KEYS: idempotency, record, order list, arq queue, event index, dispatch counter,
    # scheduled set. ACCEPT_MANY takes the event's own four per event and the rest once a run.
    def event_keys(self, idempotency_key: str, event_id: str, ordering_key: str) -> list[str]:
        """An event's own keys of ACCEPT: idempotency, record, order list, dispatch counter."""
        return [
            idempotency_key,
            keys.event(event_id),
            keys.order(ordering_key),
            keys.dispatch_counter(event_id),
        ]

    def run_keys(self) -> list[str]:
        """ACCEPT's keys every event shares: the arq queue, the event index, the scheduled set."""
        return [self.queue_name, keys.EVENT_INDEX, keys.SCHEDULED]

    def accept_keys(self, idempotency_key: str, event_id: str, ordering_key: str) -> list[str]:
        idempotency, record, order, counter = self.event_keys(
            idempotency_key, event_id, ordering_key
        )
        queue, index, scheduled = self.run_keys()
        return [idempotency, record, order, queue, index, counter, scheduled]

    def finish_keys(self, event_id: str, ordering_key: str) -> list[str]:
        return [
            keys.event(event_id),
            keys.order(ordering_key),
            self.queue_name,
            keys.DEAD_INDEX,
            keys.dispatch_counter(event_id),
        ]
