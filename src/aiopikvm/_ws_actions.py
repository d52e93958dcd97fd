"""What a WebSocket session does on top of single keys and mouse events: typing text,
shortcuts, held keys, the mouse in screen pixels, and waiting for the live state.

Mixed into :class:`~aiopikvm.PiKVMWebSocket`; see its methods for the API.

Pacing of :meth:`SessionActions.type_text`, from kvmd's source
(``kvmd/plugins/hid/...``): every key press or release becomes one event on the HID's
queue, a ``multiprocessing`` queue with no size limit. A separate process takes one event
at a time and hands it to the hardware: on the USB gadget (``otg``) it writes a report to
``/dev/hidgN`` and waits up to 0.1 s for the host to take it — with more events queued, a
report the host has not taken by then is skipped, fresh input first; a CH9329 serial chip
(9600 baud by default) needs about 22 ms per event for the command and its answer; the
serial/SPI microcontrollers have a round trip per event and drop the *whole* queue on an
error. And whenever any session opens or closes, kvmd drops everything still queued.
So text sent faster than the slowest link drains sits in that queue, where an unrelated
session (another browser tab, a script's next ``kvm.type_text``) or a glitch throws it away.
How typing notices that, and goes on, is in :mod:`aiopikvm._typist`.

The default, ``delay=0.025`` s per HID event (40 events/s; a tap is two events, a press or
release of Shift/AltGr one), stays under the CH9329's 45 events/s, and near kvmd's own
``hid/print?slow=1`` (20 ms per event); about 20 plain characters per second. On a USB OTG
PiKVM the host sets the pace: it takes one report per poll (every 1-10 ms; firmware often
polls every 10 ms, 100 reports a second), and kvmd skips a report not taken within 0.1 s, so
a smaller ``delay`` is safe only at a rate measured on that host. Frames are not sent before
their time (the pace is kept from a schedule, so a slow send does not make the next ones
bunch up), and a ping follows every character: no more than ``ack_every`` characters go out
before kvmd has answered for the ones before them, so that a network stall that holds frames
back and then delivers them at once delivers at most that many.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from ._checks import (
    MAX_DRAG_STEPS,
    MAX_SCROLL,
    check_button,
    check_callable,
    check_delay,
    check_int,
    check_key,
    check_names,
    check_str,
    check_timeout,
    invalid,
    show,
)
from ._typist import Progress, Typist
from .errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    RequestInfo,
)
from .models import DeviceState
from .protocol.keys import DELTA_MAX, FINISH_EXEMPT
from .protocol.layout import LAYOUTS, Layout
from .protocol.pointer import to_absolute
from .protocol.typing import TypingResult, plan_typing

DEFAULT_TYPING_DELAY: Final = 0.025
"""Seconds per HID event while typing (see the module docstring)."""
DEFAULT_ACK_EVERY: Final = 20
"""Characters typing sends at most before kvmd has answered for the ones before them."""
SHORTCUT_DELAY: Final = 0.05
"""Seconds between the presses and releases of a shortcut: what kvmd's own
``hid/events/send_shortcut`` waits."""
DRAG_STEPS: Final = 10
DRAG_DELAY: Final = 0.01
"""Seconds between the moves of a drag (kvmd's web UI sends a move every 10 ms at most)."""


class InputLock:
    """The session's input, one user at a time, in the order they come: typing and a
    shortcut hold it from start to end, every other input for its send. So a key sent from
    another task while typing runs waits for the text to end, instead of landing in the
    middle of it (under typing's Shift, say). The task that holds it passes — typing's
    ``progress`` callback runs in typing's task — so nothing waits for itself; what the
    holders send themselves, and their clean-ups, go out without it."""

    __slots__ = ("_depth", "_lock", "_owner")

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if task is None or task is not self._owner:
            await self._lock.acquire()
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
            self._lock.release()


class SessionActions:
    """Typing, shortcuts, held keys, the mouse in pixels and state waits for a session."""

    _state_changed: asyncio.Event | None = None
    _input_lock: InputLock | None = None

    if TYPE_CHECKING:
        # Provided by PiKVMWebSocket.
        _held_keys: dict[str, None]
        _close_error: ConnectionClosedError | None
        _request: RequestInfo

        @property
        def state(self) -> DeviceState: ...

        @property
        def _finished(self) -> bool: ...

        async def send_key(
            self, key: str, state: bool | None = None, *, finish: bool = False
        ) -> None: ...

        async def _key(
            self, key: str, state: bool | None = None, *, finish: bool = False
        ) -> None: ...

        async def send_mouse_button(self, button: str, state: bool | None = None) -> None: ...

        async def send_mouse_move(self, x: int, y: int) -> None: ...

        async def send_mouse_wheel(self, dx: int, dy: int) -> None: ...

        async def ping(self, timeout: float | None = 10.0) -> float: ...

    # ----- the live state -----------------------------------------------------------------

    def _notify_state_waiters(self) -> None:
        """Called by the reader after every event, and when the session ends."""
        changed, self._state_changed = self._state_changed, None
        if changed is not None:
            changed.set()

    async def wait_for(
        self, predicate: Callable[[DeviceState], bool], *, timeout: float | None
    ) -> DeviceState:
        """Wait until ``predicate(ws.state)`` holds, and return that state.

        The predicate is checked now and after every event the session receives, e.g.
        ``await ws.wait_for(lambda s: s.atx is not None and s.atx.leds.power, timeout=30)``.
        Raises :class:`PiKVMTimeoutError` when ``timeout`` seconds pass first (None waits
        for ever), :class:`ConnectionClosedError` if the session ends (with ``reconnect``,
        it waits across reconnects, on the state read afresh).
        """
        check_callable(predicate, "predicate")
        check_timeout(timeout, none_ok=True, zero_ok=True)
        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        while True:
            if self._finished:
                raise self._closed()
            state = self.state
            if predicate(state):
                return state
            if self._state_changed is None:
                self._state_changed = asyncio.Event()
            changed = self._state_changed
            try:
                async with asyncio.timeout_at(deadline):
                    await changed.wait()
            except TimeoutError:
                raise PiKVMTimeoutError(
                    f"{self._request}: the device state did not match within {timeout} s",
                    request=self._request,
                ) from None

    def _closed(self) -> ConnectionClosedError:
        return self._close_error or ConnectionClosedError(
            f"{self._request}: the session is not open", request=self._request
        )

    # ----- typing -------------------------------------------------------------------------

    async def type_text(
        self,
        text: str,
        *,
        layout: str | Layout = "en-us",
        delay: float = DEFAULT_TYPING_DELAY,
        progress: Progress | None = None,
        ack_every: int = DEFAULT_ACK_EVERY,
    ) -> TypingResult:
        """Type ``text`` on a target whose keyboard layout is ``layout``, and say how it went.

        ``layout`` is the layout configured on the *target's* OS, as a kvmd keymap name
        (``"de"``, ``"fr"``, ``"en-gb"``; :data:`aiopikvm.protocol.layout.LAYOUTS`). Each
        character becomes the keys that type it there — Shift, AltGr, a dead key and its
        base — each key tapped with ``finish`` (kvmd releases it at once). ``"\\n"`` is
        Enter, ``"\\t"`` Tab. The whole text is checked first: if any character cannot be
        typed on that layout, :class:`~aiopikvm.UntypableTextError` lists each one with its
        position, and nothing is sent. There is no length limit.

        Typing is paced at ``delay`` seconds per HID event (a tap is two): ``delay`` is
        taken as the time the device needs per event. A ping follows each character, and
        no more than ``ack_every`` characters go out before kvmd has answered for the ones
        before. The call returns once every character is known to have reached the
        target, with a :class:`~aiopikvm.TypingResult`. ``progress(typed, total)`` is
        called after each character. If Caps Lock is on (as the device reports it), it is
        switched off for the typing and back on after. Keys held on this session would
        turn the text into shortcuts, so they are refused. Typing owns the session's input
        while it runs: keys, mouse input, shortcuts and held keys sent from other tasks wait
        until it is done, so they can neither garble the text nor slip in unnoticed.

        When kvmd throws away the input in flight — another session opened or closed, or
        this one dropped and reconnected (``reconnect``) — typing goes on after the last
        character sent, never sending one twice, and the result's ``uncertain`` lists
        those that may not have arrived. When the connection is gone for good, it raises
        :class:`~aiopikvm.TypingInterruptedError` with that ``result``. kvmd takes input
        for a keyboard it reports offline (the host off or asleep, the cable unplugged) and
        drops it: typing then taps Shift, which types nothing, since kvmd notices a host
        that came back only once it writes to it, and raises
        :class:`~aiopikvm.KeyboardOfflineError` before any character if the keyboard stays
        offline; one going offline midway stops typing with the same error and its
        ``result``. Whatever the typing pressed is released before an exception or a
        cancellation propagates; the target may still hold a dead key then.
        """
        check_typing(layout, delay, ack_every, progress)
        plan = plan_typing(text, layout)
        if self._finished:
            raise self._closed()
        async with self._lock():
            if self._held_keys:
                raise InvalidInputError(
                    "keys are held on this session and would turn the text into shortcuts: "
                    + ", ".join(self._held_keys)
                )
            typist = Typist(
                self,  # type: ignore[arg-type]  # always a PiKVMWebSocket
                plan,
                len(text),
                delay=delay,
                ack_every=ack_every,
                progress=progress,
            )
            return await typist.run()

    def _lock(self) -> InputLock:
        if self._input_lock is None:
            self._input_lock = InputLock()
        return self._input_lock

    # ----- shortcuts and held keys --------------------------------------------------------

    async def send_shortcut(self, *keys: str, delay: float = SHORTCUT_DELAY) -> None:
        """Press ``keys`` in order, then release them in reverse: ``send_shortcut(
        "ControlLeft", "AltLeft", "Delete")``. The last key is pressed with ``finish`` so
        it cannot auto-repeat; ``delay`` seconds pass between steps, as in kvmd's own
        shortcut endpoint. Everything pressed is released, also on exception or
        cancellation."""
        _check_keys(keys, "send_shortcut")
        check_delay(delay)
        *chord, last = keys
        async with self._lock():
            pressed: list[str] = []  # each key before its press: a cancelled send may land
            try:
                for key in chord:
                    pressed.append(key)
                    await self._key(key, True)
                    await asyncio.sleep(delay)
                if last in FINISH_EXEMPT:
                    pressed.append(last)
                    await self._key(last, True)
                else:
                    await self._key(last, True, finish=True)
                while pressed:
                    await asyncio.sleep(delay)
                    await self._key(pressed[-1], False)
                    pressed.pop()
            finally:
                if pressed:
                    await _shielded(self._release_keys(pressed))

    @contextlib.asynccontextmanager
    async def held(self, *keys: str) -> AsyncIterator[None]:
        """Hold ``keys`` down for the ``async with`` block: pressed in order on entry,
        released in reverse on exit — normally, by an exception or by cancellation::

            async with ws.held("ShiftLeft"):
                await ws.click(100, 200)  # a shift-click

        The keys are pressed once typing or a shortcut running on the session has ended. A
        reconnect releases them (see :class:`~aiopikvm.PiKVMWebSocket`).
        """
        _check_keys(keys, "held")
        pressed: list[str] = []
        try:
            async with self._lock():
                for key in keys:
                    pressed.append(key)  # before the press: a cancelled send may land
                    await self._key(key, True)
            yield
        finally:
            if pressed:
                await _shielded(self._release_keys(pressed))

    async def _release_keys(self, pressed: list[str]) -> None:
        # Without the lock: a clean-up runs in a task of its own, while its owner holds it.
        with contextlib.suppress(PiKVMError):
            for key in reversed(pressed):
                await self._key(key, False)

    # ----- the mouse in screen pixels -----------------------------------------------------

    def screen_size(self) -> tuple[int, int]:
        """The captured screen's ``(width, height)`` in pixels, from the streamer's live
        state. Raises :class:`InvalidInputError` while it is unknown: the session has seen
        no streamer report yet (a ``stream=0`` session before the video ever ran), or the
        streamer has no signal from the host (its 640x480 is then a placeholder)."""
        streamer = self.state.streamer
        process = streamer.streamer if streamer is not None else None
        if process is None:
            raise InvalidInputError(
                "the screen's resolution is unknown: this session has no report from a running"
                " video streamer (open it with stream=True, or pass screen_size=(width, height))"
            )
        source = process.source
        if not source.online or source.resolution.width < 1 or source.resolution.height < 1:
            raise InvalidInputError(
                "the screen's resolution is unknown: the video streamer has no signal from the"
                " host (pass screen_size=(width, height) to use the mouse anyway)"
            )
        return source.resolution.width, source.resolution.height

    def _absolute(self, x: float, y: float, screen_size: tuple[int, int] | None) -> tuple[int, int]:
        width, height = self.screen_size() if screen_size is None else _size(screen_size)
        return (
            to_absolute(_pixel("x", x, width), width),
            to_absolute(_pixel("y", y, height), height),
        )

    async def move_to(
        self, x: float, y: float, *, screen_size: tuple[int, int] | None = None
    ) -> None:
        """Move the pointer to pixel ``(x, y)`` of the captured screen (``(0, 0)`` top left).

        Converted to kvmd's -32768..32767 as kvmd's web UI does, with the resolution from the
        streamer's live state (so it follows a change of video mode), or ``screen_size``.
        A pixel outside the screen raises :class:`InvalidInputError`."""
        await self.send_mouse_move(*self._absolute(x, y, screen_size))

    async def click(
        self,
        x: float,
        y: float,
        button: str = "left",
        *,
        screen_size: tuple[int, int] | None = None,
    ) -> None:
        """Move to pixel ``(x, y)`` and click ``button`` (press and release)."""
        check_button(button)
        await self.send_mouse_move(*self._absolute(x, y, screen_size))
        await self.send_mouse_button(button)

    async def drag(
        self,
        start: tuple[float, float],
        end: tuple[float, float],
        button: str = "left",
        *,
        steps: int = DRAG_STEPS,
        delay: float = DRAG_DELAY,
        screen_size: tuple[int, int] | None = None,
    ) -> None:
        """Press ``button`` at pixel ``start``, move to ``end`` in ``steps`` even moves
        ``delay`` seconds apart (so the host sees the pointer travel), and release it —
        also on exception or cancellation. At most 1000 steps, 10 s apart."""
        check_button(button)
        check_delay(delay)
        check_int(steps, "steps", low=1, high=MAX_DRAG_STEPS)
        path = [_pair(start, "start"), _pair(end, "end")]
        size = self.screen_size() if screen_size is None else _size(screen_size)
        (x1, y1), (x2, y2) = path
        self._absolute(x1, y1, size)
        self._absolute(x2, y2, size)  # both ends valid before anything is sent
        await self.send_mouse_move(*self._absolute(x1, y1, size))
        await self.send_mouse_button(button, True)
        try:
            for i in range(1, steps + 1):
                await asyncio.sleep(delay)
                x = x1 + (x2 - x1) * i / steps
                y = y1 + (y2 - y1) * i / steps
                await self.send_mouse_move(*self._absolute(x, y, size))
            await self.send_mouse_button(button, False)
        except BaseException:
            await _shielded(self._release_button(button))
            raise

    async def _release_button(self, button: str) -> None:
        with contextlib.suppress(PiKVMError):
            await self.send_mouse_button(button, False)

    async def scroll(
        self,
        dx: int = 0,
        dy: int = 0,
        *,
        at: tuple[float, float] | None = None,
        screen_size: tuple[int, int] | None = None,
    ) -> None:
        """Turn the wheel by ``dy`` notches down (negative: up) and ``dx`` right (negative:
        left), after moving to pixel ``at`` if given.

        The directions are the screen's (y grows downwards, as in :meth:`move_to`). kvmd's
        wheel follows USB HID, where positive y scrolls up, so ``dy`` is sent negated; more
        than 127 notches go out as several reports; at most 10000 notches per axis."""
        check_int(dx, "dx", low=-MAX_SCROLL, high=MAX_SCROLL)
        check_int(dy, "dy", low=-MAX_SCROLL, high=MAX_SCROLL)
        if screen_size is not None:
            _size(screen_size)
        target = None if at is None else self._absolute(*_pair(at, "at"), screen_size)
        if target is not None:
            await self.send_mouse_move(*target)
        rest_x, rest_y = dx, -dy
        while rest_x or rest_y:
            step_x = max(-DELTA_MAX, min(DELTA_MAX, rest_x))
            step_y = max(-DELTA_MAX, min(DELTA_MAX, rest_y))
            await self.send_mouse_wheel(step_x, step_y)
            rest_x -= step_x
            rest_y -= step_y


# ----- helpers --------------------------------------------------------------------------


async def _shielded(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run ``cleanup`` to the end even if the caller is cancelled (again) meanwhile."""
    await asyncio.shield(asyncio.ensure_future(cleanup))


def check_typing(layout: object, delay: float, ack_every: int, progress: object) -> None:
    """Refuse typing's arguments (but the text) before anything is sent."""
    if not isinstance(layout, Layout):
        check_str(layout, "layout", printable=True, max_length=64, expected="a layout name")
        if layout not in LAYOUTS:
            raise InvalidInputError(
                f"unknown layout {show(layout)}; layout must be one of {', '.join(LAYOUTS)}"
                " (or a Layout)"
            )
    check_delay(delay)
    check_int(ack_every, "ack_every", low=1)
    if progress is not None:
        check_callable(progress, "progress")


def _check_keys(keys: tuple[str, ...], call: str) -> None:
    check_names(keys, "keys", call, check_key)
    if not keys:
        raise InvalidInputError(f"{call}() needs at least one key")
    if len(set(keys)) != len(keys):
        raise InvalidInputError(f"a key appears twice in keys: {', '.join(keys)}")


def _size(size: tuple[int, int]) -> tuple[int, int]:
    if not isinstance(size, tuple | list) or len(size) != 2:
        raise invalid("screen_size", "(width, height)", size)
    width, height = size
    for value in (width, height):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise invalid("screen_size", "two positive ints", size)
    return width, height


def _pair(point: tuple[float, float], name: str) -> tuple[float, float]:
    if not isinstance(point, tuple | list) or len(point) != 2:
        raise invalid(name, "a pixel (x, y)", point)
    x, y = point
    return x, y


def _pixel(name: str, value: float, size: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{name} must be a pixel coordinate, got {show(value)}")
    if not 0 <= value < size:
        across = "wide" if name == "x" else "high"
        raise InvalidInputError(
            f"{name}={value} is off the screen: 0..{size - 1} on a screen {size} pixels {across}"
        )
    return value
