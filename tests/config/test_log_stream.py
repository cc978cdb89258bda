"""Log lines leave once per turn of the event loop, in the order they were written, and none is
lost at exit."""

from __future__ import annotations

import asyncio
import io
import logging
import subprocess
import sys
import threading
from typing import Any

import pytest
import structlog

from expbridge.config.log_stream import LoopTurnStream
from expbridge.config.logging import configure_logging, info_line_writer


class RecordedWrites(io.StringIO):
    """stdout that keeps each write it was given, apart."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture(autouse=True)
def reset_structlog() -> Any:
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


async def test_lines_of_one_loop_turn_leave_in_one_write_in_order() -> None:
    stdout = RecordedWrites()
    stream = LoopTurnStream(stdout)
    for n in range(3):
        stream.write(f"line {n}\n")
    assert stdout.writes == []  # still this turn
    await asyncio.sleep(0)
    assert stdout.writes == ["line 0\nline 1\nline 2\n"]
    stream.write("line 3\n")
    await asyncio.sleep(0)
    assert stdout.writes[1:] == ["line 3\n"]
    stream.close()


def test_outside_a_loop_a_line_leaves_at_once() -> None:
    stdout = RecordedWrites()
    stream = LoopTurnStream(stdout)
    stream.write("at start-up\n")
    assert stdout.getvalue() == "at start-up\n"
    stream.close()


def test_after_its_loop_ends_a_line_leaves_at_once_and_a_new_loop_batches_its_own() -> None:
    """The stream remembers the loop it last found running: once that loop has ended, a line
    from its thread is written at once, and the next loop's lines wait for that loop's turn."""
    stdout = RecordedWrites()
    stream = LoopTurnStream(stdout)

    async def turn(text: str) -> int:
        stream.write(text)
        waiting = len(stdout.writes)
        await asyncio.sleep(0)
        return waiting

    assert asyncio.run(turn("first loop\n")) == 0
    stream.write("between loops\n")
    assert stdout.writes == ["first loop\n", "between loops\n"]
    assert asyncio.run(turn("second loop\n")) == 2  # waited for the second loop's turn
    assert stdout.writes[2:] == ["second loop\n"]
    stream.close()


async def test_another_threads_line_comes_after_the_lines_waiting() -> None:
    stdout = RecordedWrites()
    stream = LoopTurnStream(stdout)
    stream.write("loop line\n")
    thread = threading.Thread(target=stream.write, args=("exporter thread line\n",))
    thread.start()
    thread.join()
    await asyncio.sleep(0)
    assert stdout.getvalue() == "loop line\nexporter thread line\n"
    stream.close()


async def test_structlog_stdlib_and_the_fast_line_share_one_ordered_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = RecordedWrites()
    monkeypatch.setattr(sys, "stdout", stdout)
    configure_logging("json", "INFO")
    structlog.get_logger("expbridge.test").info("first")
    info_line_writer("expbridge.service")("second", {"status": 202})
    logging.getLogger("arq.worker").warning("third")
    await asyncio.sleep(0)
    events = [line.split('"event":"')[1].split('"')[0] for line in stdout.getvalue().splitlines()]
    assert events == ["first", "second", "third"]
    assert len(stdout.writes) == 1

    # Configured again over the same stdout: the same stream; over another, the old one's
    # waiting lines are written first.
    configured = structlog.get_config()["logger_factory"].stream
    configure_logging("json", "INFO")
    assert structlog.get_config()["logger_factory"].stream is configured
    structlog.get_logger("expbridge.test").info("waiting")
    monkeypatch.setattr(sys, "stdout", RecordedWrites())
    configure_logging("json", "INFO")
    assert '"event":"waiting"' in stdout.getvalue()


def test_lines_waiting_when_the_process_exits_are_written() -> None:
    # The loop stops in the turn that wrote the line, before the turn that would write it.
    program = (
        "import asyncio, structlog\n"
        "from expbridge.config.logging import configure_logging\n"
        "configure_logging('json', 'INFO')\n"
        "loop = asyncio.new_event_loop()\n"
        "def last():\n"
        "    structlog.get_logger('expbridge.test').info('last words')\n"
        "    loop.stop()\n"
        "loop.call_soon(last)\n"
        "loop.run_forever()\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert '"event":"last words"' in done.stdout
