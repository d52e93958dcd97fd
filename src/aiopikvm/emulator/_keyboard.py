"""How the target's OS reads key presses as text: :class:`Keyboard`.

It reads keys as a Linux desktop (X11 or Wayland) set to the target's keyboard layout does
(one of :data:`aiopikvm.protocol.layout.LAYOUTS`, ``"en-us"`` unless told otherwise):
Shift and AltGr (``AltRight``, on layouts that have an AltGr level; elsewhere it is a plain
Alt) pick the level in the layout's xkb table, and every key press goes through libX11's
Compose table (:class:`~aiopikvm.protocol.layout.DeadKeyComposer`): a dead key waits, the
keys that complete a sequence type its text, and a key that continues no sequence cancels
it and is swallowed. Caps Lock inverts Shift on letter keys. So a client that types for
another layout than the target's gets the wrong characters here, exactly as on a real
machine. It decodes key presses the other way round from the planner (key and level to
character, where the planner inverts the tables), and ``tests/test_layouts_xkbcommon.py``
checks both against libxkbcommon.

Ctrl, Alt and Meta combinations are shortcuts and type nothing. The numeric keypad types
digits and ``.`` while Num Lock is on, its operators and Enter always, as pc105's does
(layouts with a comma there, or more levels, are not modelled).
"""

from __future__ import annotations

from typing import Final

from ..protocol.keys import MODIFIERS
from ..protocol.layout import ALTGR, DeadKeyComposer, Layout, load_layout

# ----- the keypad, the same on every layout ------------------------------------------

_NUMPAD_NUMLOCK: Final[dict[str, str]] = {
    **{f"Numpad{d}": d for d in "0123456789"},
    "NumpadDecimal": ".",
}
_NUMPAD_ALWAYS: Final[dict[str, str]] = {
    "NumpadDivide": "/",
    "NumpadMultiply": "*",
    "NumpadSubtract": "-",
    "NumpadAdd": "+",
    "NumpadEnter": "\n",
}

# ----- the keyboard -------------------------------------------------------------------

_SHIFTS: Final = frozenset({"ShiftLeft", "ShiftRight"})
_SHORTCUT_MODIFIERS: Final = MODIFIERS - _SHIFTS - {ALTGR}
_CONTROL: Final = {"Backspace": "\b", "Escape": "\x1b"}
"""Keys a program gets as control characters (the console edits with Backspace itself)."""


class Keyboard:
    """The OS's keyboard input: its layout and its Compose state. Not locked: the
    :class:`~._target.Target` that owns it calls it under its own lock."""

    __slots__ = ("_altgr", "composer", "layout")

    def __init__(self, layout: Layout) -> None:
        self.composer = DeadKeyComposer()
        self.layout = layout
        self._altgr = _has_altgr(layout)

    def set_layout(self, layout: Layout) -> None:
        """Switch to another layout (a pending dead key is dropped)."""
        self.layout = layout
        self._altgr = _has_altgr(layout)
        self.composer.reset()

    def text(self, key: str, modifiers: set[str], *, caps: bool, num: bool) -> str:
        """What pressing ``key`` (not a lock key) types with ``modifiers`` held and the
        Caps and Num Lock states ``caps`` and ``num``: ``""`` for a shortcut, a key with
        nothing on its level or a dead key that waits; Backspace as ``"\\b"`` and Escape
        as ``"\\x1b"`` when no dead key is pending."""
        altgr = ALTGR in modifiers and self._altgr
        if modifiers & _SHORTCUT_MODIFIERS or (ALTGR in modifiers and not altgr):
            return ""  # Ctrl/Alt/Meta + key is a shortcut, not text
        control = _CONTROL.get(key)
        if control is not None and not self.composer.pending:
            return control
        symbol = _NUMPAD_ALWAYS.get(key)
        if symbol is None and num:
            symbol = _NUMPAD_NUMLOCK.get(key)
        if symbol is None:
            shift = bool(modifiers & _SHIFTS)
            if caps and not altgr and self._is_letter_key(key):
                shift = not shift
            symbol = self.layout.char_for(key, shift=shift, altgr=altgr)
        # A key with nothing on this level (Escape, an arrow, F1) types nothing, and
        # cancels an unfinished sequence like any key that does not continue it.
        return self.composer.feed(symbol)

    def _is_letter_key(self, key: str) -> bool:
        # Caps Lock acts on keys whose two first levels are a letter's two cases.
        levels = self.layout.keys.get(key)
        if levels is None:
            return False
        lower, upper = levels[0], levels[1]
        return (
            lower is not None
            and upper is not None
            and lower != upper
            and len(lower) == 1
            and lower.upper() == upper
        )


def resolve_layout(layout: str | Layout) -> Layout:
    return layout if isinstance(layout, Layout) else load_layout(layout)


def _has_altgr(layout: Layout) -> bool:
    """Whether ``AltRight`` is AltGr on this layout; on the others it is a plain Alt."""
    return any(levels[2] or levels[3] for levels in layout.keys.values())
