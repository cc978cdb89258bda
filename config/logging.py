"""structlog, configured once per process: JSON off a TTY, pretty on one; stdlib loggers too."""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, TextIO, cast

import orjson
import structlog

from expbridge.config.log_stream import LoopTurnStream
from expbridge.config.tracing import add_trace_ids

SECRET_KEY_NAME = re.compile(r"token|secret|password|authorization|signature|api_key", re.I)
REDACTED = "[redacted]"
# Credentials inside free text (messages, exception texts, library lines such as aiohttp's
# "Error handling request" with the header that was too long): bearer tokens, provider keys,
# webhook secrets and signatures, Slack webhook paths. The first group is kept.
SECRET_IN_TEXT = re.compile(
    r"(?i)(bearer\s+|basic\s+|signature=|v0=|v1,|whsec_|\b(?:test_)?sk_|hooks\.slack\.com/)"
    r"[^\s'\",;]+"
)
# What every match of SECRET_IN_TEXT contains, lower-cased: a quick test before the regex.
SECRET_MARKERS = (
    "bearer",
    "basic",
    "signature=",
    "v0=",
    "v1,",
    "whsec_",
    "sk_",
    "hooks.slack.com/",
)


@functools.lru_cache(maxsize=1024)
def _is_secret_name(key: str) -> bool:
    return SECRET_KEY_NAME.search(key) is not None


def redact_secrets(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A last line of defence: no field whose name smells of a credential leaves the process."""
    for key in [k for k in event_dict if _is_secret_name(k)]:
        event_dict[key] = REDACTED
    return event_dict


def _orjson_text(value: Any, default: Any = None, **_: Any) -> str:
    # orjson renders a line about 5x faster than the json module (bench/accept_throughput.py).
    return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()


def _keep_prefix(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED


def may_hold_secret(lowered: str) -> bool:
    """Whether a match of SECRET_IN_TEXT can start anywhere in `lowered` (lower-cased text): a
    plain loop of substring tests, an eighth of the case-blind regex's search on a short text
    (and a third of any() over a generator, which ruff's SIM110 would have)."""
    for marker in SECRET_MARKERS:  # noqa: SIM110
        if marker in lowered:
            return True
    return False


def scrub_text(value: str) -> str:
    """`value` with the credentials SECRET_IN_TEXT finds replaced."""
    if not may_hold_secret(value.lower()):
        return value
    return SECRET_IN_TEXT.sub(_keep_prefix, value)


def redact_secrets_in_text(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """After exceptions are formatted: scrub credentials out of every text value of a line."""
    texts = [value for value in event_dict.values() if isinstance(value, str)]
    if not may_hold_secret("\n".join(texts).lower()):
        return event_dict  # no match can start anywhere (a sixth of a line's cost otherwise)
    for key, value in event_dict.items():
        if isinstance(value, str) and SECRET_IN_TEXT.search(value) is not None:
            event_dict[key] = SECRET_IN_TEXT.sub(_keep_prefix, value)
    return event_dict


def _renderer(log_format: str) -> Any:
    use_console = log_format == "console" or (log_format == "auto" and sys.stdout.isatty())
    if use_console:
        return structlog.dev.ConsoleRenderer()
    return structlog.processors.JSONRenderer(serializer=_orjson_text)


class NamedWriteLogger(structlog.WriteLogger):
    """structlog's direct writer, with a name for the `logger` field like stdlib loggers."""

    def __init__(self, name: str | None, file: LoopTurnStream) -> None:
        # structlog's WriteLogger uses only a file's write and flush, which the stream has.
        super().__init__(cast(TextIO, file))
        self.name = name or "expbridge"


class NamedWriteLoggerFactory:
    """structlog's logger factory: every logger writes to `stream`; `json` says how lines are
    rendered (read by `info_line_writer`)."""

    def __init__(self, stream: LoopTurnStream, json: bool) -> None:
        self.stream = stream
        self.json = json

    def __call__(self, *args: Any) -> NamedWriteLogger:
        return NamedWriteLogger(args[0] if args else None, self.stream)


LineWriter = Callable[[str, dict[str, Any]], None]
_LINE_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS


def info_line_writer(name: str) -> LineWriter:
    """For a hot path's one INFO line (the accept route's request line): writes `fields` as the
    JSON line structlog's chain would (`event`, `level`, `logger`, `timestamp` added), rendered
    by orjson in one call instead of ten processors: about a tenth of a request's cost on the
    accept path (bench/accept_throughput.py). So the caller passes every field explicitly (no
    contextvars, no active span), with field names that are no credential's and any text that
    could carry one scrubbed by `scrub_text`. Lines that are not JSON (a TTY), or before
    configure_logging, go through structlog as usual."""
    logger = structlog.get_logger(name)
    factory = structlog.get_config()["logger_factory"]
    if not isinstance(factory, NamedWriteLoggerFactory) or not factory.json:
        return lambda event, fields: logger.info(event, **fields)
    if not logger.is_enabled_for(logging.INFO):
        return lambda event, fields: None
    stream = factory.stream

    def write(event: str, fields: dict[str, Any]) -> None:
        fields["event"] = event
        fields["level"] = "info"
        fields["logger"] = name
        fields["timestamp"] = datetime.now(UTC)
        # (no flush: the stream writes its lines at the end of the loop turn)
        stream.write(orjson.dumps(fields, option=_LINE_OPTIONS).decode())

    return write


def context_line_writer(name: str) -> LineWriter:
    """`info_line_writer` for a line that also carries what structlog's chain adds besides: the
    context bound to contextvars and the active span's ids. For the worker's lines of every
    event (`upstream request`, `job attempt`), whose fields are the event's context; any
    field's name or text that could carry a credential is scrubbed as in every line."""
    write = info_line_writer(name)
    factory = structlog.get_config()["logger_factory"]
    if not isinstance(factory, NamedWriteLoggerFactory) or not factory.json:
        return write  # through structlog, whose chain merges the context itself
    contextvars = structlog.contextvars.get_contextvars

    def write_in_context(event: str, fields: dict[str, Any]) -> None:
        line = contextvars()
        line.update(fields)
        add_trace_ids(None, "", line)
        redact_secrets(None, "", line)
        texts = "\n".join(v for v in line.values() if isinstance(v, str))
        if may_hold_secret(texts.lower()):
            line = {k: scrub_text(v) if isinstance(v, str) else v for k, v in line.items()}
        write(event, line)

    return write_in_context


# arq's per-job INFO lines ("→ job(args)" at its start, "← job ● result" at its end) say again
# what the job's own "job attempt" line says with its full context; they cost a fifth of a
# worker's CPU per event (bench/worker_throughput.py). Its other lines (retries, start-up,
# warnings) stay.
ARQ_JOB_LINES = ("%6.2fs → ", "%6.2fs ← ")


def _not_an_arq_job_line(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith(ARQ_JOB_LINES))


def _line_stream(stdout: TextIO) -> LoopTurnStream:
    """The stream every line goes to: the one already configured when it is in front of the
    same stdout (configure_logging may run again), else a new one."""
    configured = structlog.get_config()["logger_factory"]
    if isinstance(configured, NamedWriteLoggerFactory):
        previous = configured.stream
        if isinstance(previous, LoopTurnStream):
            if previous.stream is stdout:
                return previous
            previous.close()
    return LoopTurnStream(stdout)


def configure_logging(log_format: str = "auto", level: str = "INFO") -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        redact_secrets,
    ]
    renderer = _renderer(log_format)
    stream = _line_stream(sys.stdout)
    json_lines = isinstance(renderer, structlog.processors.JSONRenderer)
    # Our own lines are rendered and written directly (no LogRecord on the hot path); the
    # stdlib loggers of aiohttp and arq go through a ProcessorFormatter with the same chain.
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact_secrets_in_text,
            renderer,
        ],
        logger_factory=NamedWriteLoggerFactory(stream, json_lines),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets_in_text,
            renderer,
        ],
    )
    handler = logging.StreamHandler(cast(TextIO, stream))  # (it too writes and flushes)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log duplicates our own request line; arq's per-job lines stay, bound
    # to the same context.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    arq_worker = logging.getLogger("arq.worker")
    if _not_an_arq_job_line not in arq_worker.filters:
        arq_worker.addFilter(_not_an_arq_job_line)
