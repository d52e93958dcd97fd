"""The simulated machine behind the HID: what it has been sent, and what it typed.

The emulator's HID worker hands events to :class:`Target` one by one, the way kvmd's
USB gadget writes reports to a real host. The target keeps the state a host would see
(keys and buttons down, the absolute pointer position, the keyboard LEDs it set) and the
text the keystrokes produced on a US-layout screen, so tests can assert on outcomes rather
than on frames.

The layout is a small table of its own (:class:`UsLayout`), kept apart from the rest so it
can later be replaced by the shared keyboard-layout module.

All reads are thread-safe: a thread-backed emulator's target is read from the test's thread
while the emulator's loop writes to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from ..protocol.keys import MODIFIERS

TargetEvent = tuple[str | int | bool, ...]
"""One entry of :attr:`Target.events`, e.g. ``("key", "KeyA", True)``.

Shapes: ``("key", name, pressed)``, ``("mouse_button", name, pressed)``,
``("mouse_move", x, y)``, ``("mouse_relative", dx, dy)``, ``("mouse_wheel", dx, dy)``,
``("clear",)`` (whatever was held released at once, as kvmd does when a session opens or
closes, or on ``hid/reset``; only logged when something was down) and ``("power", on)``.
"""


# ----- what the HID worker delivers ---------------------------------------------------


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


# ----- the target's keyboard layout ---------------------------------------------------


class Layout(Protocol):
    """Turns one key press into a change of the typed text."""

    def press(self, text: str, key: str, *, shift: bool, caps: bool, num: bool) -> str: ...


_US_PAIRS: Final[dict[str, tuple[str, str]]] = {
    **{f"Key{c}": (c.lower(), c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    **{f"Digit{d}": (d, s) for d, s in zip("1234567890", "!@#$%^&*()", strict=True)},
    "Minus": ("-", "_"),
    "Equal": ("=", "+"),
    "BracketLeft": ("[", "{"),
    "BracketRight": ("]", "}"),
    "Backslash": ("\\", "|"),
    "Semicolon": (";", ":"),
    "Quote": ("'", '"'),
    "Backquote": ("`", "~"),
    "Comma": (",", "<"),
    "Period": (".", ">"),
    "Slash": ("/", "?"),
    "Space": (" ", " "),
    "Tab": ("\t", "\t"),
    "Enter": ("\n", "\n"),
    "NumpadEnter": ("\n", "\n"),
    "NumpadDivide": ("/", "/"),
    "NumpadMultiply": ("*", "*"),
    "NumpadSubtract": ("-", "-"),
    "NumpadAdd": ("+", "+"),
}
_US_NUMLOCK: Final[dict[str, str]] = {
    **{f"Numpad{d}": d for d in "0123456789"},
    "NumpadDecimal": ".",
}


class UsLayout:
    """A US keyboard: Shift gives the upper symbol, Caps Lock only affects letters."""

    def press(self, text: str, key: str, *, shift: bool, caps: bool, num: bool) -> str:
        if key == "Backspace":
            return text[:-1]
        if num and key in _US_NUMLOCK:
            return text + _US_NUMLOCK[key]
        pair = _US_PAIRS.get(key)
        if pair is None:
            return text
        upper = shift != caps if key.startswith("Key") else shift
        return text + pair[1 if upper else 0]


# ----- the target ---------------------------------------------------------------------

_SHIFTS: Final = frozenset({"ShiftLeft", "ShiftRight"})
_SHORTCUT_MODIFIERS: Final = MODIFIERS - _SHIFTS
_LOCK_LEDS: Final = {"CapsLock": "caps", "NumLock": "num", "ScrollLock": "scroll"}
_KEY_SLOTS: Final = 6
"""kvmd's USB keyboard is 6-key rollover: a seventh key releases the other six first."""


class Target:
    """The simulated host. Read its state from any thread; only the emulator writes it."""

    def __init__(
        self,
        *,
        powered: bool = True,
        leds: tuple[bool, bool, bool] = (False, True, False),
        layout: Layout | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._layout: Layout = layout or UsLayout()
        self._powered = powered
        self._modifiers: set[str] = set()
        self._keys: list[str] = []
        self._buttons: set[str] = set()
        self._position = (0, 0)
        self._text = ""
        self._leds = {"caps": leds[0], "num": leds[1], "scroll": leds[2]}
        self._events: list[TargetEvent] = []
        self._listeners: list[Callable[[], None]] = []

    # ----- what tests read ------------------------------------------------------------

    @property
    def powered(self) -> bool:
        """Whether the host is on (its power LED, as the ATX board reads it)."""
        with self._lock:
            return self._powered

    @property
    def held_keys(self) -> frozenset[str]:
        """Names of the keys currently down, modifiers included."""
        with self._lock:
            return frozenset(self._modifiers | set(self._keys))

    @property
    def mouse_buttons(self) -> frozenset[str]:
        """Names of the mouse buttons currently down."""
        with self._lock:
            return frozenset(self._buttons)

    @property
    def mouse_position(self) -> tuple[int, int]:
        """The absolute pointer position, -32768..32767 on each axis, (0, 0) the centre."""
        with self._lock:
            return self._position

    @property
    def screen_text(self) -> str:
        """The text the keystrokes typed so far, read with a US layout."""
        with self._lock:
            return self._text

    @property
    def leds(self) -> dict[str, bool]:
        """The keyboard LEDs the host set: ``caps``, ``num``, ``scroll``."""
        with self._lock:
            return dict(self._leds)

    @property
    def events(self) -> list[TargetEvent]:
        """Every HID event the host received, oldest first (a copy)."""
        with self._lock:
            return list(self._events)

    # ----- what the emulator writes -----------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the writer's thread) after the power or the LEDs change."""
        self._listeners.append(listener)

    def set_powered(self, powered: bool) -> None:
        with self._lock:
            if powered == self._powered:
                return
            self._powered = powered
            # A host that goes down forgets what was held; nothing it gets is seen while off.
            self._modifiers.clear()
            self._keys.clear()
            self._buttons.clear()
            self._events.append(("power", powered))
        self._notify()

    def apply(self, event: HidEvent) -> None:
        """Deliver one HID event; a host that is off receives nothing."""
        leds_before = self.leds
        with self._lock:
            if not self._powered:
                return
            match event:
                case KeyEvent(key, state):
                    self._key(key, state)
                case ButtonEvent(button, state):
                    if state:
                        self._buttons.add(button)
                    else:
                        self._buttons.discard(button)
                    self._events.append(("mouse_button", button, state))
                case MoveEvent(x, y):
                    self._position = (x, y)
                    self._events.append(("mouse_move", x, y))
                case RelativeEvent(dx, dy):
                    self._events.append(("mouse_relative", dx, dy))
                case WheelEvent(dx, dy):
                    self._events.append(("mouse_wheel", dx, dy))
                case ClearEvent(keyboard, mouse):
                    held = (keyboard and bool(self._modifiers or self._keys)) or (
                        mouse and bool(self._buttons)
                    )
                    if keyboard:
                        self._modifiers.clear()
                        self._keys.clear()
                    if mouse:
                        self._buttons.clear()
                    if held:  # an empty report changes nothing the host could notice
                        self._events.append(("clear",))
        if self.leds != leds_before:
            self._notify()

    def _key(self, key: str, state: bool) -> None:
        # Mirrors kvmd's report logic: pressing a held key releases and presses it again,
        # releasing a key that is not down sends nothing.
        if key in MODIFIERS:
            if key in self._modifiers:
                self._modifiers.discard(key)
                self._events.append(("key", key, False))
            if state:
                self._modifiers.add(key)
                self._events.append(("key", key, True))
            return
        if key in self._keys:
            self._keys.remove(key)
            self._events.append(("key", key, False))
        elif state and len(self._keys) >= _KEY_SLOTS:
            for held in self._keys:
                self._events.append(("key", held, False))
            self._keys.clear()
        if state:
            self._keys.append(key)
            self._events.append(("key", key, True))
            self._type(key)

    def _type(self, key: str) -> None:
        led = _LOCK_LEDS.get(key)
        if led is not None:
            self._leds[led] = not self._leds[led]
            return
        if self._modifiers & _SHORTCUT_MODIFIERS:
            return  # Ctrl/Alt/Meta + key is a shortcut, not text
        self._text = self._layout.press(
            self._text,
            key,
            shift=bool(self._modifiers & _SHIFTS),
            caps=self._leds["caps"],
            num=self._leds["num"],
        )

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
