"""The events waiting for :meth:`PiKVMWebSocket.events`: bounded in count and in bytes,
the oldest dropped first.

Until something iterates ``events()``, the queue keeps only the newest
:data:`UNREAD_QUEUE_BYTES` of frames, as their text: a session nobody reads (a fleet's
thousand, a script that only sends keys) then costs a few KiB, where a parsed event costs
~7 times its frame. Once ``events()`` runs, events wait parsed (read at once), up to
``max_queue`` of them and :data:`MAX_QUEUE_BYTES`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any, Final

from ..protocol.frames import parse_event

logger = logging.getLogger("aiopikvm")

MAX_QUEUE_BYTES: Final = 4 * 2**20
"""The most the events waiting for :meth:`PiKVMWebSocket.events` may add up to, counted as
the frames' sizes as received (4 MiB: four of the biggest frames a session accepts)."""
UNREAD_QUEUE_BYTES: Final = 2**14
"""The same before anything has iterated ``events()`` (16 KiB: the connect burst of a
real kvmd 4.206 is 5.4 KB, and what came after it)."""

Queued = tuple[dict[str, Any] | str, int]  # an event (or its frame's text) and its size


class EventQueue:
    """At most ``max_queue`` events and :data:`MAX_QUEUE_BYTES` (:data:`UNREAD_QUEUE_BYTES`
    until :attr:`reading`); once :meth:`close` d, it takes nothing more (nobody will read
    it)."""

    __slots__ = ("_bytes", "_events", "_max", "closed", "dropped", "reading", "ready")

    def __init__(self, max_queue: int) -> None:
        self._events: collections.deque[Queued] = collections.deque()
        self._max = max_queue
        self._bytes = 0
        self.dropped = 0
        self.closed = False
        self.reading = False  # events() has begun
        self.ready = asyncio.Event()  # set when an event comes, or the session ends

    def __len__(self) -> int:
        return len(self._events)

    def push(self, event: dict[str, Any], text: str, size: int) -> None:
        """Queue ``event``, whose frame was ``text`` (``size`` bytes on the wire)."""
        if self.closed:
            return  # nobody will read it: events() yields nothing after aclose()
        queue = self._events
        queue.append((event if self.reading else text, size))
        self._bytes += size
        limit = MAX_QUEUE_BYTES if self.reading else UNREAD_QUEUE_BYTES
        while len(queue) > self._max or (self._bytes > limit and len(queue) > 1):
            self._bytes -= queue.popleft()[1]
            self.dropped += 1
            if self.dropped == 1:
                logger.warning(
                    "event queue full (%d events or %d bytes): dropping the oldest events; "
                    "read events() or raise max_queue",
                    self._max,
                    limit,
                )
        self.ready.set()

    def pop(self) -> dict[str, Any]:
        event, size = self._events.popleft()
        self._bytes -= size
        if isinstance(event, str):  # queued before events() began: parsed again now
            event_type, body = parse_event(event)
            return {"event_type": event_type, "event": body}
        return event

    def close(self) -> None:
        """Discard what waits, and take nothing more."""
        self.closed = True
        self._events.clear()
        self._bytes = 0
