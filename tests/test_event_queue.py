"""The queue behind ``events()``: what it yields is the event pushed, whether it waited
parsed or as its frame's text (past the event loop's budget for one turn)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from aiopikvm.session.queue import PARSED_PER_TURN, UNREAD_QUEUE_BYTES, EventQueue


def frame(index: int, size: int) -> tuple[dict[str, Any], str]:
    event: dict[str, Any] = {"event_type": "info", "event": {"index": index, "pad": "x" * size}}
    return event, json.dumps(event)


async def test_past_the_turns_budget_events_wait_as_text_and_come_back_the_same() -> None:
    queue = EventQueue(1024)
    queue.start_reading()
    size = PARSED_PER_TURN // 4
    pushed = [frame(i, size) for i in range(6)]
    for event, text in pushed:
        queue.push(event, text, len(text))
    popped = [queue.pop() for _ in pushed]
    assert popped == [event for event, _ in pushed]
    # The first four fit the budget (the fourth spends its last bytes): queued as they are.
    kept = [got is event for got, (event, _) in zip(popped, pushed, strict=True)]
    assert kept == [True] * 4 + [False] * 2


async def test_the_budget_is_the_loops_shared_by_its_queues_and_filled_each_turn() -> None:
    first, second = EventQueue(1024), EventQueue(1024)
    first.start_reading()
    second.start_reading()
    big, big_text = frame(0, PARSED_PER_TURN)
    first.push(big, big_text, len(big_text))  # one event a turn always waits parsed
    small, small_text = frame(1, 10)
    second.push(small, small_text, len(small_text))
    assert first.pop() is big
    again = second.pop()
    assert again == small
    assert again is not small  # the budget was spent, by the other queue
    await asyncio.sleep(0)  # the loop's next turn
    second.push(small, small_text, len(small_text))
    assert second.pop() is small


async def test_before_events_begins_everything_waits_as_text() -> None:
    queue = EventQueue(1024)
    event, text = frame(0, 10)
    queue.push(event, text, len(text))
    got = queue.pop()
    assert got == event
    assert got is not event


async def test_a_queue_nobody_reads_keeps_its_newest_events_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Keeping only the newest UNREAD_QUEUE_BYTES is what an unread queue is for (a session
    # that only types or sends input), not a reader falling behind.
    queue = EventQueue(1024)
    for index in range(8):
        event, text = frame(index, UNREAD_QUEUE_BYTES // 4)
        queue.push(event, text, len(text))
    assert queue.dropped > 0
    assert not [r for r in caplog.records if "event queue full" in r.getMessage()]


async def test_a_reader_that_falls_behind_is_warned_once(caplog: pytest.LogCaptureFixture) -> None:
    queue = EventQueue(4)
    for index in range(3):  # dropped before reading began: no warning
        event, text = frame(index, UNREAD_QUEUE_BYTES // 2)
        queue.push(event, text, len(text))
    queue.start_reading()
    for index in range(10):
        event, text = frame(index, 10)
        queue.push(event, text, len(text))
    warned = [r for r in caplog.records if "event queue full" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelname == "WARNING"
