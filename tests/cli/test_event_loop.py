"""After start-up the heap is frozen and young collections come rarer (cli/event_loop.py)."""

from __future__ import annotations

import subprocess
import sys


def test_freezing_the_heap_moves_start_up_out_and_raises_the_young_threshold() -> None:
    # In a process of its own: freezing is for the life of the process that does it.
    program = (
        "import gc\n"
        "from expbridge.cli.event_loop import YOUNG_COLLECTION_THRESHOLD, freeze_heap\n"
        "before = gc.get_threshold()\n"
        "freeze_heap()\n"
        "now, frozen = gc.get_threshold()[0], gc.get_freeze_count()\n"
        "print(before[0], now, YOUNG_COLLECTION_THRESHOLD, frozen)\n"
        "print(gc.get_threshold()[1:] == before[1:])\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    default, now, wanted, frozen = map(int, first.split())
    assert default == 700 and now == wanted > default
    assert frozen > 1000  # the modules start-up imported, at least
    assert second == "True"
