"""When a scheduled event takes effect: `not_before` (RFC 3339 with a zone), or a chat
command's `at <RFC 3339>` / `in <duration>`, checked against the schedule-ahead limit."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from expbridge.events.envelope import RFC3339

DURATION = re.compile(r"^(\d{1,6})\s*(s|m|h|d|w)$")
UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FORMS = "`at 2026-12-07T09:00:00Z` (RFC 3339 with a zone) or `in 30m`, `in 2h`, `in 3d`, `in 1w`"


def parse_moment(value: Any) -> datetime:
    """An RFC 3339 timestamp with its zone (`Z` or `±hh:mm`); ValueError says what is wrong."""
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string, e.g. 2026-12-07T09:00:00Z")
    text = value.strip()
    if RFC3339.match(text) is None:
        if re.match(r"^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d+)?)?$", text):
            raise ValueError("needs a time zone: end it with Z or an offset such as +01:00")
        raise ValueError("is not an RFC 3339 timestamp, e.g. 2026-12-07T09:00:00Z")
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not a real date and time") from None


def parse_duration(value: str) -> timedelta:
    """`30s`, `30m`, `2h`, `3d`, `1w`."""
    match = DURATION.match(value.strip().lower())
    if match is None:
        raise ValueError(f"{value!r} is not a duration such as 30m, 2h, 3d or 1w")
    return timedelta(seconds=int(match.group(1)) * UNIT_S[match.group(2)])


def check_ahead(moment: datetime, now: datetime, max_ahead_s: float) -> None:
    if (moment - now).total_seconds() > max_ahead_s:
        days = max_ahead_s / 86400
        raise ValueError(
            f"is more than {days:g} days ahead (EXPBRIDGE_MAX_SCHEDULE_AHEAD_S={max_ahead_s:g})"
        )


def is_due(moment: datetime | None, now: datetime) -> bool:
    """In the past (or absent) means now."""
    return moment is None or moment <= now
