"""Where a key press or a mouse event becomes a frame and is sent: one frame build per
distinct input, the keys and buttons held, the HID's pace, and the session's input lock."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable
from types import TracebackType
from typing import Any

import websockets

from ..protocol.frames import (
    Input,
    KeyInput,
    MouseButtonInput,
)
from ..protocol.keys import FINISH_EXEMPT
from .config import SessionConfig
from .link import ROOM, Frame, closed_while_sending, write
from .state import HidClock, SessionState
from .supervisor import Supervisor


class InputLock:
    """The session's input, one user at a time, in the order they come: typing and a
    shortcut hold it from start to end, every other input for its send. So a key sent from
    another task while typing runs waits for the text to end, instead of landing in the
    middle of it (under typing's Shift, say). The task that holds it passes — typing's
    ``progress`` callback runs in typing's task — so nothing waits for itself; what the
    holders send themselves, and their clean-ups, go out without it.

    A single send takes it with :meth:`try_hold` — no await, no task lookup, when nobody
    holds or waits for it, which is nearly always — and waits in line otherwise. A release
    hands it straight to the first in line, so nothing can slip in between."""

    __slots__ = ("_depth", "_held", "_owner", "_waiters")

    def __init__(self) -> None:
        self._held = False
        self._owner: asyncio.Task[Any] | None = None  # the task holding it for a span
        self._depth = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_hold(self) -> bool:
        if self._held or self._waiters:
            return False
        self._held = True
        return True

    async def acquire(self) -> None:
        if self.try_hold():
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as it was cancelled: pass it on
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # it holds the lock now
                return
        self._held = False

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is None or task is not self._owner:
            await self.acquire()
            self._owner = task
        self._depth += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self.release()


class InputPath:
    """Sends input on the session's open connection, keeping track of what is held: a key
    or button counts as held from before its press is sent until after its release is (a
    cancelled send may still reach the device). Callers hold :attr:`lock` around what they
    send, or own it already (typing, shortcuts, clean-ups)."""

    __slots__ = ("_frames", "clock", "config", "lock", "run", "state")

    def __init__(
        self, config: SessionConfig, state: SessionState, clock: HidClock, run: Supervisor
    ) -> None:
        self.config = config
        self.state = state
        self.clock = clock
        self.run = run
        self.lock = InputLock()
        self._frames: dict[tuple[Any, ...], Frame] = {}  # built once per distinct input

    def encode(self, message: Input) -> Frame:
        return self.config.encode(message)

    def _key_frame(self, key: str, state: bool, finish: bool) -> Frame:
        frame = self._frames.get((key, state, finish))
        if frame is None:
            frame = self._frames[key, state, finish] = self.encode(KeyInput(key, state, finish))
        return frame

    def _button_frame(self, button: str, state: bool) -> Frame:
        frame = self._frames.get((button, state))
        if frame is None:
            frame = self._frames[button, state] = self.encode(MouseButtonInput(button, state))
        return frame

    def _sending(self, frame: Frame, events: int) -> Awaitable[None] | None:
        """Send ``frame``: written at once (``None``) when the link has room for it — nearly
        always — through websockets' protocol, with no timer, lock or await; else what
        sends it, to be awaited: websockets' ``send()`` if the connection is not open (it
        raises how it ended), the bounded :func:`~.link.write` if the link is backed up.
        Awaiting it may raise websockets' ``ConnectionClosed``; :meth:`send` says it as
        ours."""
        link = self.run.link
        if link is None:
            raise self.run.not_open()
        # Counted before the send: a cancelled send may still reach the device.
        clock, now = self.clock, time.monotonic()
        pace = clock.event_time if clock.typing_pace is None else clock.typing_pace
        clock.idle_at = (now if now > clock.idle_at else clock.idle_at) + events * pace
        conn = link.conn
        if conn.transport.get_write_buffer_size() + len(frame) < ROOM and not link.sending.locked():
            return None if conn.send_now(frame) else conn.send(frame)
        return write(self.config, link, frame)

    async def send(self, frame: Frame, events: int = 1) -> None:
        pending = self._sending(frame, events)
        if pending is not None:
            await self._settle(pending)

    async def key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """Send a key (see ``send_key``); the caller holds the lock, or needs not."""
        held = self.state.held_keys
        if state is None:
            press = self._key_frame(key, True, True)
            if key in FINISH_EXEMPT:  # kvmd leaves it down: the tap needs a release
                held[key] = None
                await self.send(press)
                await self.send(self._key_frame(key, False, False))
            else:
                await self.send(press, events=2)  # kvmd adds the release
            held.pop(key, None)  # the tap ends with the key up, held or not
            return
        frame = self._key_frame(key, state, finish)
        # The hot path: a press or a release, one frame, written at once.
        events = 2 if state and finish and key not in FINISH_EXEMPT else 1  # kvmd releases it
        if state and events == 1:
            held[key] = None
        pending = self._sending(frame, events)
        if pending is not None:
            await self._settle(pending)
        if not state:
            held.pop(key, None)

    async def _settle(self, pending: Awaitable[None]) -> None:
        try:
            await pending
        except websockets.ConnectionClosed as exc:
            raise closed_while_sending(self.config, exc) from None

    async def mouse_button(self, button: str, state: bool | None = None) -> None:
        held = self.state.held_buttons
        if state is not False:
            held[button] = None  # before the press: see the class
            await self.send(self._button_frame(button, True))
        if state is not True:
            await self.send(self._button_frame(button, False))
            held.pop(button, None)

    async def locked(self, frame: Frame) -> None:
        lock = self.lock
        if lock.try_hold():
            try:
                await self.send(frame)
            finally:
                lock.release()
        else:
            async with lock:
                await self.send(frame)

    async def release_all(self) -> None:
        """Release every key (last pressed first) and button held; without the lock."""
        for key in reversed(list(self.state.held_keys)):
            await self.key(key, False)
        for button in list(self.state.held_buttons):
            await self.mouse_button(button, False)


class Pacer:
    """Keeps frames to ``delay`` seconds per HID event, from a schedule: a frame is never
    sent before its time, and time lost in a slow send is not made up by a burst."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._next = time.monotonic()

    async def wait(self) -> None:
        wait = self._next - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def remaining(self) -> float:
        """Seconds until the next frame's time (0 if it has come)."""
        return max(self._next - time.monotonic(), 0.0)

    def sent(self, events: int) -> None:
        self._next = max(self._next, time.monotonic()) + events * self._delay
