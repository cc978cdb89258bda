"""Redis connections from settings: one URL, or Sentinel (arq supports both).

Commands are packed by hiredis (C) instead of redis-py's Python packer: redis-py 5, the newest
that arq allows (`redis<6`), packs asynchronous commands in Python, about 20 µs a command on
the accept path (bench/accept_throughput.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hiredis
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import DataError

from expbridge.config.settings import Settings
from expbridge.events.store.queue import job_deserializer, job_serializer


def _packed(args: tuple[Any, ...]) -> bytes:
    # Like redis-py: a command name with a space ("CONFIG GET") is several words.
    first = args[0]
    if isinstance(first, str | bytes) and len(words := first.split()) > 1:
        args = (*words, *args[1:])
    try:
        return hiredis.pack_command(args)
    except TypeError as error:
        raise DataError(str(error)) from None


class _HiredisPacking:
    """Mixed into the pool's connection class (TCP, TLS, Unix socket or Sentinel-managed)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        return [_packed(args)]

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        return [b"".join(_packed(tuple(command)) for command in commands)]


def _with_hiredis_packing(redis: ArqRedis) -> None:
    pool = redis.connection_pool
    base: type[AbstractConnection] = pool.connection_class
    if not issubclass(base, _HiredisPacking):
        pool.connection_class = type(f"HiredisPacked{base.__name__}", (_HiredisPacking, base), {})


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
    redis = await create_pool(
        redis_settings(settings),
        job_serializer=job_serializer,
        job_deserializer=job_deserializer,
        default_queue_name=settings.queue_name,
    )
    # create_pool's PING made one connection with the Python packer: drop it, the next is ours.
    _with_hiredis_packing(redis)
    await redis.connection_pool.disconnect()
    redis.connection_pool.reset()
    return redis
