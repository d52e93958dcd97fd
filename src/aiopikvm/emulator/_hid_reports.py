"""USB HID reports as kvmd's OTG gadget writes them, and as a host reads them back.

The formats are kvmd's (``kvmd/plugins/hid/otg/events.py``: ``make_keyboard_report``,
``make_mouse_report``, the LED bits; ``kvmd/apps/otg/hid/mouse.py`` for the descriptors):

- keyboard: the 8-byte boot report, modifier bits, a reserved zero byte, six key slots;
- absolute mouse (kvmd's ``mouse``): ``<BHHbb`` buttons, X, Y (0..32767), wheel Y, then
  wheel X when ``horizontal_wheel`` is on (kvmd's default; Y before X is kvmd's order);
- relative mouse (``mouse-alt``, the boot mouse): ``<Bbbbb`` buttons, dX, dY, wheel Y, X;
- the host's LED output report: one byte, Num Lock 1, Caps Lock 2, Scroll Lock 4.

The key codes are the Keyboard/Keypad page (0x07) of the USB HID Usage Tables 1.12 (§10),
named as kvmd names keys (the browser's ``KeyboardEvent.code``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final

from ..protocol.keys import MOVE_MAX, MOVE_MIN

KEY_SLOTS: Final = 6


def _usages() -> dict[str, int]:
    usages = {f"Key{chr(ord('A') + n)}": 0x04 + n for n in range(26)}
    usages |= {f"Digit{(n + 1) % 10}": 0x1E + n for n in range(10)}  # 1..9, then 0
    usages |= {f"F{n + 1}": 0x3A + n for n in range(12)}
    usages |= {f"F{n + 13}": 0x68 + n for n in range(12)}
    usages |= {f"Numpad{(n + 1) % 10}": 0x59 + n for n in range(10)}  # 1..9, then 0
    named = (
        # 0x28..0x38: Return, Escape, Backspace, Tab, Space, the punctuation (0x32 is the
        # Non-US # key, which kvmd has no name for)
        (0x28, "Enter Escape Backspace Tab Space Minus Equal BracketLeft BracketRight"),
        (0x31, "Backslash"),
        (0x33, "Semicolon Quote Backquote Comma Period Slash CapsLock"),
        (0x46, "PrintScreen ScrollLock Pause Insert Home PageUp Delete End PageDown"),
        (0x4F, "ArrowRight ArrowLeft ArrowDown ArrowUp NumLock"),
        (0x54, "NumpadDivide NumpadMultiply NumpadSubtract NumpadAdd NumpadEnter"),
        (0x63, "NumpadDecimal IntlBackslash ContextMenu Power"),
        (0x7F, "AudioVolumeMute AudioVolumeUp AudioVolumeDown"),
        (0x87, "IntlRo KanaMode IntlYen Convert NonConvert"),  # International1..5
    )
    for first, names in named:
        usages |= {name: first + n for n, name in enumerate(names.split())}
    return usages


KEY_USAGES: Final[Mapping[str, int]] = MappingProxyType(_usages())
"""kvmd's key names -> their usage on the Keyboard/Keypad page."""

MODIFIER_BITS: Final[Mapping[str, int]] = MappingProxyType(
    {
        name: 1 << n  # usages 0xE0..0xE7, one bit each in the report's first byte
        for n, name in enumerate(
            (
                *("ControlLeft", "ShiftLeft", "AltLeft", "MetaLeft"),
                *("ControlRight", "ShiftRight", "AltRight", "MetaRight"),
            )
        )
    }
)

KEY_NAMES: Final[Mapping[int, str]] = MappingProxyType({v: k for k, v in KEY_USAGES.items()})
MODIFIER_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {v: k for k, v in MODIFIER_BITS.items()}
)

BUTTON_BITS: Final[Mapping[str, int]] = MappingProxyType(
    {"left": 0x01, "right": 0x02, "middle": 0x04, "up": 0x08, "down": 0x10}
)
"""kvmd's button names -> bits (its ``MouseButtonEvent``: up is Back, down Forward)."""

LED_BITS: Final[Mapping[str, int]] = MappingProxyType({"num": 0x01, "caps": 0x02, "scroll": 0x04})
LOCK_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {"NumLock": "num", "CapsLock": "caps", "ScrollLock": "scroll"}
)

FIXED_MAX: Final = 32767
"""The absolute mouse's logical maximum: kvmd maps its -32768..32767 onto 0..32767."""


def keyboard_report(modifiers: int, keys: Iterable[int | None]) -> bytes:
    slots = [key or 0 for key in keys]
    if len(slots) != KEY_SLOTS or not 0 <= modifiers <= 0xFF:
        raise ValueError("a boot keyboard report has a modifier byte and six key slots")
    return bytes([modifiers, 0, *slots])


def parse_keyboard_report(report: bytes) -> tuple[int, frozenset[int]]:
    """(modifier bits, the usages down) of an 8-byte boot report."""
    if len(report) != 2 + KEY_SLOTS:
        raise ValueError(f"a boot keyboard report is 8 bytes, not {len(report)}")
    return report[0], frozenset(code for code in report[2:] if code)


def to_fixed(value: int, *, win98_fix: bool = False) -> int:
    """kvmd's coordinate as the absolute report carries it (``MouseMoveEvent``, with
    ``tools.remap``'s floor division and clamp; the Windows 98 fix doubles it)."""
    span = MOVE_MAX - MOVE_MIN
    fixed = min(max((value - MOVE_MIN) * FIXED_MAX // span, 0), FIXED_MAX)
    return fixed << 1 if win98_fix else fixed


def mouse_report(
    *,
    absolute: bool,
    buttons: int,
    x: int,
    y: int,
    wheel_x: int | None,
    wheel_y: int,
) -> bytes:
    """``x``/``y`` are fixed (0..32767) when ``absolute``, else deltas; ``wheel_x`` is
    ``None`` on a mouse without the horizontal wheel."""
    axes = "HH" if absolute else "bb"
    if wheel_x is None:
        return struct.pack(f"<B{axes}b", buttons, x, y, wheel_y)
    return struct.pack(f"<B{axes}bb", buttons, x, y, wheel_y, wheel_x)


def parse_mouse_report(report: bytes, *, absolute: bool) -> tuple[int, int, int, int, int]:
    """(buttons, x, y, wheel x, wheel y) of a mouse report, either length."""
    axes = "HH" if absolute else "bb"
    short = struct.calcsize(f"<B{axes}b")
    if len(report) == short:
        buttons, x, y, wheel_y = struct.unpack(f"<B{axes}b", report)
        return buttons, x, y, 0, wheel_y
    if len(report) != short + 1:
        raise ValueError(f"not a {'n absolute' if absolute else ' relative'} mouse report")
    buttons, x, y, wheel_y, wheel_x = struct.unpack(f"<B{axes}bb", report)
    return buttons, x, y, wheel_x, wheel_y


def led_report(leds: Mapping[str, bool]) -> bytes:
    return bytes([sum(bit for name, bit in LED_BITS.items() if leds.get(name))])


def parse_led_report(report: bytes) -> dict[str, bool]:
    """kvmd's ``get_led_caps``/``_scroll``/``_num`` of the host's one-byte output report."""
    flags = report[0] if report else 0
    return {name: bool(flags & bit) for name, bit in LED_BITS.items()}
