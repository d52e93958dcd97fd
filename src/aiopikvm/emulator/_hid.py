"""The HID: kvmd's OTG HID in front of the simulated USB host (its HTTP side: _hid_api).

Input from HTTP and from every WebSocket is turned into events for kvmd's three device
processes (keyboard, absolute mouse, relative mouse; :mod:`._hid_device`), which write
reports to the USB host that polls them every ``poll`` seconds (:mod:`._usb_host`). The
device keeps its own time: whatever looks at it (new input, a clear, a timer, however
late it runs) first runs it up to now. As on kvmd:

- the queues have no bound: input that comes faster than the host takes reports waits,
  and nothing is dropped for being late; a report the host does not take within kvmd's
  0.1 s (a host stalled or off) is skipped, but for the last one of a burst, which is
  tried again (``_hid_device``);
- a handler accepts input at once and the host sees it later, so an HTTP 200 or a
  silent WebSocket does not mean the key has reached the host;
- :meth:`Hid.clear_events` (called whenever a WebSocket session opens or closes) throws
  away everything still queued and sends each device's empty report;
- accepted input resets the inactivity counter when it is accepted, not when applied;
- a relative move while the mouse is absolute (and the reverse) is accepted and counted,
  then dropped by the mouse device;
- ``keyboard.leds`` are what the host last sent back in its LED output report (with
  ``led_echo=False``, a host that never sends one: kvmd's initial all-off);
- the keyboard and the mouse go ``online: false`` when the host powers off (kvmd's OTG HID
  sees the USB controller unconfigured, kvmd/plugins/hid/otg/device.py) or a report
  could not be written, and come back online only when a report is written to them
  again: a host that is back on shows offline until kvmd next sends it input, a
  session's opening or closing clears it, or kvmd's retries of a failed last report
  (150, about 15 s) get through.

``rate_limit`` is a slower link than USB (a CH9329 at 9600 baud takes about 45 events a
second): the host then polls no faster than that.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
import time
from collections.abc import Iterable, Iterator
from os import PathLike
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
from ._hid_device import DeviceProcess, KeyboardReports, MouseReports
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
from ._usb_host import UsbHost

logger = logging.getLogger("aiopikvm.emulator.hid")


_JIGGLER_POLL: Final = 1.0
_JIGGLER_STEP: Final = 0.1
_JIGGLE_ABSOLUTE: Final = (*([100, -100] * 5), 0)
_JIGGLE_RELATIVE: Final = (10, -10) * 5


class Hid:
    def __init__(
        self,
        target: Target,
        *,
        poll: float,
        broadcast: Broadcast,
        rate_limit: float | None = None,
        led_echo: bool = True,
        log: str | PathLike[str] | None = None,
    ) -> None:
        if rate_limit is not None and not rate_limit > 0:
            raise ValueError(f"hid_rate_limit must be a positive number, got {rate_limit!r}")
        if not 0 <= poll < math.inf:
            raise ValueError(f"hid_poll must be a number of seconds >= 0, got {poll!r}")
        recorded = _captures.result("hid.json")
        self._target = target
        self._keymaps = _captures.result("hid_keymaps.json")
        self._keyboard_outputs: dict[str, Any] = recorded["keyboard"]["outputs"]
        self._mouse_outputs: list[str] = list(recorded["mouse"]["outputs"]["available"])
        self._mouse_output: str = recorded["mouse"]["outputs"]["active"]
        self._jiggler: dict[str, Any] = dict(recorded["jiggler"])
        # The counter starts where the recorded device's stood, so that a reset shows at once.
        recorded_inactivity: int = _captures.result("hid_inactivity.json")["inactivity"]
        self._activity = _now() - recorded_inactivity
        self._last_move = (0, 0)
        self.publisher = StatePublisher("hid", broadcast, self.get_state)
        self._host = UsbHost(
            target,
            poll=max(poll, 1.0 / rate_limit if rate_limit else 0.0),
            led_echo=led_echo,
            log=log,
            on_output=lambda at, report: self._keyboard.output(at, report),
        )
        self._powered = target.powered
        # A host that echoes set the LEDs when it booted; kvmd starts with all off.
        leds = target.leds if led_echo else {"caps": False, "num": False, "scroll": False}
        now = time.monotonic()

        def device(name: str, reports: Any, **kwargs: Any) -> DeviceProcess:
            return DeviceProcess(
                self._host.endpoints[name],
                reports,
                now=now,
                online=self._powered,
                on_change=self.publisher.publish,
                **kwargs,
            )

        self._keyboard = device("keyboard", KeyboardReports(), leds=leds)
        self._mice = {
            "usb": device("mouse", MouseReports(absolute=True)),
            "usb_rel": device("mouse-alt", MouseReports(absolute=False)),
        }
        self._devices = (self._keyboard, *self._mice.values())
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = Tasks()
        target.add_listener(self.notify_state)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._host.open_log()
        self._tasks.spawn(self._jiggler_loop(), name="emulator-hid-jiggler")
        self._run()

    async def stop(self) -> None:
        await self._tasks.cancel_all()
        if self._timer is not None:
            self._timer.cancel()
        self._loop = self._timer = None
        self._host.close_log()

    # ----- state ----------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        leds = self._keyboard.leds or {}
        return {
            "enabled": True,
            "online": True,
            "busy": False,
            "connected": None,
            "keyboard": {
                "online": self._keyboard.online,
                "leds": {"caps": leds["caps"], "scroll": leds["scroll"], "num": leds["num"]},
                "outputs": copy.deepcopy(self._keyboard_outputs),
            },
            "mouse": {
                "outputs": {"available": list(self._mouse_outputs), "active": self._mouse_output},
                "online": self._mouse.online,
                "absolute": self._absolute,
            },
            "jiggler": dict(self._jiggler),
        }

    def get_keymaps(self) -> dict[str, Any]:
        return copy.deepcopy(self._keymaps)

    def notify_state(self) -> None:
        """The target's power changed (or its own lock state, which kvmd cannot see)."""
        powered = self._target.powered
        if powered != self._powered:
            self._powered = powered
            self._host.power_changed(time.monotonic(), powered)
            if not powered:
                for device in self._devices:
                    device.set_online(False)
            self._schedule()
        self.publisher.publish()

    def inactivity(self) -> int:
        return _now() - self._activity

    @property
    def _absolute(self) -> bool:
        return self._mouse_output != "usb_rel"

    @property
    def _mouse(self) -> DeviceProcess:
        return self._mice["usb_rel" if self._mouse_output == "usb_rel" else "usb"]

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
        # BaseHid.send_key_event (kvmd/plugins/hid/__init__.py): a press with ``finish``
        # queues its release at once.
        if state and finish and key not in FINISH_EXEMPT:
            self._enqueue(self._keyboard, KeyEvent(key, True), KeyEvent(key, False))
        else:
            self._enqueue(self._keyboard, KeyEvent(key, state))
        self._bump()

    def send_mouse_button(self, button: str, state: bool) -> None:
        self._enqueue(self._mouse, ButtonEvent(button, state))
        self._bump()

    def send_mouse_move(self, x: int, y: int) -> None:
        self._last_move = (x, y)
        if self._absolute:
            self._enqueue(self._mouse, MoveEvent(x, y))
        self._bump()

    def send_mouse_relative(self, deltas: Iterable[tuple[int, int]], squash: bool) -> None:
        for dx, dy in _squashed(deltas, squash):
            if not self._absolute:
                self._enqueue(self._mouse, RelativeEvent(dx, dy))
            self._bump()

    def send_mouse_wheel(self, deltas: Iterable[tuple[int, int]], squash: bool) -> None:
        for dx, dy in _squashed(deltas, squash):
            self._enqueue(self._mouse, WheelEvent(dx, dy))
            self._bump()

    def clear_events(self) -> None:
        """Drop queued input and release everything (kvmd's ClearEvent on each of its
        devices); not activity."""
        for device in self._devices:
            self._clear(device)
        self._run()

    def _clear(self, device: DeviceProcess) -> None:
        now = time.monotonic()
        device.advance(now)
        device.queue.clear()
        device.put(now, ClearEvent())

    def _enqueue(self, device: DeviceProcess, *events: HidEvent) -> None:
        now = time.monotonic()
        device.advance(now)  # what happened before this input, with what was known then
        for event in events:
            device.put(now, event)
        device.advance(now)
        self._schedule()

    def _bump(self) -> None:
        self._activity = _now()

    def _run(self) -> None:
        """Run the devices and the host up to now, and again when next due."""
        now = time.monotonic()
        for device in self._devices:
            try:
                device.advance(now)
            except Exception:  # a bug must not stop the HID for good
                logger.exception("The HID device %s failed", device.endpoint.name)
        self._schedule()

    def _schedule(self) -> None:
        if self._loop is None:
            return
        due = min(device.due() for device in self._devices)
        if self._timer is not None:
            if self._timer.when() == due:
                return
            self._timer.cancel()
        self._timer = None if due == math.inf else self._loop.call_at(due, self._run)

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
        # kvmd's set_params clears the mouse it leaves (kvmd/plugins/hid/otg/__init__.py).
        if output not in self._mouse_outputs or output == self._mouse_output:
            return
        self._clear(self._mouse)
        self._mouse_output = output
        self._run()

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
