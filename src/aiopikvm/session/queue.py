"""The events waiting for :meth:`PiKVMWebSocket.events`: bounded in count and in bytes,
the oldest dropped first.

Until something iterates ``events()``, the queue keeps only the newest
:data:`UNREAD_QUEUE_BYTES` of frames, as their text: a session nobody reads (a fleet's
thousand, a script that only sends keys) then costs a few KiB, where a parsed event costs
~7 times its frame. Once ``events()`` runs, events wait parsed (read at once), up to
``max_queue`` of them and :data:`MAX_QUEUE_BYTES` — but only :data:`PARSED_PER_TURN` of them
across all the sessions of an event loop in one turn of it (see :class:`TurnBudget`); past
that, as their text again.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import weakref
from typing import Any, Final

from ..protocol.frames import parse_event

logger = logging.getLogger("aiopikvm")

MAX_QUEUE_BYTES: Final = 4 * 2**20
"""The most the events waiting for :meth:`PiKVMWebSocket.events` may add up to, counted as
the frames' sizes as received (4 MiB: four of the biggest frames a session accepts)."""
UNREAD_QUEUE_BYTES: Final = 2**14
"""The same before anything has iterated ``events()`` (16 KiB: the connect burst of a
real kvmd 4.206 is 5.4 KB, and what came after it)."""

PARSED_PER_TURN: Final = 2**19
"""The frame bytes that all the sessions of one event loop may queue for ``events()`` as
parsed events in one turn of the loop (512 KiB); past it, until the next turn, events wait
as their frames' text and are parsed again when ``events()`` yields them. A queued event
is taken only when the loop comes back to the reading task, after every reader woken in the
same turn had its go: with 1,000 sessions taking a device's burst at once, each reader's 32
frames waited parsed, ~60 KiB a session at the peak (bench ``sessions``, a task reading
events(): 116 -> 78 KiB RSS each). One session's step (the reader's ``YIELD_EVERY``
frames) stays far below it, and is never parsed twice."""

Queued = tuple[dict[str, Any] | str, int]  # an event (or its frame's text) and its size


class TurnBudget:
    """What is left of :data:`PARSED_PER_TURN` in this turn of one event loop (shared by
    its sessions: :meth:`of`); filled again at the loop's next turn."""

    __slots__ = ("__weakref__", "_loop", "armed", "left")

    _budgets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TurnBudget] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.left = PARSED_PER_TURN
        self.armed = False  # a refill is scheduled

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> TurnBudget:
        budget = cls._budgets.get(loop)
        if budget is None:
            budget = cls._budgets[loop] = cls(loop)
        return budget

    def arm(self) -> None:
        """Fill it again at the loop's next turn: called on the first spending of a turn
        (``left`` is then full; once it is spent, a refill is already on its way)."""
        self.armed = True
        self._loop.call_soon(self._refill)  # runs after everything ready in this turn

    def _refill(self) -> None:
        self.left = PARSED_PER_TURN
        self.armed = False


class EventQueue:
    """At most ``max_queue`` events and :data:`MAX_QUEUE_BYTES` (:data:`UNREAD_QUEUE_BYTES`
    until :attr:`reading`); once :meth:`close` d, it takes nothing more (nobody will read
    it)."""

    __slots__ = (
        "_budget",
        "_bytes",
        "_events",
        "_max",
        "_warned",
        "closed",
        "dropped",
        "reading",
        "ready",
    )

    def __init__(self, max_queue: int) -> None:
        self._events: collections.deque[Queued] = collections.deque()
        self._max = max_queue
        self._bytes = 0
        self.dropped = 0
        self._warned = False
        self.closed = False
        self.reading = False  # events() has begun: see start_reading()
        self._budget: TurnBudget | None = None
        self.ready = asyncio.Event()  # set when an event comes, or the session ends

    def __len__(self) -> int:
        return len(self._events)

    def start_reading(self) -> None:
        """``events()`` has begun, in the running loop: events wait parsed from now on,
        within the loop's :class:`TurnBudget`, up to the full bounds."""
        if self._budget is None:
            self._budget = TurnBudget.of(asyncio.get_running_loop())
        self.reading = True

    def push(self, event: dict[str, Any], text: str, size: int) -> None:
        """Queue ``event``, whose frame was ``text`` (``size`` bytes on the wire)."""
        if self.closed:
            return  # nobody will read it: events() yields nothing after aclose()
        queue = self._events
        budget = self._budget
        if budget is not None and budget.left > 0:  # so one event a turn always may, however big
            if not budget.armed:
                budget.arm()
            budget.left -= size
            queue.append((event, size))
        else:
            queue.append((text, size))
        self._bytes += size
        limit = MAX_QUEUE_BYTES if self.reading else UNREAD_QUEUE_BYTES
        while len(queue) > self._max or (self._bytes > limit and len(queue) > 1):
            self._bytes -= queue.popleft()[1]
            self.dropped += 1
            if self.reading and not self._warned:  # unread, keeping the newest is the design
                self._warned = True
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
        if isinstance(event, str):  # queued unread, or past the turn's budget: parsed again
            event_type, body = parse_event(event)
            return {"event_type": event_type, "event": body}
        return event

    def close(self) -> None:
        """Discard what waits, and take nothing more."""
        self.closed = True
        self._events.clear()
        self._bytes = 0
