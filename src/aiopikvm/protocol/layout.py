"""Keyboard layouts of the target machine: characters to key strokes, and back.

A PiKVM sends physical keys (kvmd key names such as ``KeyA`` or ``BracketLeft``); the
character each one produces depends on the layout configured on the target OS. The
tables shipped in ``layouts/`` (generated from xkeyboard-config by
``scripts/gen_layouts.py``) give, per key, four levels: plain, Shift, AltGr
(``AltRight``) and AltGr+Shift. A level holds a character, a dead-key marker
(``"dead:"`` followed by the combining character the dead key adds) or nothing.

Dead keys wait for the next key press. The rule used here, both to plan strokes and to
simulate a target, follows Windows and X where they agree:

* dead key + a character with a precomposed form carrying that accent (Unicode NFC)
  types the precomposed character (acute + ``e`` -> ``é``);
* dead key + space types the spacing accent (``^``, U+00B4 for an acute). X agrees for
  ``^ ` ~`` but types ``'`` and ``"`` for acute and diaeresis;
* the same dead key twice types the spacing accent once (as X; Windows types it twice);
* dead key + another dead key types both spacing accents (as Windows);
* dead key + anything else types the spacing accent, then that character (as Windows).

:meth:`Layout.strokes_for` relies on the first two rules only.

Caps Lock is not modelled.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALTGR",
    "DEAD_PREFIX",
    "LAYOUTS",
    "SHIFT",
    "DeadKeyComposer",
    "Layout",
    "Stroke",
    "compose",
    "dead_key",
    "is_dead",
    "load_layout",
    "spacing_accent",
]

SHIFT: Final = "ShiftLeft"
ALTGR: Final = "AltRight"
DEAD_PREFIX: Final = "dead:"

# Modifiers that select each level, in level order.
_LEVEL_MODIFIERS: Final[tuple[tuple[str, ...], ...]] = ((), (SHIFT,), (ALTGR,), (ALTGR, SHIFT))

# Keys that type the same thing whatever the layout or modifiers.
_FIXED_KEYS: Final[Mapping[str, str]] = MappingProxyType({"Enter": "\n", "Tab": "\t"})

# Spacing forms of the accents that dead keys in the shipped tables add. Accents missing
# here (hook, horn, dot below, ...) have no spacing form in Unicode; the bare combining
# mark stands in for them.
_SPACING: Final[Mapping[str, str]] = MappingProxyType(
    {
        "\u0300": "`",
        "\u0301": "\u00b4",
        "\u0302": "^",
        "\u0303": "~",
        "\u0304": "\u00af",
        "\u0306": "\u02d8",
        "\u0307": "\u02d9",
        "\u0308": "\u00a8",
        "\u030a": "\u02da",
        "\u030b": "\u02dd",
        "\u030c": "\u02c7",
        "\u0327": "\u00b8",
        "\u0328": "\u02db",
        "\u0331": "\u02cd",
        "\u0342": "\u1fc0",
        "\u0345": "\u037a",
    }
)

_PACKAGE: Final = __name__.rpartition(".")[0]


def _data_dir() -> resources.abc.Traversable:
    return resources.files(_PACKAGE).joinpath("layouts")


LAYOUTS: Final[tuple[str, ...]] = tuple(
    sorted(
        entry.name.removesuffix(".json")
        for entry in _data_dir().iterdir()
        if entry.name.endswith(".json")
    )
)


# --------------------------------------------------------------------------- dead keys


def is_dead(symbol: str) -> bool:
    """Whether ``symbol`` (as returned by :meth:`Layout.char_for`) is a dead-key marker."""
    return symbol.startswith(DEAD_PREFIX) and len(symbol) > len(DEAD_PREFIX)


def dead_key(accent: str) -> str:
    """The dead-key marker for a combining character, e.g. ``dead_key("\\u0301")``."""
    return DEAD_PREFIX + accent


def _accent(dead: str) -> str:
    if not is_dead(dead):
        raise ValueError(f"not a dead-key marker: {dead!r}")
    return dead[len(DEAD_PREFIX) :]


def spacing_accent(dead: str) -> str:
    """What a dead key types on its own (after space, or pressed twice)."""
    accent = _accent(dead)
    return _SPACING.get(accent, accent)


def compose(dead: str, next_char: str) -> str:
    """The text a target emits for dead key ``dead`` followed by ``next_char``.

    ``next_char`` is a character or another dead-key marker; see the module docstring
    for the rule. Never empty: a sequence that does not combine still types something.
    """
    if is_dead(next_char):
        if next_char == dead:
            return spacing_accent(dead)
        return spacing_accent(dead) + spacing_accent(next_char)
    if next_char == " ":
        return spacing_accent(dead)
    composed = unicodedata.normalize("NFC", next_char + _accent(dead))
    if len(composed) == 1:
        return composed
    return spacing_accent(dead) + next_char


class DeadKeyComposer:
    """Turns the symbols of successive key presses into text, as a target OS does.

    Feed it what :meth:`Layout.char_for` returns for each press; a dead key yields ``""``
    and is held until the next press.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: str | None = None

    @property
    def pending(self) -> str | None:
        """The dead-key marker waiting for its next key, if any."""
        return self._pending

    def feed(self, symbol: str) -> str:
        """Process one press that produced ``symbol``; returns the text it emits."""
        if self._pending is None:
            if is_dead(symbol):
                self._pending = symbol
                return ""
            return symbol
        dead, self._pending = self._pending, None
        return compose(dead, symbol)

    def reset(self) -> None:
        """Drop a pending dead key (focus change, Escape, ...)."""
        self._pending = None


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True, slots=True)
class Stroke:
    """One key press: ``modifiers`` held (kvmd key names), then ``key`` tapped."""

    key: str
    modifiers: tuple[str, ...] = ()


# Candidate stroke sequences are ranked by: fewer strokes, fewer modifiers, Shift rather
# than AltGr, then the table's physical key order (so the choice is stable).
_Cost = tuple[int, int, int, int]
# A stroke, its weight (modifiers, plus one on a generic key) and its key's table position.
_Step = tuple[Stroke, int, int]


def _cost(steps: Sequence[_Step]) -> _Cost:
    weight = sum(w for _, w, _ in steps)
    altgr = sum(ALTGR in s.modifiers for s, _, _ in steps)
    return (len(steps), weight, altgr, min(order for _, _, order in steps))


class Layout:
    """One target keyboard layout: key -> characters, and character -> key strokes."""

    __slots__ = ("_keys", "_strokes", "description", "generic_keys", "name", "xkb")

    def __init__(
        self,
        name: str,
        keys: Mapping[str, Sequence[str | None]],
        *,
        xkb: str = "",
        description: str = "",
        generic_keys: Iterable[str] = (),
    ) -> None:
        """``keys`` maps kvmd key names to up to four levels (see the module docstring).

        ``generic_keys`` are keys the xkb layout leaves to the generic pc105 definition
        (``IntlBackslash`` as ``< >`` on en-us); Windows layouts often put something else
        there, so they count as one more modifier when choosing strokes: en-us types
        ``<`` as Shift+Comma, while fr, whose only other ``<`` is AltGr+Shift+KeyZ, still
        uses IntlBackslash.
        """
        self.name = name
        self.xkb = xkb
        self.description = description
        self.generic_keys = frozenset(generic_keys)
        self._keys: Mapping[str, tuple[str | None, ...]] = MappingProxyType(
            {key: _levels(key, levels) for key, levels in keys.items()}
        )
        self._strokes = self._plan()

    def __repr__(self) -> str:
        return f"Layout({self.name!r}, xkb={self.xkb!r})"

    @property
    def keys(self) -> Mapping[str, tuple[str | None, ...]]:
        """kvmd key name -> its four levels (plain, Shift, AltGr, AltGr+Shift)."""
        return self._keys

    @property
    def characters(self) -> frozenset[str]:
        """Every character :meth:`strokes_for` can type."""
        return frozenset(self._strokes)

    def char_for(self, key: str, shift: bool = False, altgr: bool = False) -> str | None:
        """What pressing ``key`` types: a character, a dead-key marker, or None."""
        if key in _FIXED_KEYS:
            return _FIXED_KEYS[key]
        levels = self._keys.get(key)
        if levels is None:
            return None
        return levels[2 * altgr + shift]

    def strokes_for(self, char: str) -> tuple[Stroke, ...] | None:
        """The key presses that type ``char``, or None if this layout cannot type it."""
        return self._strokes.get(char)

    def untypable(self, text: str) -> list[tuple[int, str]]:
        """Positions and characters of ``text`` that this layout cannot type."""
        return [(i, c) for i, c in enumerate(text) if c not in self._strokes]

    def _plan(self) -> dict[str, tuple[Stroke, ...]]:
        best: dict[str, tuple[_Cost, tuple[_Step, ...]]] = {}

        def offer(char: str, steps: tuple[_Step, ...]) -> None:
            cost = _cost(steps)
            if char not in best or cost < best[char][0]:
                best[char] = (cost, steps)

        for key, char in _FIXED_KEYS.items():
            offer(char, ((Stroke(key), 0, -1),))
        deads: list[tuple[str, _Step]] = []
        for order, (key, levels) in enumerate(self._keys.items()):
            for level, symbol in enumerate(levels):
                if symbol is None:
                    continue
                modifiers = _LEVEL_MODIFIERS[level]
                step = (Stroke(key, modifiers), len(modifiers) + (key in self.generic_keys), order)
                if is_dead(symbol):
                    deads.append((symbol, step))
                else:
                    offer(symbol, (step,))
        bases = [
            (char, steps[0])
            for char, (_, steps) in best.items()
            if len(steps) == 1 and char not in _FIXED_KEYS.values()
        ]
        for dead, dead_step in deads:
            for base, base_step in bases:
                if base == " " and _accent(dead) not in _SPACING:
                    # No spacing form: typing a bare combining mark is not worth offering.
                    continue
                out = compose(dead, base)
                # A sequence that doesn't combine types two characters: not a way to one.
                if len(out) == 1:
                    offer(out, (dead_step, base_step))
        return {char: tuple(s for s, _, _ in steps) for char, (_, steps) in best.items()}


def _levels(key: str, levels: Sequence[str | None]) -> tuple[str | None, ...]:
    if len(levels) > len(_LEVEL_MODIFIERS):
        raise ValueError(f"key {key}: more than {len(_LEVEL_MODIFIERS)} levels")
    for symbol in levels:
        if symbol is not None and len(symbol) != 1 and not is_dead(symbol):
            raise ValueError(f"key {key}: {symbol!r} is neither a character nor a dead key")
    return tuple(levels) + (None,) * (len(_LEVEL_MODIFIERS) - len(levels))


def _parse(data: object) -> Layout:
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise ValueError("layout data must be an object with a 'keys' object")
    keys: dict[str, list[str | None]] = {}
    for key, levels in data["keys"].items():
        if not isinstance(levels, list) or not all(v is None or isinstance(v, str) for v in levels):
            raise ValueError(f"key {key}: levels must be a list of strings or nulls")
        keys[str(key)] = levels
    generic = data.get("generic_keys", [])
    if not isinstance(generic, list):
        raise ValueError("'generic_keys' must be a list")
    return Layout(
        str(data.get("name", "")),
        keys,
        xkb=str(data.get("xkb", "")),
        description=str(data.get("description") or ""),
        generic_keys=[str(k) for k in generic],
    )


@cache
def load_layout(name: str) -> Layout:
    """The shipped layout called ``name`` (a kvmd keymap name such as ``"de"``)."""
    if name not in LAYOUTS:
        raise ValueError(f"unknown layout {name!r}; available: {', '.join(LAYOUTS)}")
    text = _data_dir().joinpath(f"{name}.json").read_text(encoding="utf-8")
    return _parse(json.loads(text))
