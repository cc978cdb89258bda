"""Run the long-lived roles on uvloop when it is installed (a dependency on Linux and macOS),
else on asyncio's own loop. The accept path is CPU-bound in the event loop and aiohttp
(bench/accept_throughput.py), where uvloop's cheaper scheduling and I/O help most."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
