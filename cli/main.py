"""The `expbridge` command."""

from __future__ import annotations

import shutil
import sys
import tempfile

import click

from expbridge.cli import event_loop
from expbridge.cli.admin import dlq, events
from expbridge.cli.health import ROLES, Role, RoleUnknownError, role_of_process, run_check
from expbridge.cli.send import send
from expbridge.config.file import FileConfig
from expbridge.config.loading import ConfigError, load_config, load_settings
from expbridge.config.logging import configure_logging
from expbridge.config.settings import Settings
from expbridge.config.tracing import configure_tracing


def _settings(service: str | None = None, **overrides: object) -> Settings:
    """Settings, then logging; then tracing (from OTEL_*) for a command that runs `service`."""
    try:
        settings = load_settings(**overrides)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_format, settings.log_level)
    if service is not None:
        configure_tracing(service)
    return settings


def _file_config(settings: Settings, with_rules: bool = False) -> FileConfig:
    """The YAML file, checked; `with_rules`: its rules against the event catalog too."""
    try:
        file_config = load_config(settings)
        if with_rules:
            from expbridge.workers.rules.book import compile_rules

            compile_rules(file_config, settings)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    return file_config


def _safe_to_listen(settings: Settings) -> None:
    reason = settings.unsafe_bind_reason()
    if reason is not None:
        raise click.ClickException(reason)


def _needs_redis(settings: Settings, command: str) -> None:
    if settings.uses_embedded_redis:
        raise click.ClickException(
            f"`expbridge {command}` needs EXPBRIDGE_REDIS_URL (or EXPBRIDGE_REDIS_SENTINELS); "
            "only `expbridge run` starts an embedded Redis"
        )


@click.group()
@click.version_option(package_name="expbridge")
def main() -> None:
    """expbridge: an async event bridge for experiment lifecycles."""


@main.command()
def run() -> None:
    """All in one process: embedded Redis (unless configured), sandbox, ingress, worker."""
    from expbridge.cli.processes import run_all, with_local_source
    from expbridge.cli.redis_server import RedisServer, RedisServerError

    settings = _settings("expbridge")
    file_config = _file_config(settings, with_rules=True)
    if settings.uses_embedded_redis or not settings.sources:
        _writable_data_dir(settings)
    settings = with_local_source(settings)
    _safe_to_listen(settings)
    redis_server = None
    if settings.uses_embedded_redis:
        try:
            redis_server = RedisServer(settings.data_dir / "redis").start()
        except RedisServerError as error:
            raise click.ClickException(str(error)) from None
        settings = settings.model_copy(update={"redis_url": redis_server.url})
    _print_first_steps(settings)
    try:
        event_loop.run(run_all(settings, file_config))
    finally:
        if redis_server is not None:
            redis_server.stop()


def _writable_data_dir(settings: Settings) -> None:
    """`run` keeps the embedded Redis's data and the local token there: say so in one line."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=settings.data_dir).close()
    except OSError as error:
        raise click.ClickException(
            f"`expbridge run` keeps its Redis data and local token in EXPBRIDGE_DATA_DIR="
            f"{settings.data_dir}, which is not writable ({error.strerror}): in a read-only "
            "container give it a writable /tmp (docker run --tmpfs /tmp), or run `expbridge "
            "serve` and `expbridge worker` with EXPBRIDGE_REDIS_URL"
        ) from None


def _print_first_steps(settings: Settings) -> None:
    base = f"http://{settings.host}:{settings.port}"
    # On PATH in the image (`docker exec CONTAINER expbridge send …`); in .venv after `make run`.
    command = "expbridge" if shutil.which("expbridge") else ".venv/bin/expbridge"
    click.echo(
        f"expbridge is starting on {base}\n"
        "Send a first event from another terminal:\n"
        f"  {command} send experiment.start --target qonversion:exp_demo --wait\n",
        err=True,
    )


@main.command()
def serve() -> None:
    """The ingress only (needs EXPBRIDGE_REDIS_URL)."""
    from expbridge.cli.processes import serve_forever

    settings = _settings("expbridge-ingress")
    _needs_redis(settings, "serve")
    _safe_to_listen(settings)
    file_config = _file_config(settings)
    event_loop.run(serve_forever(settings, file_config))


@main.command()
@click.option("--check", is_flag=True, help="Exit 0 if a worker reported healthy recently.")
def worker(check: bool) -> None:
    """A worker only (needs EXPBRIDGE_REDIS_URL)."""
    from expbridge.cli.processes import work_forever

    if check:
        _health(Role("worker"))
    settings = _settings("expbridge-worker")
    _needs_redis(settings, "worker")
    _file_config(settings, with_rules=True)
    event_loop.run(work_forever(settings))


@main.command()
@click.option(
    "--role",
    type=click.Choice(ROLES),
    help="The role to check; default: the role of process --pid (the container's main process).",
)
@click.option("--pid", default=1, show_default=True, help="The process whose role is checked.")
def health(role: str | None, pid: int) -> None:
    """Exit 0 when this container's role is healthy (the image's HEALTHCHECK, chart probes)."""
    if role is not None:
        _health(Role(role))
    try:
        _health(role_of_process(pid))
    except RoleUnknownError as error:
        raise click.UsageError(str(error)) from None


def _health(role: Role) -> None:
    settings = _settings()
    if role.name == "worker":
        _needs_redis(settings, "worker")
    healthy, detail = run_check(role, settings)
    click.echo(f"{role.name}: {'healthy' if healthy else 'unhealthy'} ({detail})", err=not healthy)
    sys.exit(0 if healthy else 1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback host (no auth!)")
def sandbox(host: str, port: int, allow_remote: bool) -> None:
    """The simulated Qonversion and Convert APIs (with the demo experiment exp_demo)."""
    from expbridge.cli.processes import sandbox_forever

    if host not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        raise click.ClickException(
            "the sandbox's control plane has no authentication: it binds to loopback unless "
            "--allow-remote is given"
        )
    configure_logging()
    click.echo(
        f"sandbox: Qonversion at http://{host}:{port}/qonversion/v4, Convert at "
        f"http://{host}:{port}/convert/api/v1 and /v2",
        err=True,
    )
    event_loop.run(sandbox_forever(host, port, allow_remote))


main.add_command(send)
main.add_command(events)
main.add_command(dlq)

if __name__ == "__main__":
    main()
