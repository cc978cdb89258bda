"""Redis from settings: one URL, or Sentinel (parsed, validated, and used against a real one)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from expbridge.cli.redis_server import RedisServer, find_redis_server, free_port
from expbridge.config.loading import ConfigError, load_settings
from expbridge.events.store.connection import create_redis, redis_settings


def test_sentinels_parse_into_hosts_with_the_master_and_password() -> None:
    settings = load_settings(
        redis_sentinels="sentinel-0:26379, sentinel-1.redis:26380,[::1]:26381",
        redis_sentinel_master="expbridge-master",
        redis_password="s3cret",
    )
    parsed = redis_settings(settings)
    assert parsed.sentinel is True
    assert parsed.host == [("sentinel-0", 26379), ("sentinel-1.redis", 26380), ("::1", 26381)]
    assert parsed.sentinel_master == "expbridge-master"
    assert parsed.password == "s3cret"
    assert not settings.uses_embedded_redis


def test_sentinel_master_defaults_to_mymaster() -> None:
    assert redis_settings(load_settings(redis_sentinels="s:26379")).sentinel_master == "mymaster"


def test_url_keeps_working_and_the_password_setting_wins() -> None:
    settings = load_settings(redis_url="redis://r.example:6380/2", redis_password="pw")
    parsed = redis_settings(settings)
    assert (parsed.host, parsed.port, parsed.database, parsed.password) == (
        "r.example",
        6380,
        2,
        "pw",
    )
    assert parsed.sentinel is False


@pytest.mark.parametrize("value", ["sentinel-0", "sentinel-0:", ":26379", "a:1,b:port", "a:70000"])
def test_a_malformed_sentinel_list_stops_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="EXPBRIDGE_REDIS_SENTINELS"):
        load_settings(redis_sentinels=value)


def test_an_empty_sentinel_list_means_none() -> None:
    assert load_settings(redis_sentinels=" ").redis_sentinels is None


def test_url_and_sentinels_together_are_refused() -> None:
    with pytest.raises(ConfigError, match="not both"):
        load_settings(redis_url="redis://127.0.0.1:6379/0", redis_sentinels="s:26379")


@pytest.fixture
def sentinel_port(redis_server: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A real redis-sentinel watching the session's redis-server as master `mymaster`."""
    port = free_port()
    config = tmp_path / "sentinel.conf"  # sentinel rewrites its config file, so a fresh one
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor mymaster 127.0.0.1 {redis_server.port} 1\n"
    )
    process = subprocess.Popen(
        [find_redis_server(), str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "sentinel did not start"
                time.sleep(0.02)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_pool_through_a_real_sentinel_reaches_the_master(
    redis_url: str, sentinel_port: int
) -> None:
    settings = load_settings(redis_sentinels=f"127.0.0.1:{sentinel_port}", queue_name="q:sentinel")
    redis = await create_redis(settings)
    try:
        await redis.set("expbridge:test:via-sentinel", "1")
        job = await redis.enqueue_job("process_event", "evt_1", 1, _job_id="evt_1.1")
        assert job is not None
    finally:
        await redis.aclose()
    direct = await create_redis(load_settings(redis_url=redis_url, queue_name="q:sentinel"))
    try:
        assert await direct.get("expbridge:test:via-sentinel") == b"1"
        assert await direct.zcard("q:sentinel") == 1
    finally:
        await direct.aclose()


async def test_commands_are_packed_by_hiredis_and_behave_as_before(redis_url: str) -> None:
    from redis.exceptions import DataError

    redis = await create_redis(load_settings(redis_url=redis_url))
    try:
        await redis.set("expbridge:test:packing", "é", px=60_000)
        assert await redis.get("expbridge:test:packing") == "é".encode()
        assert await redis.zadd("expbridge:test:packing:z", {"a": 1.5}) == 1
        assert await redis.zrangebyscore("expbridge:test:packing:z", float("-inf"), 2) == [b"a"]
        assert (await redis.config_get("maxmemory"))["maxmemory"] is not None  # "CONFIG GET"
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr("expbridge:test:packing:n")
            pipe.delete("expbridge:test:packing", "expbridge:test:packing:z")
            assert (await pipe.execute())[1] == 2
        with pytest.raises(DataError):
            await redis.set("expbridge:test:packing", None)  # type: ignore[arg-type]
        connection = redis.connection_pool.make_connection()
        assert type(connection).__name__.startswith("HiredisPacked")
        await connection.disconnect()
    finally:
        await redis.aclose()
