"""Keyboard layouts generated from xkeyboard-config, and the planner/composer using them.

These pin the model and known facts; ``test_layouts_xkbcommon.py`` checks every table and
sequence against libxkbcommon, and ``test_gen_layouts.py`` that the data is the script's.
"""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopikvm.protocol.layout import (
    ALTGR,
    LAYOUTS,
    SHIFT,
    ComposeTable,
    DeadKeyComposer,
    Layout,
    Stroke,
    dead_key,
    is_dead,
    load_compose,
    load_layout,
)

from .captures import load, result

# The keymaps a real kvmd offers (see the hid_keymaps capture).
KVMD_KEYMAPS = (
    "ar", "bepo", "cz", "da", "de", "de-ch", "en-gb", "en-us", "en-us-altgr-intl",
    "en-us-colemak", "es", "et", "fi", "fo", "fr", "fr-be", "fr-ca", "fr-ch", "hr", "hu",
    "is", "it", "ja", "lt", "lv", "mk", "nl", "no", "pl", "pt", "pt-br", "ru", "sl", "sv",
    "th", "tr",
)  # fmt: skip
ACUTE = dead_key("acute")
GRAVE = dead_key("grave")
CIRCUMFLEX = dead_key("circumflex")
DIAERESIS = dead_key("diaeresis")


def type_strokes(layout: Layout, strokes: tuple[Stroke, ...] | list[Stroke]) -> str:
    """What a target using ``layout`` shows after these key presses."""
    composer = DeadKeyComposer()
    out = []
    for stroke in strokes:
        symbol = layout.char_for(
            stroke.key, shift=SHIFT in stroke.modifiers, altgr=ALTGR in stroke.modifiers
        )
        assert symbol is not None, stroke
        out.append(composer.feed(symbol))
    assert composer.pending == ()
    return "".join(out)


# --------------------------------------------------------------------------- shipped data


def test_every_kvmd_keymap_is_shipped() -> None:
    assert tuple(sorted(result("hid_keymaps.json")["keymaps"]["available"])) == KVMD_KEYMAPS
    assert LAYOUTS == KVMD_KEYMAPS


@pytest.mark.parametrize("name", LAYOUTS)
def test_layout_data_is_well_formed(name: str) -> None:
    layout = load_layout(name)
    assert layout.name == name
    assert layout.xkb  # records its xkb source
    kvmd_keys = set(load("hid_keys.json")["keys"])
    for key, levels in layout.keys.items():
        assert key in kvmd_keys
        assert len(levels) == 4
        for symbol in levels:
            assert symbol is None or len(symbol) == 1 or is_dead(symbol), (key, symbol)
    assert layout.generic_keys <= set(layout.keys)
    assert layout.char_for("Space") == " "
    assert layout.strokes_for(" ") == (Stroke("Space"),)
    assert layout.strokes_for("\n") == (Stroke("Enter"),)
    assert layout.strokes_for("\t") == (Stroke("Tab"),)


def test_readme_states_origin() -> None:
    readme = resources.files("aiopikvm.protocol").joinpath("layouts", "README.md").read_text()
    assert "xkeyboard-config" in readme
    assert "xkb-data" in readme
    assert "gen_layouts.py" in readme


def test_load_layout_is_cached_and_rejects_unknown_names() -> None:
    assert load_layout("de") is load_layout("de")
    with pytest.raises(ValueError, match=r"unknown layout 'xx'.*en-us"):
        load_layout("xx")


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", LAYOUTS)
def test_every_typable_character_round_trips(name: str) -> None:
    layout = load_layout(name)
    assert len(layout.characters) > 90
    for char in sorted(layout.characters):
        strokes = layout.strokes_for(char)
        assert strokes is not None
        assert type_strokes(layout, strokes) == char, (char, strokes)


@pytest.mark.parametrize("name", LAYOUTS)
def test_direct_keys_need_no_dead_key(name: str) -> None:
    layout = load_layout(name)
    starts = load_compose().root
    for key, levels in layout.keys.items():
        for symbol in levels:
            if symbol is not None and not is_dead(symbol) and symbol not in starts:
                strokes = layout.strokes_for(symbol)
                assert strokes is not None, (key, symbol)
                assert len(strokes) == 1, (key, symbol)


@pytest.mark.parametrize("name", ["en-us", "en-gb", "de", "fr", "ja", "en-us-altgr-intl", "bepo"])
def test_ascii_is_typable(name: str) -> None:
    printable = "".join(chr(c) for c in range(0x20, 0x7F)) + "\n\t"
    assert load_layout(name).untypable(printable) == []


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(LAYOUTS))
def test_text_round_trips(data: st.DataObject, name: str) -> None:
    layout = load_layout(name)
    text = data.draw(st.text(st.sampled_from(sorted(layout.characters)), max_size=30))
    strokes = [s for c in text for s in layout.strokes_for(c) or ()]
    assert type_strokes(layout, strokes) == text


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=30), name=st.sampled_from(LAYOUTS))
def test_untypable_is_exactly_what_has_no_strokes(text: str, name: str) -> None:
    layout = load_layout(name)
    expected = [(i, c) for i, c in enumerate(text) if layout.strokes_for(c) is None]
    assert layout.untypable(text) == expected


# --------------------------------------------------------------------------- known facts


def test_en_us() -> None:
    us = load_layout("en-us")
    assert us.xkb == "us(basic)"
    assert us.strokes_for('"') == (Stroke("Quote", (SHIFT,)),)
    assert us.strokes_for("a") == (Stroke("KeyA"),)
    assert us.strokes_for("A") == (Stroke("KeyA", (SHIFT,)),)
    assert us.strokes_for("@") == (Stroke("Digit2", (SHIFT,)),)
    # xkb leaves IntlBackslash to pc105 ("< >"); Shift+Comma works on every target.
    assert us.strokes_for("<") == (Stroke("Comma", (SHIFT,)),)
    assert us.strokes_for("é") is None
    assert us.char_for("KeyA", altgr=True) is None  # us(basic) has no third level


def test_en_gb() -> None:
    gb = load_layout("en-gb")
    assert gb.strokes_for('"') == (Stroke("Digit2", (SHIFT,)),)
    assert gb.strokes_for("@") == (Stroke("Quote", (SHIFT,)),)
    assert gb.strokes_for("£") == (Stroke("Digit3", (SHIFT,)),)
    assert gb.strokes_for("#") == (Stroke("Backslash"),)
    # Shift is preferred to AltGr when both need one modifier.
    assert gb.strokes_for("|") == (Stroke("IntlBackslash", (SHIFT,)),)


def test_de() -> None:
    de = load_layout("de")
    assert de.strokes_for("y") == (Stroke("KeyZ"),)
    assert de.strokes_for("z") == (Stroke("KeyY"),)
    assert de.strokes_for("@") == (Stroke("KeyQ", (ALTGR,)),)
    assert de.strokes_for("ß") == (Stroke("Minus"),)
    assert de.strokes_for("ü") == (Stroke("BracketLeft"),)
    assert de.strokes_for("€") == (Stroke("KeyE", (ALTGR,)),)
    assert de.strokes_for("<") == (Stroke("IntlBackslash"),)
    assert de.strokes_for("|") == (Stroke("IntlBackslash", (ALTGR,)),)
    # Accented letters de has no key for go through its dead keys.
    assert de.strokes_for("é") == (Stroke("Equal"), Stroke("KeyE"))
    assert de.strokes_for("È") == (Stroke("Equal", (SHIFT,)), Stroke("KeyE", (SHIFT,)))
    assert de.strokes_for("ê") == (Stroke("Backquote"), Stroke("KeyE"))
    # "^" is only a dead key on de: dead key, then space.
    assert de.strokes_for("^") == (Stroke("Backquote"), Stroke("Space"))
    assert de.char_for("Backquote") == CIRCUMFLEX
    assert de.char_for("Equal", shift=True) == GRAVE
    assert de.char_for("KeyQ", altgr=True) == "@"
    assert de.char_for("Minus", shift=True, altgr=True) == "¿"


def test_fr() -> None:
    fr = load_layout("fr")
    assert fr.strokes_for("a") == (Stroke("KeyQ"),)
    assert fr.strokes_for("q") == (Stroke("KeyA"),)
    assert fr.strokes_for("m") == (Stroke("Semicolon"),)
    assert fr.strokes_for("1") == (Stroke("Digit1", (SHIFT,)),)
    assert fr.strokes_for("é") == (Stroke("Digit2"),)
    assert fr.strokes_for("ê") == (Stroke("BracketLeft"), Stroke("KeyE"))
    # fr's "<" is only generic pc105 data, but the alternative needs AltGr+Shift.
    assert "IntlBackslash" in fr.generic_keys
    assert fr.strokes_for("<") == (Stroke("IntlBackslash"),)


def test_other_layouts() -> None:
    assert load_layout("ru").strokes_for("й") == (Stroke("KeyQ"),)
    assert load_layout("ja").strokes_for("@") == (Stroke("BracketLeft"),)
    assert load_layout("en-us-colemak").strokes_for("f") == (Stroke("KeyE"),)
    assert load_layout("bepo").strokes_for("b") == (Stroke("KeyQ"),)
    assert load_layout("de-ch").strokes_for("z") == (Stroke("KeyY"),)
    assert load_layout("fr-ch").strokes_for("é") == (Stroke("Semicolon"),)
    assert load_layout("pt-br").strokes_for("ç") == (Stroke("Semicolon"),)
    intl = load_layout("en-us-altgr-intl")
    assert intl.strokes_for("'") == (Stroke("Quote"),)  # its dead keys live behind AltGr
    assert intl.strokes_for("é") == (Stroke("KeyE", (ALTGR,)),)


def test_untypable_reports_positions() -> None:
    us = load_layout("en-us")
    assert us.untypable("abc") == []
    assert us.untypable("naïve café ✓") == [(2, "ï"), (9, "é"), (11, "✓")]
    assert load_layout("de").untypable("naïve café ✓") == [(11, "✓")]
    # Only group 1 is modelled: ru types Cyrillic, not Latin.
    assert load_layout("ru").untypable("привет, w") == [(8, "w")]
    assert us.strokes_for("\r") is None


# --------------------------------------------------------------------------- composer


def test_dead_keys_follow_libx11s_compose_table() -> None:
    de = load_layout("de")
    # On X, dead acute + space is an apostrophe: the acute accent is the dead key twice.
    assert de.strokes_for("\u00b4") == (Stroke("Equal"), Stroke("Equal"))
    assert type_strokes(de, [Stroke("Equal"), Stroke("Space")]) == "'"
    # dead_belowmacron + space types nothing on X: "ˍ" is not typable on de.
    assert de.strokes_for("\u02cd") is None
    assert de.char_for("IntlBackslash", shift=True, altgr=True) == dead_key("belowmacron")
    fr = load_layout("fr")
    assert fr.strokes_for("\u00a8") == (
        Stroke("BracketLeft", (SHIFT,)),
        Stroke("BracketLeft", (SHIFT,)),
    )


def test_a_key_that_starts_a_sequence_does_not_type_itself() -> None:
    # Arabic's lam-alef key types two letters through Compose; never the ligature itself.
    ar = load_layout("ar")
    assert ar.char_for("KeyB") == "\ufefb"
    assert type_strokes(ar, [Stroke("KeyB")]) == "\u0644\u0627"
    assert ar.strokes_for("\ufefb") is None


def test_sequences_other_locales_type_differently_are_not_used() -> None:
    # pt_BR.UTF-8 and pt_PT.UTF-8 type dead acute + c as "ç", not "ć".
    compose = load_compose()
    assert compose.is_locale_dependent((ACUTE, "c"))
    assert load_layout("pt-br").strokes_for("\u0107") is None
    assert load_layout("pt-br").strokes_for("ç") == (Stroke("Semicolon"),)
    # pl has its own key for it.
    assert load_layout("pl").strokes_for("\u0107") == (Stroke("KeyC", (ALTGR,)),)


def test_composer_follows_sequences_and_swallows_what_cancels_them() -> None:
    composer = DeadKeyComposer()
    assert composer.feed("a") == "a"
    assert composer.feed(ACUTE) == ""
    assert composer.pending == (ACUTE,)
    assert composer.feed("e") == "é"
    assert composer.pending == ()
    assert composer.feed(ACUTE) == ""
    assert composer.feed(ACUTE) == "\u00b4"
    # A key that continues no sequence cancels it and types nothing, as libX11 does.
    assert composer.feed(ACUTE) == ""
    assert composer.feed("x") == ""
    assert composer.feed("x") == "x"
    # None: a key with no text (an arrow, F1) cancels too.
    assert composer.feed(CIRCUMFLEX) == ""
    assert composer.feed(None) == ""
    assert composer.feed("e") == "e"
    # Three keys: acute, diaeresis, then the letter.
    assert [composer.feed(s) for s in (ACUTE, DIAERESIS, "u")] == ["", "", "ǘ"]
    composer.feed(GRAVE)
    composer.reset()
    assert composer.pending == ()
    assert composer.feed("e") == "e"
    # A dead key that starts no sequence types nothing.
    assert DeadKeyComposer(ComposeTable([])).feed(ACUTE) == ""


def test_custom_layout_compose_table_and_validation() -> None:
    layout = Layout("tiny", {"KeyA": ["a", "A"], "Quote": [ACUTE], "Space": [" ", " "]})
    assert layout.strokes_for("á") == (Stroke("Quote"), Stroke("KeyA"))
    assert layout.strokes_for("\u00b4") == (Stroke("Quote"), Stroke("Quote"))
    # en_US.UTF-8 types acute + space as "'", fi_FI.UTF-8 as U+00B4: not used.
    assert layout.strokes_for("'") is None
    assert layout.char_for("KeyA", shift=True, altgr=True) is None
    assert layout.char_for("Enter") == "\n"
    assert layout.char_for("Tab", shift=True) is None  # ISO_Left_Tab, not a tab
    assert layout.char_for("F1") is None
    own = ComposeTable([((ACUTE, "a"), "x"), ((ACUTE, ACUTE), None)], locale="test")
    tiny = Layout("tiny", {"KeyA": ["a"], "Quote": [ACUTE]}, compose=own)
    assert tiny.strokes_for("x") == (Stroke("Quote"), Stroke("KeyA"))
    assert tiny.strokes_for("á") is None
    with pytest.raises(ValueError, match="neither a character nor a dead key"):
        Layout("bad", {"KeyA": ["ab"]})
    with pytest.raises(ValueError, match="more than 4 levels"):
        Layout("bad", {"KeyA": ["a", "b", "c", "d", "e"]})
    with pytest.raises(ValueError, match="not a dead key name"):
        dead_key("\u0301")
    with pytest.raises(ValueError, match="extends a complete one"):
        ComposeTable([((ACUTE,), "\u00b4"), ((ACUTE, "a"), "á")])
    with pytest.raises(ValueError, match="conflicts"):
        ComposeTable([((ACUTE, "a"), "á"), ((ACUTE, "a"), "b")])


def test_stroke_is_frozen() -> None:
    stroke = Stroke("KeyA", (SHIFT,))
    with pytest.raises(AttributeError):
        stroke.key = "KeyB"  # type: ignore[misc]
    assert stroke == Stroke("KeyA", ("ShiftLeft",))
    assert hash(stroke) == hash(Stroke("KeyA", ("ShiftLeft",)))
