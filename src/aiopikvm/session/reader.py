"""The reader: one task per connection, taking every frame in — answering pings, folding
state events into the state, noticing queue losses, queueing the events for ``events()``.

Its interface is :func:`start_reader`: a :class:`~.link.Link`, the session's
:class:`~.state.SessionState` and :class:`~.queue.EventQueue`, and ``ended``, called
(synchronously, in the reader's task) when the connection is over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

import websockets

from ..errors import ProtocolError, RequestInfo
from ..protocol.frames import PONG_FRAME, parse_event
from .link import Link
from .queue import EventQueue
from .queue_watch import QueueWatch
from .state import SessionState

YIELD_EVERY: Final = 32
"""Frames the reader takes in a row before it lets the rest of the event loop run."""

_WATCHED: Final = frozenset({"pong", "hid_keymaps", "clients", "hid"})
"""The events the reader looks at itself: a ping's answer, and what QueueWatch reads."""

Ended = Callable[[Link, websockets.ConnectionClosed | None], None]


def start_reader(
    link: Link,
    state: SessionState,
    queue: EventQueue,
    *,
    stream: bool,
    request: RequestInfo,
    ended: Ended,
) -> asyncio.Task[None]:
    """Start reading ``link``: its events go to ``link.live`` and ``state``, and to
    ``queue`` (or ``link.backlog`` while there is one)."""
    link.reader = asyncio.create_task(
        _read_loop(link, state, queue, stream=stream, request=request, ended=ended),
        name="aiopikvm-ws-reader",
    )
    return link.reader


async def _read_loop(
    link: Link,
    state: SessionState,
    queue: EventQueue,
    *,
    stream: bool,
    request: RequestInfo,
    ended: Ended,
) -> None:
    merge, push, notify = link.live.merged.merge, queue.push, state.notify  # the hot loop's
    inbox = link.conn.inbox
    watch = QueueWatch(stream=stream, partial_count=state.partial_count)
    closed: websockets.ConnectionClosed | None = None
    frames = 0
    try:
        while True:
            message, size = inbox.pop() or await inbox.next()
            frames += 1
            if frames % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a flood of frames must not starve the loop
            if isinstance(message, bytes):
                if message == PONG_FRAME:
                    link.resolve_ping(state.clears)
                continue
            try:
                event_type, event = parse_event(message)
            except ProtocolError as exc:
                link.malformed.warn(f"ignoring a frame from the device: {exc}")
                continue
            if event_type in _WATCHED:
                if event_type == "pong":
                    link.resolve_ping(state.clears)
                elif watch.loses_queue(event_type, event):
                    state.clears += 1
                state.partial_count |= watch.partial_count
            try:
                merge(event_type, event, message)
            except ProtocolError as exc:
                link.refused.warn(f"{request}: {exc}")
            queued = {"event_type": event_type, "event": event}
            if link.backlog is None:
                push(queued, message, size)
            else:
                link.backlog.append((queued, message, size))
            notify()
    except websockets.ConnectionClosed as exc:
        closed = exc
    finally:
        ended(link, closed)
