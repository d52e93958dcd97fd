"""The mouse in screen pixels: moves, clicks, drags and scrolls at a pixel of the captured
screen, converted to kvmd's absolute coordinates as its web UI does. Mixed into
:class:`~aiopikvm.PiKVMWebSocket` over the session's :class:`~.input.InputPath`."""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Final

from .._checks import (
    MAX_DRAG_STEPS,
    MAX_SCROLL,
    check_button,
    check_delay,
    check_int,
    check_timeout,
    invalid,
    show,
)
from ..errors import InvalidInputError, PiKVMError, PiKVMTimeoutError, WaitTimeoutError
from ..protocol.frames import MouseMoveInput, MouseWheelInput
from ..protocol.keys import DELTA_MAX
from ..protocol.pointer import to_absolute
from .actions import _shielded
from .input import InputPath
from .supervisor import Supervisor

DRAG_STEPS: Final = 10
DRAG_DELAY: Final = 0.01
"""Seconds between the moves of a drag (kvmd's web UI sends a move every 10 ms at most)."""


class Pointer:
    """Screen-pixel mouse input for a session."""

    _input: InputPath
    _run: Supervisor

    async def _move(self, x: int, y: int) -> None:
        await self._input.locked(self._input.encode(MouseMoveInput(x, y)))

    async def _button(self, button: str, state: bool | None = None) -> None:
        async with self._input.lock:
            await self._input.mouse_button(button, state)

    def screen_size(self) -> tuple[int, int]:
        """The captured screen's ``(width, height)`` in pixels, from the streamer's live
        state. Raises :class:`InvalidInputError` while it is unknown: the session has seen
        no streamer report yet (a ``stream=0`` session before the video ever ran), or the
        streamer has no signal from the host (its 640x480 is then a placeholder)."""
        streamer = self._run.state.live.device_state().streamer
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

    async def wait_for_screen_size(self, *, timeout: float | None = 10.0) -> tuple[int, int]:
        """The screen's size once the streamer reports it (see :meth:`screen_size`): on a
        session just opened with ``stream=True`` its first report takes a moment. Raises
        :class:`WaitTimeoutError` with the reason it stayed unknown when ``timeout``
        seconds pass first (None waits for ever)."""
        check_timeout(timeout, none_ok=True, zero_ok=True)

        def known(_: object) -> bool:
            with contextlib.suppress(InvalidInputError):
                return bool(self.screen_size())
            return False

        try:
            await self._run.wait_for(known, timeout=timeout)
        except PiKVMTimeoutError:
            try:
                self.screen_size()
            except InvalidInputError as unknown:
                raise WaitTimeoutError(f"{unknown} (waited {timeout} s)") from None
        return self.screen_size()

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
        await self._move(*self._absolute(x, y, screen_size))

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
        await self._move(*self._absolute(x, y, screen_size))
        await self._button(button)

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
        await self._move(*self._absolute(x1, y1, size))
        await self._button(button, True)
        try:
            for i in range(1, steps + 1):
                await asyncio.sleep(delay)
                x = x1 + (x2 - x1) * i / steps
                y = y1 + (y2 - y1) * i / steps
                await self._move(*self._absolute(x, y, size))
            await self._button(button, False)
        except BaseException:
            await _shielded(self._release_button(button))
            raise

    async def _release_button(self, button: str) -> None:
        with contextlib.suppress(PiKVMError):
            await self._button(button, False)

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
            await self._move(*target)
        rest_x, rest_y = dx, -dy
        while rest_x or rest_y:
            step_x = max(-DELTA_MAX, min(DELTA_MAX, rest_x))
            step_y = max(-DELTA_MAX, min(DELTA_MAX, rest_y))
            await self._input.locked(self._input.encode(MouseWheelInput(((step_x, step_y),))))
            rest_x -= step_x
            rest_y -= step_y


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
