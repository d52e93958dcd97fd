"""The names kvmd accepts for keys and mouse buttons, and the ranges of its numbers.

Keys are physical positions named like the browser's ``KeyboardEvent.code``; the set is
exactly kvmd's (checked against a real device's table in the tests).
"""

from __future__ import annotations

from typing import Final

_LETTERS = tuple(f"Key{c}" for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = tuple(f"Digit{n}" for n in range(10))
_FUNCTION = tuple(f"F{n}" for n in range(1, 25))
_NUMPAD = (
    *(f"Numpad{n}" for n in range(10)),
    "NumpadAdd",
    "NumpadDecimal",
    "NumpadDivide",
    "NumpadEnter",
    "NumpadMultiply",
    "NumpadSubtract",
)

MODIFIERS: Final = frozenset(
    {
        "ControlLeft",
        "ShiftLeft",
        "AltLeft",
        "MetaLeft",
        "ControlRight",
        "ShiftRight",
        "AltRight",
        "MetaRight",
    }
)
"""Keys that kvmd treats as modifiers."""

KEYS: Final = frozenset(
    {
        *_LETTERS,
        *_DIGITS,
        *_FUNCTION,
        *_NUMPAD,
        *MODIFIERS,
        "Enter",
        "Escape",
        "Backspace",
        "Tab",
        "Space",
        "Minus",
        "Equal",
        "BracketLeft",
        "BracketRight",
        "Backslash",
        "Semicolon",
        "Quote",
        "Backquote",
        "Comma",
        "Period",
        "Slash",
        "CapsLock",
        "PrintScreen",
        "Insert",
        "Home",
        "PageUp",
        "Delete",
        "End",
        "PageDown",
        "ArrowRight",
        "ArrowLeft",
        "ArrowDown",
        "ArrowUp",
        "Pause",
        "ScrollLock",
        "NumLock",
        "ContextMenu",
        "Power",
        "IntlBackslash",
        "IntlYen",
        "IntlRo",
        "KanaMode",
        "Convert",
        "NonConvert",
        "AudioVolumeMute",
        "AudioVolumeUp",
        "AudioVolumeDown",
    }
)
"""Every key name kvmd knows (126)."""

FINISH_EXEMPT: Final = MODIFIERS | {"PrintScreen"}
"""Keys that kvmd does not release by itself after a press carrying ``finish``:
it treats PrintScreen (SysRq) as a modifier for Alt+SysRq combinations."""

MOUSE_BUTTONS: Final = frozenset({"left", "right", "middle", "up", "down"})
"""Mouse buttons; ``up`` and ``down`` are the back/forward side buttons."""

MOVE_MIN: Final = -32768
MOVE_MAX: Final = 32767
"""Absolute pointer range; (0, 0) is the centre of the screen."""

DELTA_MIN: Final = -127
DELTA_MAX: Final = 127
"""Range of one relative-move or wheel step."""

MAX_KEY_NAME: Final = 32
"""kvmd reads at most this many bytes of a key name from a binary frame."""
