"""The HID: kvmd's input queue in front of the simulated target (its HTTP side: _hid_api).

Input from HTTP and from every WebSocket lands in one queue that a worker drains into the
target, ``delay`` seconds per event (with no delay, input reaches the target at once and
nothing is ever pending), and at most ``rate_limit`` events per second. The HID is a device
of its own, which the emulator's load does not slow down: each event gets the time it is
taken when it is queued, and whatever looks at the queue (a clear, the worker, however late
it runs) first hands the target every event taken by then. As on kvmd:

- the queue has no bound: input that comes faster than the target takes it waits, and
  nothing is dropped for being late (kvmd's HID processes read a ``multiprocessing``
  queue without a size limit);

- a handler accepts input at once and the target sees it later, so an HTTP 200 or a
  silent WebSocket does not mean the key has reached the host;
- :meth:`Hid.clear_events` (called whenever a WebSocket session opens or closes) throws
  away everything still queued and releases every key and button on the target;
- accepted input resets the inactivity counter when it is accepted, not when applied;
- a relative move while the mouse is absolute (and the reverse) is accepted and counted,
  then dropped by the mouse device;
- the keyboard and the mouse go ``online: false`` when the host powers off (kvmd's OTG HID
  sees the USB controller unconfigured, kvmd/plugins/hid/otg/device.py), and come back
  online only when a report is written to them again: a host that is back on shows
  offline until kvmd next sends it input (or a session's opening or closing clears it).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Final

from ..protocol.frames import (
    Input,
    KeyInput,
    MouseButtonInput,
    MouseMoveInput,
    MouseRelativeInput,
    MouseWheelInput,
)
from ..protocol.keys import DELTA_MAX, FINISH_EXEMPT, MOVE_MAX, MOVE_MIN
from . import _captures
from ._server import Broadcast
from ._subsystem import StatePublisher
from ._target import (
    ButtonEvent,
    ClearEvent,
    HidEvent,
    KeyEvent,
    MoveEvent,
    RelativeEvent,
    Target,
    WheelEvent,
)
from ._tasks import Tasks

logger = logging.getLogger("aiopikvm.emulator.hid")


_JIGGLER_POLL: Final = 1.0
_JIGGLER_STEP: Final = 0.1
_JIGGLE_ABSOLUTE: Final = (*([100, -100] * 5), 0)
_JIGGLE_RELATIVE: Final = (10, -10) * 5

_MOUSE_EVENTS: Final = (ButtonEvent, MoveEvent, RelativeEvent, WheelEvent)


class Hid:
    def __init__(
        self,
        target: Target,
        *,
        delay: float,
        broadcast: Broadcast,
        rate_limit: float | None = None,
    ) -> None:
        if rate_limit is not None and not rate_limit > 0:
            raise ValueError(f"hid_rate_limit must be a positive number, got {rate_limit!r}")
        recorded = _captures.result("hid.json")
        self._target = target
        self._delay = max(delay, 0.0)
        self._interval = 1.0 / rate_limit if rate_limit else 0.0
        self._due = 0.0  # (monotonic) when the last event queued is taken
        self._taken = 0.0  # (monotonic) when the last event handed to the target was taken
        self._keymaps = _captures.result("hid_keymaps.json")
        self._keyboard_outputs: dict[str, Any] = recorded["keyboard"]["outputs"]
        self._mouse_outputs: list[str] = list(recorded["mouse"]["outputs"]["available"])
        self._mouse_output: str = recorded["mouse"]["outputs"]["active"]
        self._jiggler: dict[str, Any] = dict(recorded["jiggler"])
        self._queue: deque[tuple[float, HidEvent]] = deque()  # (when it is taken, event)
        self._wakeup = asyncio.Event()
        # The counter starts where the recorded device's stood, so that a reset shows at once.
        recorded_inactivity: int = _captures.result("hid_inactivity.json")["inactivity"]
        self._activity = _now() - recorded_inactivity
        self._last_move = (0, 0)
        self.publisher = StatePublisher("hid", broadcast, self.get_state)
        # As kvmd's OTG flags: false once the host is off, true once a report is written.
        self._keyboard_online = self._mouse_online = target.powered
        self._tasks = Tasks()
        target.add_listener(self.notify_state)

    async def start(self) -> None:
        self._wakeup = asyncio.Event()  # bound to the loop the emulator runs on
        self._tasks.spawn(self._worker(), name="emulator-hid-worker")
        self._tasks.spawn(self._jiggler_loop(), name="emulator-hid-jiggler")

    async def stop(self) -> None:
        await self._tasks.cancel_all()

    # ----- state ----------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        leds = self._target.leds
        return {
            "enabled": True,
            "online": True,
            "busy": False,
            "connected": None,
            "keyboard": {
                "online": self._keyboard_online,
                "leds": {"caps": leds["caps"], "scroll": leds["scroll"], "num": leds["num"]},
                "outputs": copy.deepcopy(self._keyboard_outputs),
            },
            "mouse": {
                "outputs": {"available": list(self._mouse_outputs), "active": self._mouse_output},
                "online": self._mouse_online,
                "absolute": self._absolute,
            },
            "jiggler": dict(self._jiggler),
        }

    def get_keymaps(self) -> dict[str, Any]:
        return copy.deepcopy(self._keymaps)

    def notify_state(self) -> None:
        if not self._target.powered:
            self._keyboard_online = self._mouse_online = False
        self.publisher.publish()

    def inactivity(self) -> int:
        return _now() - self._activity

    @property
    def _absolute(self) -> bool:
        return self._mouse_output != "usb_rel"

    # ----- input ----------------------------------------------------------------------

    def send_input(self, message: Input) -> None:
        match message:
            case KeyInput(key, state, finish):
                self.send_key(key, state, finish)
            case MouseButtonInput(button, state):
                self.send_mouse_button(button, state)
            case MouseMoveInput(x, y):
                self.send_mouse_move(x, y)
            case MouseRelativeInput(deltas, squash):
                self.send_mouse_relative(deltas, squash)
            case MouseWheelInput(deltas, squash):
                self.send_mouse_wheel(deltas, squash)
            case _:
                pass

    def send_key(self, key: str, state: bool, finish: bool) -> None:
        self._enqueue(KeyEvent(key, state))
        if state and finish and key not in FINISH_EXEMPT:
            self._enqueue(KeyEvent(key, False))
        self._bump()

    def send_mouse_button(self, button: str, state: bool) -> None:
        self._enqueue(ButtonEvent(button, state))
        self._bump()

    def send_mouse_move(self, x: int, y: int) -> None:
        self._last_move = (x, y)
        if self._absolute:
            self._enqueue(MoveEvent(x, y))
        self._bump()

    def send_mouse_relative(self, deltas: Iterable[tuple[int, int]], squash: bool) -> None:
        for dx, dy in _squashed(deltas, squash):
            if not self._absolute:
                self._enqueue(RelativeEvent(dx, dy))
            self._bump()

    def send_mouse_wheel(self, deltas: Iterable[tuple[int, int]], squash: bool) -> None:
        for dx, dy in _squashed(deltas, squash):
            self._enqueue(WheelEvent(dx, dy))
            self._bump()

    def clear_events(self) -> None:
        """Drop queued input and release everything (kvmd's ClearEvent); not activity."""
        self._flush()
        self._queue.clear()
        self._due = self._taken  # what was dropped takes no time
        self._enqueue(ClearEvent())

    def _enqueue(self, event: HidEvent) -> None:
        # Taken `delay` after the event before it (or after now, on an idle HID), as a host
        # polls its keyboard, and no sooner than the rate limit allows.
        now = time.monotonic()
        due = max(max(self._due, now) + self._delay, self._due + self._interval)
        self._due = due
        if due <= now and not self._queue:
            # Without a delay the device keeps up with any client: nothing is ever pending.
            self._taken = due
            self._deliver(event)
            return
        self._queue.append((due, event))
        self._wakeup.set()

    def _flush(self) -> None:
        """Hand the target every queued event taken by now, however late this runs."""
        now = time.monotonic()
        while self._queue and self._queue[0][0] <= now:
            self._taken, event = self._queue.popleft()
            try:
                self._deliver(event)
            except Exception:  # a bug must not stop the HID for good
                logger.exception("Could not deliver a HID event")

    def _bump(self) -> None:
        self._activity = _now()

    async def _worker(self) -> None:
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await asyncio.sleep(max(self._queue[0][0] - time.monotonic(), 0.0))
            self._flush()

    def _deliver(self, event: HidEvent) -> None:
        # A report written (or not) tells kvmd whether the device is online. Releasing a key
        # that is not down writes no report (kvmd's keyboard process).
        keyboard = isinstance(event, KeyEvent) and (
            event.state or event.key in self._target.held_keys
        )
        keyboard = keyboard or (isinstance(event, ClearEvent) and event.keyboard)
        mouse = isinstance(event, _MOUSE_EVENTS) or (isinstance(event, ClearEvent) and event.mouse)
        self._target.apply(event)
        powered = self._target.powered
        if (keyboard and self._keyboard_online != powered) or (
            mouse and self._mouse_online != powered
        ):
            if keyboard:
                self._keyboard_online = powered
            if mouse:
                self._mouse_online = powered
            self.notify_state()

    async def _jiggler_loop(self) -> None:
        while True:
            await asyncio.sleep(_JIGGLER_POLL)
            if self._jiggler["active"] and self.inactivity() > self._jiggler["interval"]:
                try:
                    await self._jiggle()
                except Exception:
                    logger.exception("The mouse jiggler failed")

    async def _jiggle(self) -> None:
        if self._absolute:
            x, y = self._last_move
            for step in _JIGGLE_ABSOLUTE:
                self.send_mouse_move(_clamp_move(x + step), _clamp_move(y + step))
                await asyncio.sleep(_JIGGLER_STEP)
        else:
            for step in _JIGGLE_RELATIVE:
                self.send_mouse_relative(((step, step),), False)
                await asyncio.sleep(_JIGGLER_STEP)

    # ----- settings -------------------------------------------------------------------

    def set_params(self, *, mouse_output: str | None, jiggler_active: bool | None) -> None:
        """Apply what ``hid/set_params`` asked for (already validated), then tell the
        sessions."""
        if mouse_output is not None:
            self._set_mouse_output(mouse_output)
        if jiggler_active is not None:
            self._set_jiggler(jiggler_active)
        self.notify_state()

    def _set_mouse_output(self, output: str) -> None:
        # Only outputs this device has take effect; a valid but absent one is ignored.
        if output not in self._mouse_outputs or output == self._mouse_output:
            return
        self._flush()
        self._queue = deque(e for e in self._queue if not isinstance(e[1], _MOUSE_EVENTS))
        self._enqueue(ClearEvent(keyboard=False, mouse=True))
        self._mouse_output = output

    def _set_jiggler(self, active: bool) -> None:
        if self._jiggler["enabled"]:
            self._jiggler["active"] = active


def _squashed(deltas: Iterable[tuple[int, int]], squash: bool) -> Iterator[tuple[int, int]]:
    """kvmd's squash: add steps up while the running sum still fits in one report."""
    if not squash:
        yield from deltas
        return
    sum_x = sum_y = 0
    for dx, dy in deltas:
        if abs(sum_x + dx) > DELTA_MAX or abs(sum_y + dy) > DELTA_MAX:
            yield sum_x, sum_y
            sum_x, sum_y = dx, dy
        else:
            sum_x, sum_y = sum_x + dx, sum_y + dy
    if sum_x or sum_y:
        yield sum_x, sum_y


def _clamp_move(value: int) -> int:
    return min(max(value, MOVE_MIN), MOVE_MAX)


def _now() -> int:
    return int(time.monotonic())
