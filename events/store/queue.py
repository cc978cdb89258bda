"""The delivery queue: per-target FIFO lists in front of arq, changed only by atomic Lua scripts.

Only the head event of each ordering key has an arq job. Accepting an event appends it to its
key's list (and dispatches it when it is the head); finishing an event removes it and dispatches
the next one. Each script is one atomic step, so an accepted event can never exist without its
record or its place in line, and a crash between two steps loses nothing.

Jobs are written in arq's job format with a JSON serializer (see `job_serializer`), which lets
the scripts build them; workers and pools must use the same serializer.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from expbridge.events import keys

JOB_FUNCTION = "process_event"

# Dispatch `event` (ARGV-free helper): a fresh job id per dispatch, because arq refuses a job id
# whose key or result still exists, and a replay may come while the old job is being finished.
_DISPATCH = """
local function dispatch(event_id, queue, now, expiry_ms)
  local n = redis.call('INCR', 'expbridge:dispatch:' .. event_id)
  local job_id = event_id .. '.' .. n
  local job = cjson.encode({t = 1, f = 'process_event', a = {event_id, n}, k = {}, et = now})
  redis.call('SET', 'arq:job:' .. job_id, job, 'PX', expiry_ms)
  redis.call('ZADD', queue, now, job_id)
end
"""

# KEYS: idempotency, record, order list, arq queue, event index
# ARGV: event id, record json, fingerprint, idempotency ttl ms, now ms, job expiry ms, has key
ACCEPT = (
    _DISPATCH
    + """
if ARGV[7] == '1' then
  local prior = redis.call('GET', KEYS[1])
  if prior then return {0, prior} end
  redis.call('SET', KEYS[1], cjson.encode({event_id = ARGV[1], fingerprint = ARGV[3]}),
             'PX', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('RPUSH', KEYS[3], ARGV[1])
if redis.call('LLEN', KEYS[3]) == 1 then
  dispatch(ARGV[1], KEYS[4], tonumber(ARGV[5]), ARGV[6])
end
return {1, ''}
"""
)

# KEYS: record, order list, arq queue, dead index
# ARGV: event id, final record json, now ms, job expiry ms, retention ms, '1' if dead
FINISH = (
    _DISPATCH
    + """
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
redis.call('PEXPIRE', 'expbridge:dispatch:' .. ARGV[1], ARGV[5])
if ARGV[6] == '1' then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
else
  redis.call('ZREM', KEYS[4], ARGV[1])
end
local head = redis.call('LINDEX', KEYS[2], 0)
redis.call('LREM', KEYS[2], 1, ARGV[1])
if head == ARGV[1] then
  local next_id = redis.call('LINDEX', KEYS[2], 0)
  if next_id then dispatch(next_id, KEYS[3], tonumber(ARGV[3]), ARGV[4]) end
end
return 1
"""
)

# KEYS: record, order list, arq queue, dead index
# ARGV: event id, requeued record json, now ms, job expiry ms
REQUEUE_DEAD = (
    _DISPATCH
    + """
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then return 0 end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PERSIST', 'expbridge:dispatch:' .. ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
if redis.call('LLEN', KEYS[2]) == 1 then
  dispatch(ARGV[1], KEYS[3], tonumber(ARGV[3]), ARGV[4])
end
return 1
"""
)


def job_serializer(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":")).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


class QueueScripts:
    """The three scripts, registered once per Redis client."""

    def __init__(self, redis: Redis, queue_name: str) -> None:
        self.queue_name = queue_name
        self.accept: AsyncScript = redis.register_script(ACCEPT)
        self.finish: AsyncScript = redis.register_script(FINISH)
        self.requeue_dead: AsyncScript = redis.register_script(REQUEUE_DEAD)

    def accept_keys(self, idempotency_key: str, event_id: str, ordering_key: str) -> list[str]:
        return [
            idempotency_key,
            keys.event(event_id),
            keys.order(ordering_key),
            self.queue_name,
            keys.EVENT_INDEX,
        ]

    def finish_keys(self, event_id: str, ordering_key: str) -> list[str]:
        return [keys.event(event_id), keys.order(ordering_key), self.queue_name, keys.DEAD_INDEX]
