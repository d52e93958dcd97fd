"""What the HID hands the simulated target: one event per key, button, move or wheel
step, as the USB host reads it from a report (:mod:`._usb_host`), and the clear that
releases everything (kvmd's ClearEvent)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyEvent:
    key: str
    state: bool


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    button: str
    state: bool


@dataclass(frozen=True, slots=True)
class MoveEvent:
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class RelativeEvent:
    dx: int
    dy: int


@dataclass(frozen=True, slots=True)
class WheelEvent:
    dx: int
    dy: int


@dataclass(frozen=True, slots=True)
class ClearEvent:
    keyboard: bool = True
    mouse: bool = True


HidEvent = KeyEvent | ButtonEvent | MoveEvent | RelativeEvent | WheelEvent | ClearEvent
