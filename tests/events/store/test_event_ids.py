"""Event ids: time-ordered, and their random part never handed out twice, not even across a
fork (the random digits are read from os.urandom a few KiB at a time)."""

from __future__ import annotations

import os
import re

from expbridge.events.store.acceptor import new_event_id

EVENT_ID = re.compile(r"^evt_[0-9a-f]{32}$")


def test_ids_are_unique_time_ordered_and_well_formed() -> None:
    ids = [new_event_id() for _ in range(5000)]  # several refills of the random digits
    assert all(EVENT_ID.match(event_id) for event_id in ids)
    assert len({event_id[-19:] for event_id in ids}) == len(ids)
    assert [event_id[:17] for event_id in ids] == sorted(event_id[:17] for event_id in ids)


def test_a_forked_child_never_draws_its_parents_random_digits() -> None:
    new_event_id()  # digits read and waiting in the parent
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next id, then out at once
        os.write(writer, new_event_id().encode())
        os._exit(0)
    os.close(writer)
    _, status = os.waitpid(child, 0)
    childs = os.read(reader, 64).decode()
    os.close(reader)
    assert os.waitstatus_to_exitcode(status) == 0
    assert EVENT_ID.match(childs)
    assert childs[-19:] != new_event_id()[-19:]
