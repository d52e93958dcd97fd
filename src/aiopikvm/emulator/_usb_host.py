"""The USB host behind kvmd's gadget: it polls each HID endpoint and reads the reports.

Each IN endpoint is as Linux's ``f_hid`` has it: one report pending at a time, the endpoint
writable again only once the host has polled it. The host polls every ``poll`` seconds
(on a fixed schedule, one report per poll per endpoint; 0 is an ideal host that takes a
report the moment it is written) unless it is off or stalled (:meth:`Target.stall_usb`, a
host busy in firmware or its bus suspended). A report pending when the host powers off is
lost (``f_hid`` completes it with ``-ESHUTDOWN``), and writes fail while it is off.

A report taken is read as a host's HID driver reads it: the keys, buttons and pointer it
holds against the previous report's, turned into the :class:`Target`'s events (a key in
this report and not in the last is a press, and so on), so a report that kvmd never wrote
is missing on the host exactly as it would be. Two liberties, both for the target's event
log only: kvmd's clear (an empty report after a session opens or closes) is logged as
``("clear",)``, and an absolute report carries kvmd's own coordinate along with its
15-bit one (``to_fixed`` is 2:1), so the target records the number the client sent (and
whether it was made for a move, which a host passes on even to where the pointer is).

When a lock key goes down, the host flips its lock state (the :class:`Target` does) and,
with ``led_echo``, sends the keyboard LEDs back in an output report one poll later (at
least 1 ms) as a host OS does; kvmd reads it (``_hid_device``). Every report taken can be
logged as a JSON line ``{"dev": ..., "ts": <epoch seconds>, "hex": ...}``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from typing import IO, Final

from ._hid_reports import (
    BUTTON_BITS,
    KEY_NAMES,
    LOCK_KEYS,
    MODIFIER_NAMES,
    led_report,
    parse_keyboard_report,
    parse_mouse_report,
)
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

DEVICES: Final = ("keyboard", "mouse", "mouse-alt")
"""kvmd's gadget functions: the keyboard, the absolute mouse and the relative one."""
_ABSOLUTE: Final = {"mouse": True, "mouse-alt": False}
_MIN_LATENCY: Final = 0.001
_EPSILON: Final = 1e-9


@dataclass(frozen=True, slots=True)
class Report:
    data: bytes
    clear: bool = False
    """kvmd's clear/reset report (its ``ClearEvent``)."""
    pointer: tuple[int, int] | None = None
    """The kvmd coordinate an absolute report's X and Y stand for."""
    moved: bool = False
    """Made for a move: the host passes it on even to where the pointer is (as Windows
    does; Linux's input core drops a repeated position)."""


class Endpoint:
    """One HID IN endpoint: at most one report waits for the host's next poll."""

    def __init__(self, name: str, host: UsbHost) -> None:
        self.name = name
        self._host = host
        self.pending: Report | None = None
        self._written = 0.0
        self._last_take = -math.inf
        self.freed = 0.0
        """When the endpoint last became writable."""

    @property
    def powered(self) -> bool:
        return self._host.powered

    @property
    def writable(self) -> bool:
        # Unplugged, f_hid fails writes at once rather than blocking (ESHUTDOWN).
        return self.pending is None or not self._host.powered

    def write(self, report: Report, at: float) -> bool:
        if not self._host.powered:
            return False
        self.pending, self._written = report, at
        return True

    def take_time(self) -> float:
        """When the host takes the pending report (``inf``: none, or nothing polls)."""
        if self.pending is None:
            return math.inf
        return self._host.next_poll(max(self._written, self._last_take + self._host.poll))

    def take(self, at: float) -> None:
        report, self.pending = self.pending, None
        self._last_take = self.freed = at
        if report is not None:
            self._host.receive(self.name, report, at)

    def drop(self, at: float) -> None:
        if self.pending is not None:
            self.pending, self.freed = None, at


class UsbHost:
    def __init__(
        self,
        target: Target,
        *,
        poll: float,
        led_echo: bool,
        log: str | PathLike[str] | None,
        on_output: Callable[[float, bytes], None],
    ) -> None:
        self._target = target
        self.poll = poll
        self._latency = max(poll, _MIN_LATENCY)
        self._led_echo = led_echo
        self._log_path = log
        self._log: IO[str] | None = None
        self._on_output = on_output
        self._last: dict[str, bytes] = {}
        self.endpoints = {name: Endpoint(name, self) for name in DEVICES}
        self._epoch_offset = time.time() - time.monotonic()
        self.powered = target.powered
        """The host's power as the HID last heard of it (:meth:`power_changed`)."""

    def open_log(self) -> None:
        if self._log_path is not None and self._log is None:
            self._log = open(self._log_path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            log.close()

    def next_poll(self, after: float) -> float:
        """The first poll at or after ``after`` (monotonic seconds) that happens."""
        if not self.powered:
            return math.inf
        at = after
        for _ in range(64):  # stalls are few; a bound all the same
            if self.poll > 0:
                at = math.ceil(at / self.poll - _EPSILON) * self.poll
            end = self._target.usb_stall_end(at)
            if end is None:
                return at
            at = end
        return math.inf

    def power_changed(self, at: float, powered: bool) -> None:
        """The host went off or came back: it forgets what it had read."""
        self.powered = powered
        self._last.clear()
        for endpoint in self.endpoints.values():
            endpoint.drop(at)

    # ----- reading reports ------------------------------------------------------------

    def receive(self, dev: str, report: Report, at: float) -> None:
        if self._log is not None:
            line = {"dev": dev, "ts": round(at + self._epoch_offset, 6), "hex": report.data.hex()}
            self._log.write(json.dumps(line) + "\n")
        previous = self._last.get(dev)
        self._last[dev] = report.data
        if dev == "keyboard":
            events = _keyboard_events(previous, report)
        else:
            events = _mouse_events(previous, report, absolute=_ABSOLUTE[dev])
        locks = self._led_echo and any(
            isinstance(e, KeyEvent) and e.state and e.key in LOCK_KEYS for e in events
        )
        leds = self._target.leds if locks else None
        for event in events:
            self._target.apply(event)
        if locks and self._target.leds != leds:
            self._on_output(at + self._latency, led_report(self._target.leds))


def _bits(mask: int) -> list[int]:
    return [1 << n for n in range(8) if mask & (1 << n)]


def _keyboard_events(previous: bytes | None, report: Report) -> list[HidEvent]:
    if report.clear:
        return [ClearEvent(keyboard=True, mouse=False)]
    old = previous or bytes(8)
    new = report.data
    parse_keyboard_report(new)  # the length checked
    old_mods, new_mods = old[0], new[0]
    old_slots, new_slots = old[2:], new[2:]
    events: list[HidEvent] = []
    if old_mods & ~new_mods:
        events += [KeyEvent(MODIFIER_NAMES[b], False) for b in _bits(old_mods & ~new_mods)]
    events += [KeyEvent(KEY_NAMES[c], False) for c in old_slots if c and c not in new_slots]
    if new_mods & ~old_mods:
        events += [KeyEvent(MODIFIER_NAMES[b], True) for b in _bits(new_mods & ~old_mods)]
    events += [
        KeyEvent(KEY_NAMES[c], True)
        for c in new_slots
        if c and c not in old_slots and c in KEY_NAMES  # a usage the host has no key for
    ]
    return events


_BUTTON_NAMES: Final = {bit: name for name, bit in BUTTON_BITS.items()}


def _mouse_events(previous: bytes | None, report: Report, *, absolute: bool) -> list[HidEvent]:
    buttons, x, y, wheel_x, wheel_y = parse_mouse_report(report.data, absolute=absolute)
    old_buttons, old_x, old_y = 0, 0, 0
    if previous is not None:
        old_buttons, old_x, old_y, _, _ = parse_mouse_report(previous, absolute=absolute)
    events: list[HidEvent] = []
    moved = report.moved or (x, y) != (old_x, old_y)
    if absolute and moved and report.pointer is not None:
        events.append(MoveEvent(*report.pointer))
    if not absolute and (x or y):
        events.append(RelativeEvent(x, y))
    if report.clear:
        events.append(ClearEvent(keyboard=False, mouse=True))
    else:
        for bit in _bits(old_buttons & ~buttons) + _bits(buttons & ~old_buttons):
            if bit in _BUTTON_NAMES:
                events.append(ButtonEvent(_BUTTON_NAMES[bit], bool(buttons & bit)))
    if wheel_x or wheel_y:
        events.append(WheelEvent(wheel_x, wheel_y))
    return events
