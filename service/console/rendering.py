"""What every console page shares: the request's session, the rules in force, rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from expbridge.config.rules import Rule
from expbridge.service import app_keys as keys
from expbridge.service.console.session import ConsoleSession, SessionStore

SESSION = web.RequestKey("console_session", ConsoleSession)
RULES: web.AppKey[list[Rule]] = web.AppKey("console_rules")


def session_store(request: web.Request) -> SessionStore:
    settings = request.config_dict[keys.SETTINGS]
    return SessionStore(request.config_dict[keys.REDIS], settings.console_session_ttl_s)


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    session = request.get(SESSION)
    context = {"csrf": session.csrf if session else None, "path": request.path, **context}
    return aiohttp_jinja2.render_template(template, request, context, status=status)


def refused(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "refused.html", {"message": message}, status=status)


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def moment(at: datetime | None) -> str:
    """A timeline mark: to the millisecond, as attempts can follow each other closely."""
    return "—" if at is None else at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def field_time(moment: datetime | None) -> str:
    """The value a datetime-local form field takes."""
    return moment.strftime("%Y-%m-%dT%H:%M") if moment is not None else ""
