"""The events waiting for :meth:`PiKVMWebSocket.events`: bounded in count and in bytes,
the oldest dropped first."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, Final

logger = logging.getLogger("aiopikvm")

MAX_QUEUE_BYTES: Final = 4 * 2**20
"""The most the events waiting for :meth:`PiKVMWebSocket.events` may add up to, counted as
the frames' sizes as received (4 MiB: four of the biggest frames a session accepts)."""

Queued = tuple[dict[str, Any], int]  # an event and the size of its frame


class EventQueue:
    """At most ``max_queue`` events and :data:`MAX_QUEUE_BYTES`; once :meth:`close` d, it
    takes nothing more (nobody will read it)."""

    __slots__ = ("_bytes", "_events", "_max", "closed", "dropped", "ready")

    def __init__(self, max_queue: int) -> None:
        self._events: collections.deque[Queued] = collections.deque()
        self._max = max_queue
        self._bytes = 0
        self.dropped = 0
        self.closed = False
        self.ready = asyncio.Event()  # set when an event comes, or the session ends

    def __len__(self) -> int:
        return len(self._events)

    def push(self, event: dict[str, Any], size: int) -> None:
        if self.closed:
            return  # nobody will read it: events() yields nothing after aclose()
        queue = self._events
        queue.append((event, size))
        self._bytes += size
        while len(queue) > self._max or (self._bytes > MAX_QUEUE_BYTES and len(queue) > 1):
            self._bytes -= queue.popleft()[1]
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "event queue full (%d events or %d bytes): dropping the oldest events; "
                    "read events() or raise max_queue",
                    self._max,
                    MAX_QUEUE_BYTES,
                )
        self.ready.set()

    def pop(self) -> dict[str, Any]:
        event, size = self._events.popleft()
        self._bytes -= size
        return event

    def close(self) -> None:
        """Discard what waits, and take nothing more."""
        self.closed = True
        self._events.clear()
        self._bytes = 0
