"""Redis connections from settings: one URL, or Sentinel (arq supports both)."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

from expbridge.config.settings import Settings
from expbridge.events.store.queue import job_deserializer, job_serializer


def redis_settings(settings: Settings) -> RedisSettings:
    password = settings.redis_password.get_secret_value() if settings.redis_password else None
    if settings.redis_sentinels:
        # The password is the master's (and replicas'); the sentinels are asked without one.
        return RedisSettings(
            host=settings.sentinel_hosts,
            sentinel=True,
            sentinel_master=settings.redis_sentinel_master,
            password=password,
            conn_timeout=2,
            conn_retries=2,
        )
    if settings.redis_url is None:
        raise ValueError(
            "no Redis configured: set EXPBRIDGE_REDIS_URL or EXPBRIDGE_REDIS_SENTINELS"
        )
    parsed = RedisSettings.from_dsn(settings.redis_url)
    if password is not None:
        parsed.password = password
    parsed.conn_timeout = 2
    parsed.conn_retries = 2
    return parsed


async def create_redis(settings: Settings) -> ArqRedis:
    return await create_pool(
        redis_settings(settings),
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
        default_queue_name=settings.queue_name,
    )
