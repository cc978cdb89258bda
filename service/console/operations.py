"""Rules in force with their recent evaluations; providers' pace, breakers and the queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

from expbridge.config.rules import Rule
from expbridge.config.settings import Settings
from expbridge.events import keys as redis_keys
from expbridge.events.callbacks import destination
from expbridge.events.record import utcnow
from expbridge.events.rules.evaluation_log import EvaluationOutcome, RuleEvaluation
from expbridge.events.store.listing import EventFilter, event_page, status_counts
from expbridge.events.store.pacing_state import provider_state, queue_depths
from expbridge.service import app_keys as keys
from expbridge.service.console.rendering import RULES, render
from expbridge.service.console.summaries import SUMMARIES

routes = web.RouteTableDef()
PROVIDERS = ("qonversion", "convert")
OUTCOMES: tuple[str, ...] = EvaluationOutcome.__args__  # type: ignore[attr-defined]
# Evaluation fields shown in their own columns; any other (statistics, ...) goes as it is.
EVALUATION_COLUMNS = frozenset(
    {"at", "rule", "target", "trigger", "outcome", "condition", "reasons", "events", "dry_run"}
)
# The error share is over this many of a provider's latest events, among the latest stored.
RECENT_EVENTS = 200
RECENT_SCANNED = 1000


def evaluation_row(evaluation: RuleEvaluation) -> dict[str, Any]:
    row = evaluation.model_dump(mode="json")
    row["more"] = {k: v for k, v in row.items() if k not in EVALUATION_COLUMNS}
    return row


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _trigger(rule: Rule) -> str:
    trigger = rule.trigger
    if trigger.schedule is not None:
        return f"every {_duration(trigger.schedule)}"
    filters = {
        "goal_id": trigger.goal_id,
        "metric": trigger.metric,
        "value ≥": trigger.value_at_least,
        "value ≤": trigger.value_at_most,
    }
    named = ", ".join(f"{k} {v}" for k, v in filters.items() if v is not None)
    return f"on {trigger.event}" + (f" ({named})" if named else "")


async def _next_run(request: web.Request, rule: Rule) -> str:
    if rule.trigger.schedule is None:
        return "on each event"
    held_ms = await request.config_dict[keys.REDIS].pttl(redis_keys.rule_due(rule.name))
    if held_ms is None or held_ms < 0:
        return "at the next minute tick"
    # The workers' cron looks every minute: the next evaluation is the first tick after this.
    return f"after {(utcnow() + timedelta(milliseconds=held_ms)).strftime('%Y-%m-%d %H:%M:%S')}"


@routes.get("/rules", name="rules")
async def rules_page(request: web.Request) -> web.Response:
    settings = request.config_dict[keys.SETTINGS]
    rules = []
    for rule in request.app[RULES]:
        rules.append(
            {
                "name": rule.name,
                "trigger": _trigger(rule),
                "targets": rule.targets or ["any"],
                "actions": [a.event or "notify" for a in rule.actions],
                "when": rule.when.model_dump(exclude_defaults=True),
                "dry_run": rule.dry_run or settings.rules.dry_run,
                "next": await _next_run(request, rule),
            }
        )
    wanted_rule = request.query.get("rule") or None
    wanted_outcome = request.query.get("outcome") or None
    if wanted_outcome not in (None, *OUTCOMES):
        wanted_outcome = None
    found = await request.config_dict[keys.RULE_LOG].recent(
        100, rule=wanted_rule, outcome=wanted_outcome
    )
    evaluations: list[dict[str, Any]] = []
    for evaluation in found:
        row = evaluation.model_dump(mode="json")
        row["more"] = {
            k: v for k, v in row.items() if k not in EVALUATION_COLUMNS | {"events", "dry_run"}
        }
        evaluations.append(row)
    context = {
        "rules": rules,
        "evaluations": evaluations,
        "outcomes": OUTCOMES,
        "wanted_rule": wanted_rule,
        "wanted_outcome": wanted_outcome,
    }
    return render(request, "rules.html", context)


async def error_shares(redis: Redis, prefixes: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """Per target prefix, of its latest RECENT_EVENTS events among the latest RECENT_SCANNED
    stored: how many met an upstream error, of how many. One read for every prefix."""
    page = await event_page(redis, EventFilter(), limit=RECENT_SCANNED, max_scanned=RECENT_SCANNED)
    shares = {}
    for prefix in prefixes:
        mine = [r for r in page.records if r.target.startswith(f"{prefix}:")][:RECENT_EVENTS]
        shares[prefix] = (sum(1 for r in mine if r.last_error is not None), len(mine))
    return shares


def _callback_destinations(settings: Settings) -> list[str]:
    """The hosts the sources' callback subscriptions go to, each paced like a provider."""
    return sorted(
        {
            destination(subscription.url)
            for credentials in settings.sources.values()
            for subscription in credentials.subscriptions
        }
    )


@routes.get("/providers", name="providers")
async def providers_page(request: web.Request) -> web.Response:
    settings = request.config_dict[keys.SETTINGS]
    redis = request.config_dict[keys.REDIS]
    summaries = request.app[SUMMARIES]
    names = [*PROVIDERS, *_callback_destinations(settings)]
    # Callbacks' lines are per subscription, not per host: their share is over all of them.
    prefixes = {n: "callback" if n.startswith("callback:") else n for n in names}
    wanted = tuple(sorted(set(prefixes.values())))
    shares, counted = await asyncio.gather(
        summaries.get(("error shares", wanted), lambda: error_shares(redis, wanted)),
        summaries.get(("counts", None, None), lambda: status_counts(redis)),
    )
    providers = []
    for provider in names:
        prefix = prefixes[provider]
        failed, seen = shares.value[prefix]
        providers.append(
            {
                "name": provider,
                "pace": settings.pace.of(provider),
                "state": await provider_state(redis, provider),
                "failed": failed,
                "seen": seen,
                "share_of": "callbacks" if prefix == "callback" else "events",
            }
        )
    jobs, dead = await queue_depths(redis, settings.queue_name)
    counts = counted.value
    waiting = sum(counts.get(s, 0) for s in ("queued", "retrying", "running"))
    context = {
        "providers": providers,
        "jobs": jobs,
        "dead": dead,
        "waiting": waiting,
        "counts": sorted(counts.items()),
        "counts_as_of": counted.as_of,
        "shares_as_of": shares.as_of,
    }
    return render(request, "providers.html", context)
