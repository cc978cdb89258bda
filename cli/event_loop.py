"""Run the long-lived roles on uvloop when it is installed (a dependency on Linux and macOS),
else on asyncio's own loop. The accept path is CPU-bound in the event loop and aiohttp
(bench/accept_throughput.py), where uvloop's cheaper scheduling and I/O help most."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def freeze_heap() -> None:
    """After start-up: what start-up built (modules, models, settings, the app) lives as long as
    the process, so move it out of the garbage collector's way; every later collection then
    walks only what requests and jobs allocate (bench/accept_throughput.py)."""
    gc.collect()
    gc.freeze()
