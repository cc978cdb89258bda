"""Settings from the environment (prefix EXPBRIDGE_, nested keys with __) and /run/secrets."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from expbridge.config.callbacks import CallbackSettings
from expbridge.config.chatops import SlackSettings
from expbridge.config.console import SigninLimits
from expbridge.config.http import HttpSettings
from expbridge.config.sources import SourceCredentials
from expbridge.events import keys

SECRETS_DIR = Path("/run/secrets")


def parse_sentinels(value: str) -> list[tuple[str, int]]:
    """`host:port,host:port` (IPv6 as `[::1]:26379`) into (host, port) pairs."""
    hosts = []
    for item in value.split(","):
        host, sep, port = item.strip().rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{item.strip()!r} is not host:port (e.g. s1:26379,s2:26379)")
        hosts.append((host, int(port)))
    return hosts


class QonversionSettings(BaseModel):
    secret_key: SecretStr | None = None
    base_url: str = "https://api.qonversion.io/v4"

    @field_validator("secret_key")
    @classmethod
    def _key_prefix(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("sk_", "test_sk_")):
            raise ValueError("must start with sk_ or test_sk_")
        return value


class ConvertSettings(BaseModel):
    app_id: str | None = None
    app_secret: SecretStr | None = None
    api_version: Literal["v1", "v2"] = "v1"
    base_url: str | None = None
    account_id: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ConvertSettings:
        if (self.app_id is None) != (self.app_secret is None):
            raise ValueError("app_id and app_secret go together")
        if self.api_version == "v2" and self.app_id is not None and not self.account_id:
            raise ValueError("account_id is required with api_version v2")
        return self

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"https://api.convert.com/api/{self.api_version}"


class WorkerSettings(BaseModel):
    """Worker knobs. poll_delay_s is low so an idle worker picks a job up within tens of ms."""

    poll_delay_s: float = Field(0.02, gt=0, le=5)
    max_jobs: int = Field(20, ge=1, le=1000)
    upstream_timeout_s: float = Field(10.0, gt=0, le=120)
    # arq fails a job that outlives this for good; an attempt stops itself well before, and a
    # killed worker's job is picked up again after about this long plus 10 s.
    job_timeout_s: float = Field(20.0, ge=2, le=600)
    shutdown_wait_s: float = Field(25.0, ge=0, le=3600)
    metrics_port: int = Field(9091, ge=0, le=65535)
    health_check_interval_s: float = Field(5.0, gt=0, le=300)
    # How often a worker moves due scheduled events into their lines.
    schedule_poll_s: float = Field(0.25, gt=0, le=60)
    # How often a worker looks for lines whose head lost its job, and trims the indexes.
    sweep_interval_s: float = Field(30.0, gt=0, le=3600)


class RetrySettings(BaseModel):
    base_delay_s: float = Field(1.0, gt=0)
    max_delay_s: float = Field(300.0, gt=0)
    max_attempts: int = Field(12, ge=1)
    max_age_s: float = Field(6 * 3600.0, gt=0)
    rate_limited_floor_s: float = Field(5.0, ge=0)


class PaceSettings(BaseModel):
    """Limits for one provider, shared by every worker process through Redis."""

    requests_per_second: float = Field(20.0, gt=0)
    max_concurrency: int = Field(8, ge=1)
    # A step waits this long for a slot in place; longer waits give the job back to the queue.
    max_wait_in_place_s: float = Field(2.0, ge=0)
    breaker_failures: int = Field(5, ge=1)
    breaker_cooldown_s: float = Field(30.0, gt=0)


class PaceTable(BaseModel):
    qonversion: PaceSettings = Field(default_factory=PaceSettings)
    convert: PaceSettings = Field(default_factory=PaceSettings)
    # Outcome callbacks, paced and circuit-broken per destination host ("callback:<host>").
    callback: PaceSettings = Field(default_factory=PaceSettings)

    def of(self, provider: str) -> PaceSettings:
        found = getattr(self, provider.partition(":")[0], None)
        return found if isinstance(found, PaceSettings) else PaceSettings()


class RulesSettings(BaseModel):
    """EXPBRIDGE_RULES__*: lifecycle rules (the rules themselves are in the YAML file)."""

    # Every rule only evaluates and records what it would do, whatever its own dry_run says.
    dry_run: bool = False
    # How many evaluations GET /v1/rules/evaluations keeps (newest first).
    evaluations_kept: int = Field(1000, ge=10, le=100_000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXPBRIDGE_",
        env_nested_delimiter="__",
        secrets_dir=str(SECRETS_DIR) if SECRETS_DIR.is_dir() else None,
        extra="ignore",
    )

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    redis_url: str | None = None
    redis_password: SecretStr | None = None
    redis_sentinels: str | None = None
    redis_sentinel_master: str = "mymaster"
    # NoDecode: parsed by _sources_json, so an empty variable means "no sources".
    sources: Annotated[dict[str, SourceCredentials], NoDecode] = Field(default_factory=dict)
    admin_token: SecretStr | None = None
    # How long an operator console sign-in lasts (/ui), from signing in.
    console_session_ttl_s: int = Field(8 * 3600, ge=60, le=7 * 24 * 3600)
    console_signin: SigninLimits = Field(default_factory=SigninLimits)
    # Bearer token for GET /metrics (ingress and worker); unset: open, as Prometheus expects.
    metrics_token: SecretStr | None = None
    qonversion: QonversionSettings = Field(default_factory=QonversionSettings)
    convert: ConvertSettings = Field(default_factory=ConvertSettings)
    config: Path | None = None
    data_dir: Path = Path(".expbridge")
    sandbox_url: str = "http://127.0.0.1:8090"
    queue_name: str = keys.DEFAULT_QUEUE
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    event_retention_s: int = Field(7 * 24 * 3600, ge=1)
    # A Redis command that gets no answer this long fails (503 at the ingress, a retry for a
    # job): a frozen Redis costs a bounded wait, never a hung request.
    redis_socket_timeout_s: float = Field(2.0, gt=0, le=60)
    # How far ahead an event's not_before may be.
    max_schedule_ahead_s: int = Field(90 * 24 * 3600, ge=1)
    idempotency_ttl_s: int = Field(24 * 3600, ge=24 * 3600)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    pace: PaceTable = Field(default_factory=PaceTable)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @field_validator("sources", mode="before")
    @classmethod
    def _sources_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return {}
            try:
                return json.loads(value)
            except ValueError as error:
                raise ValueError(f"not valid JSON: {error}") from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("redis_sentinels", mode="before")
    @classmethod
    def _sentinel_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                return None
            parse_sentinels(value)
        return value

    @model_validator(mode="after")
    def _one_redis(self) -> Settings:
        if self.redis_url is not None and self.redis_sentinels is not None:
            raise ValueError("set EXPBRIDGE_REDIS_URL or EXPBRIDGE_REDIS_SENTINELS, not both")
        return self

    def allows_metrics(self, authorization: str | None) -> bool:
        """GET /metrics is open unless EXPBRIDGE_METRICS_TOKEN is set; then it takes that bearer."""
        if self.metrics_token is None:
            return True
        scheme, _, token = (authorization or "").partition(" ")
        expected = self.metrics_token.get_secret_value().encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    @property
    def sentinel_hosts(self) -> list[tuple[str, int]]:
        return parse_sentinels(self.redis_sentinels) if self.redis_sentinels else []

    def unsafe_bind_reason(self) -> str | None:
        """Why the ingress must not listen as configured (only the ingress listens)."""
        loopback = self.host in {"127.0.0.1", "localhost", "::1"}
        if not loopback and not self.sources:
            return (
                f"EXPBRIDGE_HOST={self.host} is not loopback but no EXPBRIDGE_SOURCES are set: "
                "refusing to listen unauthenticated on the network"
            )
        return None

    @property
    def job_expiry_ms(self) -> int:
        """arq job keys must outlive the longest retry schedule; a day of margin."""
        return int((self.retry.max_age_s + 24 * 3600) * 1000)

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None and self.redis_sentinels is None

    @property
    def qonversion_is_sandbox(self) -> bool:
        return self.qonversion.secret_key is None

    @property
    def convert_is_sandbox(self) -> bool:
        return self.convert.app_id is None
