"""The simulated machine behind the HID: what it has been sent, and what it typed.

The emulated USB host (:mod:`._usb_host`) reads the reports kvmd's gadget writes and hands
:class:`Target` the events they make, one by one. The target keeps the state a host would
see (keys and buttons down, the absolute pointer position, its lock state) and the
text the keystrokes produced on its console, so tests can assert on outcomes rather than
on frames.

The console reads keys as the target's OS does, set to its keyboard layout (``"en-us"``
unless told otherwise): :mod:`._keyboard` decodes them, dead keys, Caps Lock, the keypad
and all, so a client that types for another layout than the target's gets the wrong
characters here, exactly as on a real machine.

Enter types ``"\\n"``, Tab ``"\\t"``, Backspace deletes the last character (or, like
Escape, any other key without text and Scroll Lock, cancels an unfinished sequence).
:meth:`Target.write` stands for the host's own output (a prompt, a boot message).

A program the host runs (the emulated installer, :mod:`._installer`; a login,
:mod:`._login`) takes the keyboard with :meth:`Target.run`: the keys the OS decoded go to
its ``key`` instead of the console (Backspace as ``"\\b"`` and Escape as ``"\\x1b"`` when no
dead key is pending), it draws with :meth:`Target.write`, :meth:`Target.erase` and
:meth:`Target.show`, and its ``boot`` is called when the host powers on or is reset,
``halt`` when it powers off.

All reads are thread-safe: a thread-backed emulator's target is read from the test's thread
while the emulator's loop writes to it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from ..protocol.keys import MODIFIERS
from ..protocol.layout import Layout
from ._hid_events import (
    ButtonEvent,
    ClearEvent,
    HidEvent,
    KeyEvent,
    MoveEvent,
    RelativeEvent,
    WheelEvent,
)
from ._keyboard import Keyboard, resolve_layout
from ._widgets import Button

if TYPE_CHECKING:
    from ._installer import Installer

TargetEvent = tuple[str | int | bool, ...]
"""One entry of :attr:`Target.events`, e.g. ``("key", "KeyA", True)``.

Shapes: ``("key", name, pressed)``, ``("mouse_button", name, pressed)``,
``("mouse_move", x, y)``, ``("mouse_relative", dx, dy)``, ``("mouse_wheel", dx, dy)``,
``("clear",)`` (whatever was held released at once, as kvmd does when a session opens or
closes, or on ``hid/reset``; only logged when something was down) and ``("power", on)``.
"""


class Application(Protocol):
    """A program the host runs in place of its console (see :meth:`Target.run`)."""

    def boot(self) -> None: ...

    def halt(self) -> None: ...

    def key(self, text: str) -> None: ...


KeyPress = Callable[[str, frozenset[str]], bool]
"""What a program may add to :class:`Application` as ``press(key, modifiers)`` to see keys
that type nothing: called for each key pressed (kvmd's name) with the modifiers held,
before it is read as text; True if the program took it (an arrow in an editor, Ctrl-X),
and then it types nothing."""


# ----- the target ---------------------------------------------------------------------

_LOCK_LEDS: Final = {"CapsLock": "caps", "NumLock": "num", "ScrollLock": "scroll"}
_KEY_SLOTS: Final = 6
"""kvmd's USB keyboard is 6-key rollover: a seventh key releases the other six first."""
_STALLS_KEPT: Final = 16


class Target:
    """The simulated host. Read its state from any thread; only the emulator writes it."""

    def __init__(
        self,
        *,
        powered: bool = True,
        leds: tuple[bool, bool, bool] = (False, True, False),
        layout: str | Layout = "en-us",
    ) -> None:
        self._lock = threading.RLock()
        self._keyboard = Keyboard(resolve_layout(layout))
        self._powered = powered
        self._modifiers: set[str] = set()
        self._keys: list[str] = []
        self._buttons: set[str] = set()
        self._position = (0, 0)
        self._text = ""
        self._leds = {"caps": leds[0], "num": leds[1], "scroll": leds[2]}
        self._events: list[TargetEvent] = []
        self._listeners: list[Callable[[], None]] = []
        self._shown: tuple[Button, ...] = ()
        self._application: Application | None = None
        self._stalls: deque[tuple[float, float]] = deque(maxlen=_STALLS_KEPT)

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
        """The console's text: what the keystrokes typed so far, read with the target's
        layout. It is what the screen shows (snapshots, OCR)."""
        with self._lock:
            return self._text

    @property
    def layout(self) -> Layout:
        """The keyboard layout the target's OS is set to."""
        with self._lock:
            return self._keyboard.layout

    def set_layout(self, layout: str | Layout) -> None:
        """Switch the OS to another keyboard layout (a pending dead key is dropped)."""
        resolved = resolve_layout(layout)
        with self._lock:
            self._keyboard.set_layout(resolved)

    def write(self, text: str) -> None:
        """Show ``text`` on the console as the host's OS prints it (a login prompt, a boot
        message); an unfinished dead-key sequence is kept, as the input method keeps it."""
        with self._lock:
            self._text += text

    def show(self, text: str) -> None:
        """Replace what the console shows, as a full-screen program redraws it; unlike
        :meth:`clear_screen` an unfinished dead-key sequence is kept."""
        with self._lock:
            self._text = text

    def erase(self, count: int = 1) -> None:
        """Remove the last ``count`` characters from the console (a program's Backspace)."""
        with self._lock:
            self._text = self._text[: max(0, len(self._text) - count)]

    def clear_screen(self) -> None:
        """Empty the console (and drop a pending dead key)."""
        with self._lock:
            self._text = ""
            self._keyboard.composer.reset()

    def show_button(
        self, label: str, left: int, top: int, *, width: int = 160, height: int = 48
    ) -> Button:
        """Show a button over the console (see :mod:`._widgets`); returns it (its ``box``,
        ``center``, and ``png()``, the button alone)."""
        button = Button(label, left, top, width, height)
        with self._lock:
            self._shown += (button,)
        return button

    def hide_buttons(self) -> None:
        with self._lock:
            self._shown = ()

    @property
    def buttons(self) -> tuple[Button, ...]:
        """The buttons the host shows, drawn in this order."""
        with self._lock:
            return self._shown

    @property
    def leds(self) -> dict[str, bool]:
        """The host's lock state, ``caps``, ``num``, ``scroll``: what it sends back to the
        keyboard's LEDs when it echoes them (kvmd's own ``leds`` follow that echo)."""
        with self._lock:
            return dict(self._leds)

    @property
    def events(self) -> list[TargetEvent]:
        """Every HID event the host received, oldest first (a copy)."""
        with self._lock:
            return list(self._events)

    @property
    def installer(self) -> Installer | None:
        """The installer the host runs (the emulator's ``installer``), or ``None``."""
        from ._installer import Installer

        with self._lock:
            app = self._application
        return app if isinstance(app, Installer) else None

    def stall_usb(self, seconds: float) -> None:
        """Stop polling the USB HID for ``seconds`` from now, as a host busy in its
        firmware or with its bus suspended: reports kvmd cannot write within its 0.1 s
        are lost (see :mod:`._hid_device`). Safe to call from any thread."""
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"stall_usb takes a finite number of seconds, got {seconds!r}")
        start = time.monotonic()
        with self._lock:
            self._stalls.append((start, start + seconds))

    def usb_stall_end(self, at: float) -> float | None:
        """When the stall that holds monotonic time ``at`` ends (``None``: no stall)."""
        if not self._stalls:  # the common case, asked at every poll: no lock needed
            return None
        with self._lock:
            ends = [end for start, end in self._stalls if start <= at < end]
        return max(ends) if ends else None

    # ----- what the emulator writes -----------------------------------------------------

    def run(self, application: Application | None) -> None:
        """Give the keyboard and the screen to ``application`` (``None``: the console)."""
        with self._lock:
            self._application = application

    def reset(self) -> None:
        """The reset button: a host that is on restarts its program (nothing else it
        holds changes, as the USB keyboard stays powered)."""
        with self._lock:
            application = self._application if self._powered else None
        if application is not None:
            application.boot()

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
            self._keyboard.composer.reset()
            self._events.append(("power", powered))
            application = self._application
        self._notify()
        if application is not None and powered:
            application.boot()
        elif application is not None:
            application.halt()

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
            if key == "ScrollLock":  # Caps and Num Lock are modifiers to Compose; this is not
                self._keyboard.composer.reset()
            return
        press: KeyPress | None = getattr(self._application, "press", None)
        if press is not None and press(key, frozenset(self._modifiers)):
            return
        leds = self._leds
        self._output(self._keyboard.text(key, self._modifiers, caps=leds["caps"], num=leds["num"]))

    def _output(self, text: str) -> None:
        if self._application is not None:
            if text:
                self._application.key(text)
        elif text == "\b":
            self._text = self._text[:-1]
        elif text != "\x1b":  # Escape types nothing on the console
            self._text += text

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
