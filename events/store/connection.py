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
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import (
    BusyLoadingError,
    DataError,
    NoPermissionError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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


# asyncio's default high-water mark of a transport's write buffer: below it, drain() does not wait.
WRITE_BUFFER_HIGH_WATER = 64 * 1024


class _HiredisPacking(AbstractConnection):
    """Mixed into the pool's connection class (TCP, TLS, Unix socket or Sentinel-managed)."""

    def pack_command(self, *args: Any) -> list[bytes]:
        return [_packed(args)]

    def pack_commands(self, commands: Iterable[Iterable[Any]]) -> list[bytes]:
        return [b"".join(_packed(tuple(command)) for command in commands)]

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        """With a socket timeout, redis-py runs every write in asyncio.wait_for, a task per
        command (a tenth of a worker's Redis cost, bench/worker_throughput.py). A write that
        cannot wait needs no timeout: into an empty transport buffer, less than its high-water
        mark, writelines hands the bytes on and drain() returns at once. Only such writes go
        without; any other (a big pipeline, a buffer still full) keeps the timeout."""
        timeout = self.socket_timeout
        if timeout and self._cannot_wait(command):
            self.socket_timeout = None
            try:
                await super().send_packed_command(command, check_health)
            finally:
                self.socket_timeout = timeout
            return
        await super().send_packed_command(command, check_health)

    def _cannot_wait(self, command: bytes | str | Iterable[bytes]) -> bool:
        writer = self._writer
        if self.health_check_interval or writer is None:
            return False  # a health check's PING would read without the timeout
        if writer.transport.get_write_buffer_size() != 0:
            return False
        if not isinstance(command, list):
            return False
        return sum(len(part) for part in command) < WRITE_BUFFER_HIGH_WATER


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
    bound_socket_waits(redis, settings.redis_socket_timeout_s)
    await redis.connection_pool.disconnect()
    redis.connection_pool.reset()
    return redis


# What a Redis fault looks like from redis-py and asyncio: every one of them is weather (the
# ingress answers 503, a job runs again, a worker waits and starts polling again), never a bug.
REDIS_TROUBLE: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


def describe_redis_error(error: BaseException) -> str:
    """What happened, in words an operator can act on (never the command or its keys)."""
    if isinstance(error, OutOfMemoryError):
        return "Redis is out of memory (maxmemory reached) and refuses writes"
    if isinstance(error, NoPermissionError):
        return "Redis refuses the command (ACL permissions)"
    if isinstance(error, ReadOnlyError):
        return "Redis is a read-only replica (a failover under way?)"
    if isinstance(error, BusyLoadingError):
        return "Redis is loading its data set after a restart"
    if isinstance(error, RedisTimeoutError | TimeoutError):
        return "Redis did not answer in time"
    if isinstance(error, RedisConnectionError | OSError):
        return "Redis is unreachable"
    if isinstance(error, ResponseError) and str(error).startswith("BUSY"):
        return "Redis is busy running a script"
    return f"Redis failed ({type(error).__name__})"


def bound_socket_waits(redis: Redis, timeout_s: float) -> None:
    """A socket timeout on every connection of the pool (arq's settings have only a connect
    timeout): with Redis frozen, a command fails after `timeout_s` instead of hanging."""
    pool = redis.connection_pool
    pool.connection_kwargs["socket_timeout"] = timeout_s
    for connection in getattr(pool, "_available_connections", []):
        connection.socket_timeout = timeout_s
