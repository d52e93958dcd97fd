"""kvmd's OTG HID device processes, one per gadget function, run in simulated time.

What kvmd does (``kvmd/plugins/hid/otg/device.py``, ``BaseDeviceProcess``; the defaults
of ``otg/__init__.py``: ``select_timeout`` and ``queue_timeout`` 0.1 s, ``write_retries``
150), and so what this does:

- events wait in an unbounded queue; each becomes zero or more reports
  (``keyboard.py``, ``mouse.py``: a press one report, its release another);
- before *each* report, kvmd waits up to 0.1 s for the endpoint to be writable (it is
  once the host has taken the report before): a host that polls keeps everything, only
  later; one that does not poll within 0.1 s makes kvmd skip that report (``online``
  false) and go on with the next;
- the top of its loop (before each event) waits up to 0.1 s for the endpoint too, without
  skipping anything: a report is lost only if the host polls neither during that wait nor
  during its own, so the first report after a host stops polling survives a 0.2 s stall,
  and each event costs 0.2 s while it lasts;
- the last report of a burst is tried again, once the queue has been empty for 0.1 s,
  until it is written; a write that fails (the host is off) counts against 150 tries;
- a report written sets ``online`` true;
- at the top of its loop (after each event, and every 0.1 s when idle) the keyboard's
  process reads the host's LED output reports, all that came, and sets its ``leds``
  from each (``_process_read_report``); it publishes once per reading, so two changes
  read together show as their end state only (or as nothing, if they cancel out), as
  kvmd's ``poll_state`` compares each state with the last one it sent.

The loop is kvmd's, written as a generator that yields what it waits for; :meth:`advance`
resumes it whenever what it waits for has happened by then. So the device keeps its own
time: an emulator whose event loop is late still takes every report at the host's pace.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Final

from ..protocol.keys import MOVE_MIN
from ._hid_reports import (
    BUTTON_BITS,
    KEY_SLOTS,
    KEY_USAGES,
    MODIFIER_BITS,
    keyboard_report,
    mouse_report,
    parse_led_report,
    to_fixed,
)
from ._target import (
    ButtonEvent,
    ClearEvent,
    HidEvent,
    KeyEvent,
    MoveEvent,
    RelativeEvent,
    WheelEvent,
)
from ._usb_host import Endpoint, Report

logger = logging.getLogger("aiopikvm.emulator.hid")

SELECT_TIMEOUT: Final = 0.1
QUEUE_TIMEOUT: Final = 0.1
WRITE_RETRIES: Final = 150
_OUTPUTS_KEPT: Final = 64  # LED reports the kernel holds for kvmd (f_hid queues them)
_EPSILON: Final = 1e-9  # an echo due "at" a poll is there by that poll, whatever the rounding


@dataclass(frozen=True, slots=True)
class _Writable:
    deadline: float


@dataclass(frozen=True, slots=True)
class _Next:
    deadline: float
    idle: bool  # nothing to try again: kvmd's loop goes round without effect


_Wait = _Writable | _Next


class KeyboardReports:
    """kvmd's ``KeyboardProcess._process_event``: one report per change of its state."""

    def __init__(self) -> None:
        self._mods = 0
        self._slots: list[int | None] = [None] * KEY_SLOTS

    def __call__(self, event: HidEvent) -> Iterator[Report]:
        if isinstance(event, ClearEvent):
            self._mods, self._slots = 0, [None] * KEY_SLOTS
            yield Report(self._report(), clear=True)
        elif isinstance(event, KeyEvent) and event.key in MODIFIER_BITS:
            bit = MODIFIER_BITS[event.key]
            if self._mods & bit:
                self._mods &= ~bit
                yield Report(self._report())
            if event.state:
                self._mods |= bit
                yield Report(self._report())
        elif isinstance(event, KeyEvent) and event.key in KEY_USAGES:
            code = KEY_USAGES[event.key]
            if code in self._slots:
                self._slots[self._slots.index(code)] = None
                yield Report(self._report())
            elif event.state and None not in self._slots:
                self._slots = [None] * KEY_SLOTS  # a seventh key: all six go up first
                yield Report(self._report())
            if event.state:
                self._slots[self._slots.index(None)] = code
                yield Report(self._report())

    def _report(self) -> bytes:
        return keyboard_report(self._mods, self._slots)


class MouseReports:
    """kvmd's ``MouseProcess._process_event``, absolute or relative, with the horizontal
    wheel (kvmd's default)."""

    def __init__(self, *, absolute: bool, horizontal_wheel: bool = True) -> None:
        self.absolute = absolute
        self._wheel_x = horizontal_wheel
        self._buttons = 0
        self._pointer = (MOVE_MIN, MOVE_MIN)  # kvmd starts at fixed (0, 0)

    def __call__(self, event: HidEvent) -> Iterator[Report]:
        match event:
            case ClearEvent():
                self._buttons = 0
                yield self._report(clear=True)
            case ButtonEvent(button, state):
                bit = BUTTON_BITS[button]
                if self._buttons & bit:
                    self._buttons &= ~bit
                    yield self._report()
                if state:
                    self._buttons |= bit
                    yield self._report()
            case MoveEvent(x, y) if self.absolute:
                self._pointer = (x, y)
                yield self._report(moved=True)
            case RelativeEvent(dx, dy) if not self.absolute:
                yield self._report(move=(dx, dy))
            case WheelEvent(dx, dy):
                yield self._report(wheel=(dx, dy))

    def _report(
        self,
        *,
        clear: bool = False,
        moved: bool = False,
        move: tuple[int, int] = (0, 0),
        wheel: tuple[int, int] = (0, 0),
    ) -> Report:
        if self.absolute:
            x, y = (to_fixed(v) for v in self._pointer)
        else:
            x, y = move
        data = mouse_report(
            absolute=self.absolute,
            buttons=self._buttons,
            x=x,
            y=y,
            wheel_x=wheel[0] if self._wheel_x else None,
            wheel_y=wheel[1],
        )
        pointer = self._pointer if self.absolute else None
        return Report(data, clear=clear, pointer=pointer, moved=moved)


class DeviceProcess:
    """One of kvmd's HID processes and its endpoint; :meth:`advance` runs it."""

    def __init__(
        self,
        endpoint: Endpoint,
        reports: Callable[[HidEvent], Iterator[Report]],
        *,
        now: float,
        online: bool,
        on_change: Callable[[], None],
        leds: dict[str, bool] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._reports = reports
        self._on_change = on_change
        self.online = online
        self.leds = leds
        self._outputs: deque[tuple[float, bytes]] = deque(maxlen=_OUTPUTS_KEPT)
        self.queue: deque[tuple[float, HidEvent]] = deque()
        self._t = now
        self._loop = self._run()
        self._wait: _Wait = next(self._loop)

    # ----- what the rest of the emulator calls ------------------------------------------

    def put(self, at: float, event: HidEvent) -> None:
        self.queue.append((at, event))

    def output(self, at: float, report: bytes) -> None:
        """An output report from the host (the LEDs), readable from ``at`` on."""
        self._outputs.append((at, report))

    def set_online(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self._on_change()

    def advance(self, now: float) -> None:
        """Run the host's polls and kvmd's loop up to ``now`` (monotonic seconds)."""
        while True:
            take, resolved = self.endpoint.take_time(), self._resolution()
            if take <= min(resolved, now):
                self.endpoint.take(take)
                continue
            if resolved > now:
                return
            self._t = max(self._t, resolved)
            self._wait = self._loop.send(self._result())

    def due(self) -> float:
        """When :meth:`advance` next has something to do (``inf``: not before input)."""
        return min(self.endpoint.take_time(), self._resolution())

    # ----- the simulation -------------------------------------------------------------

    def _resolution(self) -> float:
        wait = self._wait
        if isinstance(wait, _Writable):
            if self.endpoint.writable:
                return max(self._t, self.endpoint.freed)
            take = self.endpoint.take_time()
            return take if take <= wait.deadline else wait.deadline
        if self.queue:
            arrival = max(self._t, self.queue[0][0])
            return arrival if wait.idle else min(arrival, wait.deadline)
        if not wait.idle:
            return wait.deadline
        if self._outputs and self.leds is not None:  # an idle loop comes round to read it
            waited = (self._outputs[0][0] - self._t) / QUEUE_TIMEOUT
            rounds = max(1, math.ceil(waited - _EPSILON))
            return self._t + rounds * QUEUE_TIMEOUT
        return math.inf

    def _result(self) -> bool | HidEvent | None:
        if isinstance(self._wait, _Writable):
            return self.endpoint.writable
        if self.queue and self.queue[0][0] <= self._t:
            return self.queue.popleft()[1]
        self._t = max(self._t, self._wait.deadline)
        return None

    def _run(self) -> Generator[_Wait, bool | HidEvent | None, None]:
        # BaseDeviceProcess.__subprocess, step for step.
        report: Report | None = None
        retries = 0
        while True:
            if (yield from self._ensure()):
                self._read_outputs()
            event = yield _Next(self._t + QUEUE_TIMEOUT, idle=retries == 0)
            if event is not None and not isinstance(event, bool):
                try:
                    for report in self._reports(event):
                        retries = WRITE_RETRIES
                        if (yield from self._ensure()) and self._write(report):
                            retries = 0
                except Exception:  # kvmd logs it and goes on; a bug must not stop the HID
                    logger.exception("Could not make the HID-%s reports", self.endpoint.name)
                continue
            if not self.endpoint.powered:
                self.set_online(False)  # kvmd's look at the UDC while the queue is idle
            if retries > 0 and report is not None and (yield from self._ensure()):
                if self._write(report):
                    retries = 0
                else:
                    retries -= 1

    def _ensure(self) -> Generator[_Wait, bool | HidEvent | None, bool]:
        writable = yield _Writable(self._t + SELECT_TIMEOUT)
        if not writable:
            self.set_online(False)
        return bool(writable)

    def _write(self, report: Report) -> bool:
        written = self.endpoint.write(report, self._t)
        self.set_online(written)
        return written

    def _read_outputs(self) -> None:
        if self.leds is None:
            return
        before = dict(self.leds)
        while self._outputs and self._outputs[0][0] <= self._t + _EPSILON:
            self.leds.update(parse_led_report(self._outputs.popleft()[1]))
        if self.leds != before:
            self._on_change()
