"""`expbridge worker --check`: is some worker alive? (arq refreshes a health-check key.)"""

from __future__ import annotations

from expbridge.config.settings import Settings
from expbridge.events.store.connection import create_redis
from expbridge.workers.worker import health_check_key


async def worker_is_healthy(settings: Settings) -> bool:
    try:
        redis = await create_redis(settings)
    except Exception:
        return False
    try:
        return bool(await redis.exists(health_check_key(settings)))
    finally:
        await redis.aclose()
