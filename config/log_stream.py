"""Where log lines go: stdout, one write per turn of the event loop.

Every line was one write system call, and the accept route writes one line per request: on a
virtual machine, where a system call is dear, that was a few per cent of a request
(bench/accept_throughput.py). So the lines written during one turn of the event loop are kept
in order and leave together at its end, in one write, before the loop waits for anything.
Outside a running loop (start-up, the CLI, another thread such as the span exporter's), a line
is written at once, after any still waiting, so the order of lines is always the order they
were written. Lines still waiting when the process exits are written by an exit hook; a
process killed outright loses at most the lines of the turn it was in.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from typing import TextIO


class LoopTurnStream:
    """A text stream for log lines (structlog's, the stdlib handler's) in front of `stream`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._waiting: list[str] = []
        self._lock = threading.Lock()
        # The loop last found running, and its thread: asyncio.get_running_loop() makes a
        # getpid system call each time on Python 3.11, and most lines come from that loop.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        atexit.register(self.write_waiting)

    def _running_loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        if loop is not None and self._loop_thread == threading.get_ident() and loop.is_running():
            return loop  # a thread running a loop runs nothing outside it
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self._loop, self._loop_thread = loop, threading.get_ident()
        return loop

    def write(self, text: str) -> int:
        loop = self._running_loop()
        with self._lock:
            self._waiting.append(text)
            first = len(self._waiting) == 1
        if loop is None:
            self.write_waiting()
        elif first:
            loop.call_soon(self.write_waiting)
        return len(text)

    def flush(self) -> None:
        """Lines leave at the end of the loop's turn (at once outside a loop): nothing to do."""

    def write_waiting(self) -> None:
        with self._lock:
            lines, self._waiting = self._waiting, []
            if lines:  # under the lock: another thread's lines cannot overtake these
                self.stream.write("".join(lines))
                self.stream.flush()

    def close(self) -> None:
        """Write what waits; the stream in front of which this one was is left open."""
        self.write_waiting()
        atexit.unregister(self.write_waiting)

    def isatty(self) -> bool:
        return self.stream.isatty()
