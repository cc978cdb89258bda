"""Operator commands that read Redis directly: `events show|list|cancel`, `dlq list|replay`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar, get_args

import click
from arq.connections import ArqRedis

from expbridge.config.loading import ConfigError, load_settings
from expbridge.config.settings import Settings
from expbridge.events import keys
from expbridge.events.callbacks import Callbacks
from expbridge.events.record import EventStatus
from expbridge.events.store.acceptor import Acceptor
from expbridge.events.store.cancel import Cancellation, Canceller
from expbridge.events.store.connection import create_redis
from expbridge.events.store.listing import dead_letter_page, scan_index
from expbridge.events.store.records import EventStore
from expbridge.events.store.replay import Replayer

T = TypeVar("T")


def _with_redis(action: Callable[[ArqRedis, Settings], Awaitable[T]]) -> T:
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    if settings.uses_embedded_redis:
        raise click.ClickException("set EXPBRIDGE_REDIS_URL (or EXPBRIDGE_REDIS_SENTINELS)")

    async def run() -> T:
        redis = await create_redis(settings)
        try:
            return await action(redis, settings)
        finally:
            await redis.aclose()

    return asyncio.run(run())


@click.group()
def events() -> None:
    """Inspect events."""


@events.command("show")
@click.argument("event_id")
def show_event(event_id: str) -> None:
    """Print one event's status record."""

    async def action(redis: ArqRedis, _: Settings) -> dict[str, Any] | None:
        record = await EventStore(redis).get(event_id)
        return record.public() if record else None

    record = _with_redis(action)
    if record is None:
        raise click.ClickException(f"no event {event_id!r}")
    click.echo(json.dumps(record, indent=2))


@events.command("list")
@click.option("--status", type=click.Choice(get_args(EventStatus)), default=None)
@click.option("--type", "event_type", default=None, help="Only this event type")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
def list_events(status: str | None, event_type: str | None, limit: int) -> None:
    """One line per event, newest first: id, type, target, status, when (due, if scheduled)."""

    async def action(redis: ArqRedis, _: Settings) -> list[dict[str, Any]]:
        page = await scan_index(
            redis,
            keys.EVENT_INDEX,
            limit=limit,
            keep=lambda r: status in (None, r.status) and event_type in (None, r.type),
        )
        return [r.public() for r in page.records]

    rows = _with_redis(action)
    for row in rows:
        when = row["not_before"] if row["status"] == "scheduled" else row["updated_at"]
        click.echo(f"{row['id']}  {row['type']:<24} {row['target']:<32} {row['status']:<10} {when}")
    click.echo(f"{len(rows)} event(s)", err=True)


@events.command("cancel")
@click.argument("event_id")
def cancel_event(event_id: str) -> None:
    """Cancel a scheduled, queued or retrying event; print its record."""

    async def action(redis: ArqRedis, settings: Settings) -> Cancellation:
        acceptor = Acceptor(redis, settings)
        try:
            callbacks = Callbacks(acceptor, settings.sources)
            return await Canceller(redis, settings, callbacks).cancel(event_id, "admin")
        finally:
            await acceptor.close()

    done = _with_redis(action)
    if done.record is None:
        raise click.ClickException(f"no event {event_id!r}")
    if done.outcome == "running":
        raise click.ClickException(f"event {event_id!r} is running: it may already be upstream")
    if done.outcome == "finished":
        raise click.ClickException(
            f"event {event_id!r} has already finished ({done.record.status})"
        )
    click.echo(json.dumps(done.record.public(), indent=2))


@click.group()
def dlq() -> None:
    """Dead letters: events that failed for good."""


time_options = [
    click.option("--type", "event_type", default=None, help="Only this event type"),
    click.option("--since", type=click.DateTime(), default=None, help="Died at or after (UTC)"),
    click.option("--until", type=click.DateTime(), default=None, help="Died at or before (UTC)"),
    click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000)),
]


def _with_time_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(time_options):
        command = option(command)
    return command


async def _dead_ids(
    redis: ArqRedis,
    event_type: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    page = await dead_letter_page(
        redis, limit=limit, event_type=event_type, since=since, until=until
    )
    return [r.public() for r in page.records]


@dlq.command("list")
@_with_time_options
def list_dead(
    event_type: str | None, since: datetime | None, until: datetime | None, limit: int
) -> None:
    """One line per dead event, newest first."""
    rows = _with_redis(lambda redis, _: _dead_ids(redis, event_type, since, until, limit))
    for row in rows:
        error = row.get("last_error") or {}
        click.echo(
            f"{row['id']}  {row['type']:<24} {row['target']:<32} {row['updated_at']}  "
            f"{error.get('upstream_status') or '-'}  {error.get('message', '')[:80]}"
        )
    click.echo(f"{len(rows)} dead event(s)", err=True)


@dlq.command("replay")
@click.argument("event_ids", nargs=-1)
@_with_time_options
def replay_dead(
    event_ids: tuple[str, ...],
    event_type: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> None:
    """Re-queue dead events: the IDs given, or all matching --type/--since/--until."""

    async def action(redis: ArqRedis, settings: Settings) -> list[tuple[str, str]]:
        ids = list(event_ids) or [
            row["id"] for row in await _dead_ids(redis, event_type, since, until, limit)
        ]
        replayer = Replayer(redis, settings.queue_name, settings.job_expiry_ms)
        return [(event_id, await replayer.replay(event_id)) for event_id in ids]

    outcomes = _with_redis(action)
    for event_id, outcome in outcomes:
        click.echo(f"{event_id}  {outcome}")
    requeued = sum(1 for _, outcome in outcomes if outcome == "requeued")
    click.echo(f"{requeued} of {len(outcomes)} re-queued", err=True)
