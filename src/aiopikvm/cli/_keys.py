"""Friendly key names for the command line: ``ctrl+alt+del``, ``win+r``, ``f2``, ``a``."""

from __future__ import annotations

from typing import Final

from ..protocol.keys import KEYS
from ._exit import CliError

ALIASES: Final = {
    "ctrl": "ControlLeft",
    "control": "ControlLeft",
    "rctrl": "ControlRight",
    "alt": "AltLeft",
    "ralt": "AltRight",
    "altgr": "AltRight",
    "shift": "ShiftLeft",
    "rshift": "ShiftRight",
    "win": "MetaLeft",
    "meta": "MetaLeft",
    "super": "MetaLeft",
    "cmd": "MetaLeft",
    "del": "Delete",
    "delete": "Delete",
    "ins": "Insert",
    "esc": "Escape",
    "escape": "Escape",
    "enter": "Enter",
    "return": "Enter",
    "tab": "Tab",
    "space": "Space",
    "backspace": "Backspace",
    "bs": "Backspace",
    "up": "ArrowUp",
    "down": "ArrowDown",
    "left": "ArrowLeft",
    "right": "ArrowRight",
    "home": "Home",
    "end": "End",
    "pgup": "PageUp",
    "pageup": "PageUp",
    "pgdn": "PageDown",
    "pagedown": "PageDown",
    "prtsc": "PrintScreen",
    "printscreen": "PrintScreen",
    "menu": "ContextMenu",
    "capslock": "CapsLock",
}
_BY_LOWER: Final = {name.lower(): name for name in KEYS}


def key_name(text: str) -> str:
    """kvmd's name for ``text``: an alias, ``f1``..``f24``, a letter or digit, or kvmd's own
    name in any case (``KeyA``, ``keya``)."""
    lower = text.strip().lower()
    if lower in ALIASES:
        return ALIASES[lower]
    if len(lower) == 1 and lower.isascii() and lower.isalpha():
        return f"Key{lower.upper()}"
    if len(lower) == 1 and lower.isdigit():
        return f"Digit{lower}"
    if lower in _BY_LOWER:
        return _BY_LOWER[lower]
    raise CliError(
        f"unknown key {text!r}: use kvmd's names (KeyA, Enter, F2, ControlLeft) or ctrl, alt, "
        "shift, win, del, esc, enter, tab, f1..f24, a letter or a digit"
    )


def chord(text: str) -> list[str]:
    """``ctrl+alt+del`` -> ``["ControlLeft", "AltLeft", "Delete"]`` (``+`` itself: ``plus``)."""
    parts = [part for part in text.split("+")]
    if any(not part.strip() for part in parts):
        raise CliError(f"bad shortcut {text!r}: keys joined by '+', like ctrl+alt+del")
    return [key_name(part) for part in parts]
