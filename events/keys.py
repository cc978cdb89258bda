"""Every Redis key expbridge reads or writes, and the arq job id format: the one key table.

Python builds keys only through this module. The Lua scripts (events/store/lua/, workers/lua/)
get the keys they touch through KEYS; the few keys a script can only name while it runs (the
arq job of a dispatch number it just drew, the next event in a line) it builds from the
prefixes below, which Python passes in ARGV (`SCRIPT_LAYOUT`): no key name is spelled in Lua.
docs/architecture.md has the table of every key with its type, TTL, writer and readers.
"""

from __future__ import annotations

PREFIX = "expbridge"
EVENT_INDEX = f"{PREFIX}:events"
DEAD_INDEX = f"{PREFIX}:dead"
# The default arq queue (a sorted set of job ids); settings.queue_name may name another.
DEFAULT_QUEUE = f"{PREFIX}:queue"
# arq's own job key prefix (arq.constants.job_key_prefix): the queue scripts write jobs directly.
ARQ_JOB_PREFIX = "arq:job:"
DISPATCH_PREFIX = f"{PREFIX}:dispatch:"
# The idempotency key slot an event without a key passes (the ACCEPT script never touches it).
NO_IDEMPOTENCY = f"{PREFIX}:idem:-"

# An event's arq job id is `<event id><JOB_ID_SEPARATOR><dispatch number>`: a fresh id per
# dispatch, because arq refuses a job id whose key or result still exists. Event ids never
# contain the separator (`evt_<hex>`); cron jobs are named without it.
JOB_ID_SEPARATOR = "."


def event(event_id: str) -> str:
    return f"{PREFIX}:event:{event_id}"


def dispatch_counter(event_id: str) -> str:
    return f"{DISPATCH_PREFIX}{event_id}"


def job_id(event_id: str, dispatch: int) -> str:
    return f"{event_id}{JOB_ID_SEPARATOR}{dispatch}"


def event_of_job(job_id: str) -> str | None:
    """The event id of an event's job id, or None for a job that is not an event's (cron)."""
    event_id, separator, _ = job_id.rpartition(JOB_ID_SEPARATOR)
    return event_id if separator else None


def arq_job(job_id: str) -> str:
    return f"{ARQ_JOB_PREFIX}{job_id}"


def order(ordering_key: str) -> str:
    return f"{PREFIX}:order:{ordering_key}"


# Every line (SCAN pattern), and how many events wait in them all, heads included: counted
# by the workers' sweeper (workers/sweeper.py), read by the ingress' expbridge_queue_depth.
ORDER_PATTERN = order("*")
LINES_WAITING = f"{PREFIX}:lines:waiting"


def idempotency(source: str, key: str) -> str:
    return f"{PREFIX}:idem:{source}:{key}"


RULE_EVALUATIONS = f"{PREFIX}:rules:evaluations"


def rule_fired(rule: str, target: str, condition: str) -> str:
    """Set (NX) when a rule fires for a target and condition: at most once, across restarts."""
    return f"{PREFIX}:rules:fired:{rule}:{target}:{condition}"


def rule_due(rule: str) -> str:
    """Held for a schedule rule's interval: one evaluation per interval across all workers."""
    return f"{PREFIX}:rules:due:{rule}"


def console_session(digest: str) -> str:
    """An operator console session, by the digest of its cookie (the cookie is never stored)."""
    return f"{PREFIX}:console:session:{digest}"


def console_signin_tries(scope: str) -> str:
    """Sign-ins to the console in the current window: `client:<address>`, or `all`."""
    return f"{PREFIX}:console:signin:{scope}"


def slack_seen(digest: str) -> str:
    """A Slack request signature already accepted (replay protection)."""
    return f"{PREFIX}:slack:seen:{digest}"


def pace(provider: str, part: str) -> str:
    """Pacing and breaker state shared by all workers: `tat`, `penalty`, `slots`, `breaker`."""
    return f"{PREFIX}:pace:{provider}:{part}"


def worker_health_check(queue_name: str, host: str) -> str:
    """One key per host (a pod), refreshed by arq, so `worker --check` speaks for this worker."""
    return f"{queue_name}:health-check:{host}"


# Scheduled events (score: when due, in ms), outside their lines until the workers promote them.
SCHEDULED = f"{PREFIX}:scheduled"
# Counters kept in Redis for every process's /metrics (e.g. `cancelled:queued`).
COUNTS = f"{PREFIX}:counts"
# arq's own per-job keys (arq.constants): set while a worker runs the job, and its try counter.
ARQ_IN_PROGRESS_PREFIX = "arq:in-progress:"
ARQ_RETRY_PREFIX = "arq:retry:"


def arq_in_progress(job_id: str) -> str:
    return f"{ARQ_IN_PROGRESS_PREFIX}{job_id}"


def arq_retry(job_id: str) -> str:
    return f"{ARQ_RETRY_PREFIX}{job_id}"


# Slack approvals waiting for a decision (score: their deadline, in ms).
APPROVALS = f"{PREFIX}:approvals"


def approval(approval_id: str) -> str:
    """One approval request (a hash): its state, requester, command and the event it queues."""
    return f"{PREFIX}:approval:{approval_id}"
