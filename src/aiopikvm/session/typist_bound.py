"""What the answers to typing's pings prove (the bound in :mod:`.typist`'s docstring), kept
apart from sending them: times and positions in, the characters settled out."""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass


@dataclass(slots=True)
class Mark:
    """A ping sent after character ``pos - 1``, with ``events`` HID events sent before it."""

    pos: int
    events: int
    sent_at: float
    answer: asyncio.Future[int]


class PingBound:
    """The pings in flight (:attr:`marks`, oldest first) and what their answers prove: a
    character is settled once a ping sent after its ``U`` is answered."""

    __slots__ = ("applied_by", "applied_events", "delay", "marks", "waiting")

    def __init__(self, delay: float, events: int) -> None:
        """``events``: HID events already sent, which the HID applies first."""
        self.delay = delay
        self.marks: collections.deque[Mark] = collections.deque()
        self.waiting: collections.deque[tuple[float, int]] = collections.deque()  # (U, pos)
        self.applied_by = time.monotonic() + events * delay  # U of the last answer
        self.applied_events = 0

    def answered(self, mark: Mark) -> int:
        """Take in the answer to ``mark``, the oldest (popped by the caller): how many
        characters it settles (``text[:n]``; 0 for none yet)."""
        settled = 0
        while self.waiting and self.waiting[0][0] <= mark.sent_at:
            settled = max(settled, self.waiting.popleft()[1])
        self.applied_by = (
            max(time.monotonic(), self.applied_by)
            + (mark.events - self.applied_events) * self.delay
        )
        self.applied_events = mark.events
        self.waiting.append((self.applied_by, mark.pos))
        return settled

    def wait(self) -> float:
        """Seconds until a ping sent then would settle what is answered and not settled."""
        return max(self.waiting[0][0] - time.monotonic(), 0.0) if self.waiting else 0.0

    def drop(self) -> None:
        """Forget the pings in flight; an answer that still comes is matched to its ping."""
        for mark in self.marks:
            if mark.answer.done() and not mark.answer.cancelled():
                mark.answer.exception()  # retrieved: it is accounted for
            else:
                mark.answer.cancel()
        self.marks.clear()
