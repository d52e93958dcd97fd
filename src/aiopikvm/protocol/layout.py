"""Keyboard layouts of the target machine: characters to key strokes, and back.

A PiKVM sends physical keys (kvmd key names such as ``KeyA`` or ``BracketLeft``); the
character each one produces depends on the layout configured on the target OS. The
tables shipped in ``layouts/`` (generated from xkeyboard-config by
``scripts/gen_layouts.py``) give, per key, four levels: plain, Shift, AltGr
(``AltRight``) and AltGr+Shift. A level holds a character, a dead key (``"dead:"`` and
its xkb name, such as ``"dead:acute"``) or nothing.

The target they describe is a Linux desktop, X11 or Wayland: xkb reads the keys, and dead
keys follow libX11's Compose table for ``en_US.UTF-8`` (``layouts/_compose.json``; also
what ``C.UTF-8`` and every UTF-8 locale without a table of its own use), as libX11 and
libxkbcommon apply it:

* a dead key starts a sequence and types nothing; the keys that complete a sequence type
  its text (acute + ``e`` is ``é``, acute + space ``'``, acute twice U+00B4 itself);
* a key that continues no sequence cancels it and is swallowed: acute + ``x`` types
  nothing at all;
* a few plain keys start sequences too (Arabic's lam-alef key types two characters).

:meth:`Layout.strokes_for` plans only what types the character on that target: single
keys that start no sequence, and complete sequences that type exactly the character and
that no other UTF-8 locale built on ``en_US.UTF-8`` types differently (pt_BR's dead
acute + ``c`` is ``ç``, so ``ć`` is not typed that way). A Windows or macOS target reads
some levels and many dead keys differently; see the README.

Caps Lock is not modelled.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, TypeAlias

__all__ = [
    "ALTGR",
    "DEAD_PREFIX",
    "LAYOUTS",
    "SHIFT",
    "ComposeTable",
    "DeadKeyComposer",
    "Layout",
    "Stroke",
    "dead_key",
    "is_dead",
    "load_compose",
    "load_layout",
]

SHIFT: Final = "ShiftLeft"
ALTGR: Final = "AltRight"
DEAD_PREFIX: Final = "dead:"

# Modifiers that select each level, in level order.
_LEVEL_MODIFIERS: Final[tuple[tuple[str, ...], ...]] = ((), (SHIFT,), (ALTGR,), (ALTGR, SHIFT))

# Keys that type the same on every layout, per level: Shift+Tab is ISO_Left_Tab, a
# focus change rather than a tab.
_FIXED_KEYS: Final[Mapping[str, tuple[str | None, ...]]] = MappingProxyType(
    {"Enter": ("\n", "\n", "\n", "\n"), "Tab": ("\t", None, "\t", None)}
)

_PACKAGE: Final = __name__.rpartition(".")[0]
_COMPOSE_FILE: Final = "_compose.json"


def _data_dir() -> resources.abc.Traversable:
    return resources.files(_PACKAGE).joinpath("layouts")


if TYPE_CHECKING:
    LAYOUTS: tuple[str, ...]
    """The names of the shipped layouts, sorted (kvmd keymap names such as ``"de"``)."""


@cache
def _layouts() -> tuple[str, ...]:
    # Data files whose names start with "_" are shared by the layouts, not layouts.
    return tuple(
        sorted(
            entry.name.removesuffix(".json")
            for entry in _data_dir().iterdir()
            if entry.name.endswith(".json") and not entry.name.startswith("_")
        )
    )


def __getattr__(name: str) -> object:
    # LAYOUTS is listed on first use (PEP 562), not when the client is imported.
    if name == "LAYOUTS":
        return _layouts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "LAYOUTS"})


# --------------------------------------------------------------------------- dead keys


def is_dead(symbol: str) -> bool:
    """Whether ``symbol`` (as returned by :meth:`Layout.char_for`) is a dead key."""
    return symbol.startswith(DEAD_PREFIX) and len(symbol) > len(DEAD_PREFIX)


def dead_key(name: str) -> str:
    """The symbol of xkb's ``dead_<name>`` key, e.g. ``dead_key("acute")``."""
    if not name.isidentifier():
        raise ValueError(f"not a dead key name: {name!r}")
    return DEAD_PREFIX + name


# A node of the Compose trie: symbol -> the next node, or the text a complete sequence
# types. An empty node is a prefix whose continuations no shipped layout can type.
_Node: TypeAlias = dict[str, "_Node | str"]


class ComposeTable:
    """Compose sequences: key presses (symbols, as in the layout tables) that type a text
    together. Dead keys start most of them."""

    __slots__ = ("_dependent", "_root", "locale")

    def __init__(
        self,
        sequences: Iterable[tuple[Sequence[str], str | None]],
        *,
        locale: str = "",
        locale_dependent: Iterable[Sequence[str]] = (),
    ) -> None:
        """``sequences`` pairs symbols with the text they type, or with None for a prefix
        that waits for keys outside the table. No sequence may extend another."""
        self.locale = locale
        self._root: _Node = {}
        for symbols, text in sequences:
            self._add(tuple(symbols), text)
        self._dependent = frozenset(tuple(s) for s in locale_dependent)

    def _add(self, symbols: tuple[str, ...], text: str | None) -> None:
        if not symbols:
            raise ValueError("an empty compose sequence")
        node = self._root
        for symbol in symbols[:-1]:
            child = node.setdefault(symbol, {})
            if isinstance(child, str):
                raise ValueError(f"compose sequence {symbols!r} extends a complete one")
            node = child
        if symbols[-1] in node:
            raise ValueError(f"compose sequence {symbols!r} conflicts with another")
        node[symbols[-1]] = {} if text is None else text

    def __repr__(self) -> str:
        return f"ComposeTable(locale={self.locale!r})"

    @property
    def root(self) -> Mapping[str, object]:
        """The first symbols of the sequences (each to the rest of its sequences)."""
        return MappingProxyType(self._root)

    def sequences(self) -> Iterator[tuple[tuple[str, ...], str]]:
        """Every complete sequence, with the text it types."""
        stack: list[tuple[tuple[str, ...], _Node]] = [((), self._root)]
        while stack:
            prefix, node = stack.pop()
            for symbol, child in node.items():
                if isinstance(child, str):
                    yield (*prefix, symbol), child
                else:
                    stack.append(((*prefix, symbol), child))

    def is_locale_dependent(self, symbols: Sequence[str]) -> bool:
        """Whether another UTF-8 locale's table types ``symbols`` differently."""
        return tuple(symbols) in self._dependent


@cache
def load_compose() -> ComposeTable:
    """The shipped Compose table (libX11's ``en_US.UTF-8``, over the layouts' symbols)."""
    data = json.loads(_data_dir().joinpath(_COMPOSE_FILE).read_text(encoding="utf-8"))
    return ComposeTable(
        ((symbols, text) for symbols, text in data["sequences"]),
        locale=data["locale"],
        locale_dependent=(symbols for symbols, _ in data["locale_dependent"]),
    )


class DeadKeyComposer:
    """Turns the symbols of successive key presses into text, as libX11 does.

    Feed it what :meth:`Layout.char_for` returns for each key press (None for a key that
    types nothing: it still cancels a sequence). A key that starts or continues a
    sequence yields ``""``; the one that completes it yields the sequence's text.
    """

    __slots__ = ("_node", "_pending", "_table")

    def __init__(self, table: ComposeTable | None = None) -> None:
        self._table = table or load_compose()
        self._node = self._table._root  # the table's own nodes: walked, never changed
        self._pending: tuple[str, ...] = ()

    @property
    def pending(self) -> tuple[str, ...]:
        """The symbols of the unfinished sequence; empty when none is."""
        return self._pending

    def feed(self, symbol: str | None) -> str:
        """Process one key press that produced ``symbol``; returns the text it types."""
        child = self._node.get(symbol) if symbol is not None else None
        if symbol is None or child is None:
            if self._pending:
                self.reset()  # cancelled: the key is swallowed
                return ""
            if symbol is None or is_dead(symbol):
                return ""  # a dead key in no sequence types nothing
            return symbol
        if isinstance(child, str):
            self.reset()
            return child
        self._node = child
        self._pending += (symbol,)
        return ""

    def reset(self) -> None:
        """Drop an unfinished sequence (focus change, Escape, ...)."""
        self._node = self._table._root
        self._pending = ()


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

    __slots__ = ("_keys", "_strokes", "compose", "description", "generic_keys", "name", "xkb")

    def __init__(
        self,
        name: str,
        keys: Mapping[str, Sequence[str | None]],
        *,
        xkb: str = "",
        description: str = "",
        generic_keys: Iterable[str] = (),
        compose: ComposeTable | None = None,
    ) -> None:
        """``keys`` maps kvmd key names to up to four levels (see the module docstring);
        ``compose`` is the target's Compose table (the shipped one by default).

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
        self.compose = compose or load_compose()
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
        levels = _FIXED_KEYS.get(key) or self._keys.get(key)
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

        for key, levels in _FIXED_KEYS.items():
            offer(str(levels[0]), ((Stroke(key), 0, -1),))
        # The cheapest key press for each symbol; sequences are built from these.
        single: dict[str, _Step] = {}
        for order, (key, levels) in enumerate(self._keys.items()):
            for level, symbol in enumerate(levels):
                if symbol is None:
                    continue
                modifiers = _LEVEL_MODIFIERS[level]
                step = (Stroke(key, modifiers), len(modifiers) + (key in self.generic_keys), order)
                if symbol not in single or _cost((step,)) < _cost((single[symbol],)):
                    single[symbol] = step
        starts = self.compose.root
        for symbol, step in single.items():
            # A key that starts a sequence does not type its own character.
            if not is_dead(symbol) and symbol not in starts:
                offer(symbol, (step,))
        for symbols, text in self.compose.sequences():
            if len(text) != 1 or self.compose.is_locale_dependent(symbols):
                continue
            steps = [single.get(symbol) for symbol in symbols]
            if all(step is not None for step in steps):
                offer(text, tuple(step for step in steps if step is not None))
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
    if name not in _layouts():
        raise ValueError(f"unknown layout {name!r}; available: {', '.join(_layouts())}")
    text = _data_dir().joinpath(f"{name}.json").read_text(encoding="utf-8")
    return _parse(json.loads(text))
