"""Every shipped layout against libxkbcommon: an oracle the client and the emulator do not share.

The planner (:meth:`Layout.strokes_for`) and the emulator's target both read the shipped
tables and Compose data, so a round trip between them cannot notice wrong data. Here
libxkbcommon compiles each layout from xkeyboard-config and runs libX11's Compose table,
as a Linux desktop does, and the tests check that

- every key kvmd knows, at every level, gives what the table says;
- the emulated target types what xkb types for each key press, and composes every
  sequence of the keys a layout has as libX11 does;
- every character the planner can type comes out exactly so, and the same with the
  Compose table of every UTF-8 locale built on en_US.UTF-8's.

Without libxkbcommon, xkb-data or libx11-data (or with other versions than the data was
generated from) they skip and say why; ``.ci/run`` installs them and makes them required.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import pytest

from aiopikvm.emulator import Target
from aiopikvm.emulator._hid_events import KeyEvent
from aiopikvm.protocol.layout import (
    ALTGR,
    LAYOUTS,
    SHIFT,
    DeadKeyComposer,
    Layout,
    Stroke,
    is_dead,
    load_compose,
    load_layout,
)

from .captures import load
from .xkb_oracle import COMPOSE_LOCALE, EVDEV, LOCALE_ROOT, Compose, Keymap, Xkb, require_sources

LEVELS = ((False, False), (True, False), (False, True), (True, True))
"""(Shift, AltGr) of the four levels."""
KEYPAD = frozenset(key for key in EVDEV if key.startswith("Numpad"))
MAX_SEQUENCE = 5
"""The longest Compose sequence followed when comparing them exhaustively."""


@pytest.fixture(scope="module")
def xkb() -> Xkb:
    xkb = Xkb()
    require_sources("xkb-data")
    return xkb


@pytest.fixture(scope="module")
def compose(xkb: Xkb) -> Iterator[Compose]:
    require_sources("libx11-data")
    with xkb.compose() as table:
        yield table


def keysym_of(keymap: Keymap, stroke: Stroke) -> int:
    return keymap.keysym(
        stroke.key, shift=SHIFT in stroke.modifiers, altgr=ALTGR in stroke.modifiers
    )


def presses(layout: Layout, keymap: Keymap) -> dict[tuple[str, int], Stroke]:
    """One key press for each (symbol, keysym) the layout's table has."""
    found: dict[tuple[str, int], Stroke] = {}
    for key, levels in layout.keys.items():
        for (shift, altgr), symbol in zip(LEVELS, levels, strict=True):
            if symbol is not None:
                modifiers = (SHIFT,) * shift + (ALTGR,) * altgr
                stroke = Stroke(key, modifiers)
                found.setdefault((symbol, keysym_of(keymap, stroke)), stroke)
    return found


def test_every_kvmd_key_has_a_linux_keycode() -> None:
    assert set(EVDEV) == set(load("hid_keys.json")["keys"])


# --------------------------------------------------------------------------- key tables


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_key_and_level_is_what_xkb_types(xkb: Xkb, name: str) -> None:
    layout = load_layout(name)
    with xkb.keymap(layout.xkb) as keymap:
        has_altgr = keymap.has_altgr()
        wrong = []
        for key in sorted(EVDEV.keys() - KEYPAD):
            for shift, altgr in LEVELS:
                ours = layout.char_for(key, shift=shift, altgr=altgr)
                if altgr and not has_altgr:
                    # AltRight is a plain Alt: a table has nothing there for it.
                    if key in layout.keys and ours is not None:
                        wrong.append((key, shift, altgr, ours, "Alt: a shortcut"))
                    continue
                theirs = xkb.symbol(keymap.keysym(key, shift=shift, altgr=altgr))
                if ours != theirs:
                    wrong.append((key, shift, altgr, ours, theirs))
    assert wrong == []


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_emulated_target_types_each_key_as_xkb(xkb: Xkb, compose: Compose, name: str) -> None:
    layout = load_layout(name)
    with xkb.keymap(layout.xkb) as keymap:
        has_altgr = keymap.has_altgr()
        wrong = []
        for key in sorted(EVDEV.keys() - KEYPAD):
            for shift, altgr in LEVELS:
                target = Target(layout=layout)
                modifiers = [SHIFT] * shift + [ALTGR] * altgr
                for modifier in modifiers:
                    target.apply(KeyEvent(modifier, True))
                target.apply(KeyEvent(key, True))
                if altgr and not has_altgr:
                    expected = ""  # Alt+key: a shortcut
                else:
                    expected, _ = compose.type([keymap.keysym(key, shift=shift, altgr=altgr)])
                if target.screen_text != expected:
                    wrong.append((key, shift, altgr, target.screen_text, expected))
    assert wrong == []


def test_the_keypad_is_pc105s(xkb: Xkb) -> None:
    # The tables leave the keypad out (its digits depend on Num Lock, so typing never uses
    # it); the target types it as pc105 does, whatever the layout: checked on en-us.
    with xkb.keymap(load_layout("en-us").xkb) as keymap:
        for key in sorted(KEYPAD):
            for numlock in (False, True):
                target = Target(layout="en-us", leds=(False, numlock, False))
                target.apply(KeyEvent(key, True))
                assert target.screen_text == xkb.text(keymap.keysym(key, numlock=numlock)), key


# --------------------------------------------------------------------------- compose


def test_every_shipped_sequence_is_libx11s(xkb: Xkb, compose: Compose) -> None:
    table = load_compose()
    assert table.locale == COMPOSE_LOCALE
    data = load_compose_data()
    wrong = []
    for symbols, text in data["sequences"]:
        keysyms = [symbol_keysym(xkb, symbol) for symbol in symbols]
        expected = ("", True) if text is None else (text, False)
        if compose.type(keysyms) != expected:
            wrong.append((symbols, text, compose.type(keysyms)))
    assert wrong == []
    assert len(data["sequences"]) > 900


def test_locale_dependent_sequences_differ_in_those_locales(xkb: Xkb, compose: Compose) -> None:
    dependent = load_compose_data()["locale_dependent"]
    assert dependent
    for symbols, locales in dependent:
        keysyms = [symbol_keysym(xkb, symbol) for symbol in symbols]
        for locale in locales:
            with xkb.compose(locale) as other:
                assert other.type(keysyms) != compose.type(keysyms), (symbols, locale)


def load_compose_data() -> dict[str, list[list[object]]]:
    """The shipped Compose data as it is in the file (not through ComposeTable)."""
    path = resources.files("aiopikvm.protocol").joinpath("layouts", "_compose.json")
    data: dict[str, list[list[object]]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def symbol_keysym(xkb: Xkb, symbol: object) -> int:
    assert isinstance(symbol, str)
    if is_dead(symbol):
        return xkb.keysym("dead_" + symbol.removeprefix("dead:"))
    return xkb.keysym_for_char(symbol)


@pytest.mark.parametrize("name", LAYOUTS)
def test_the_emulated_target_composes_as_libx11(xkb: Xkb, compose: Compose, name: str) -> None:
    # Every sequence of this layout's key presses that libX11 starts, followed until it
    # ends, against the target's composer: dead keys, what they do with every other key,
    # cancelled sequences, and plain keys that start sequences.
    layout = load_layout(name)
    with xkb.keymap(layout.xkb) as keymap:
        keys = sorted(presses(layout, keymap))
    wrong = []
    prefixes: list[list[tuple[str, int]]] = [[]]
    while prefixes:
        prefix = prefixes.pop()
        for press in keys:
            sequence = [*prefix, press]
            composer = DeadKeyComposer()
            ours = "".join(composer.feed(symbol) for symbol, _ in sequence)
            theirs, unfinished = compose.type([keysym for _, keysym in sequence])
            if (ours, bool(composer.pending)) != (theirs, unfinished):
                wrong.append(([s for s, _ in sequence], ours, theirs, unfinished))
            elif unfinished and len(sequence) < MAX_SEQUENCE:
                prefixes.append(sequence)
    assert wrong == []


# --------------------------------------------------------------------------- the planner


def type_on_xkb(keymap: Keymap, compose: Compose, strokes: tuple[Stroke, ...]) -> tuple[str, bool]:
    return compose.type([keysym_of(keymap, stroke) for stroke in strokes])


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_typable_character_comes_out_of_xkb(xkb: Xkb, compose: Compose, name: str) -> None:
    layout = load_layout(name)
    wrong = []
    with xkb.keymap(layout.xkb) as keymap:
        for char in sorted(layout.characters):
            strokes = layout.strokes_for(char)
            assert strokes is not None
            if type_on_xkb(keymap, compose, strokes) != (char, False):
                wrong.append((char, strokes, type_on_xkb(keymap, compose, strokes)))
    assert wrong == []


def locales_built_on_en_us() -> list[str]:
    base = str(LOCALE_ROOT / COMPOSE_LOCALE / "Compose")
    return sorted(
        path.parent.name
        for path in LOCALE_ROOT.glob("*.UTF-8/Compose")
        if path.parent.name != COMPOSE_LOCALE and base in path.read_text(encoding="utf-8")
    )


def test_planned_sequences_type_the_same_in_other_locales(xkb: Xkb, compose: Compose) -> None:
    locales = locales_built_on_en_us()
    assert {"cs_CZ.UTF-8", "fi_FI.UTF-8", "pt_BR.UTF-8"} <= set(locales)
    sequences: set[tuple[int, ...]] = set()
    for name in LAYOUTS:
        layout = load_layout(name)
        with xkb.keymap(layout.xkb) as keymap:
            for char in layout.characters:
                strokes = layout.strokes_for(char)
                assert strokes is not None
                if len(strokes) > 1:
                    sequences.add(tuple(keysym_of(keymap, stroke) for stroke in strokes))
    assert len(sequences) > 500
    for locale in locales:
        with xkb.compose(locale) as other:
            differ = [s for s in sorted(sequences) if other.type(list(s)) != compose.type(list(s))]
        assert differ == [], locale
