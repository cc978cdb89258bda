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


# Container objects allocated (net) between two young-generation collections: CPython's
# default is 700. What a young collection walks is what is still alive, and on a busy ingress
# that is mostly the requests in flight (their requests, models, futures), about as many
# whatever the threshold; almost everything else a request allocates is freed by reference
# counting first. So collections 30 times rarer walk about the same each: 2-3 % of the accept
# path's CPU saved (bench/accept_throughput.py), for at most a few MB of cyclic garbage
# waiting a little longer.
YOUNG_COLLECTION_THRESHOLD = 20_000


def freeze_heap() -> None:
    """After start-up: what start-up built (modules, models, settings, the app) lives as long as
    the process, so move it out of the garbage collector's way; every later collection then
    walks only what requests and jobs allocate (bench/accept_throughput.py). Young collections
    come rarer from then on."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
