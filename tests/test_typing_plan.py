"""Typing plans and pixel conversion: the pure half of typing and pointing, no event loop."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiopikvm import InvalidInputError, UntypableTextError
from aiopikvm.protocol.frames import KeyInput
from aiopikvm.protocol.keys import MODIFIERS
from aiopikvm.protocol.layout import ALTGR, LAYOUTS, SHIFT, DeadKeyComposer, load_layout
from aiopikvm.protocol.typing import TypingStep, check_typable, plan_typing


def tap(key: str) -> KeyInput:
    return KeyInput(key, True, finish=True)


def down(key: str) -> KeyInput:
    return KeyInput(key, True)


def up(key: str) -> KeyInput:
    return KeyInput(key, False)


def inputs(text: str, layout: str) -> list[KeyInput]:
    return [step.input for step in plan_typing(text, layout)]


def replay(steps: list[TypingStep], layout: str) -> tuple[str, set[str]]:
    """What a host with ``layout`` types from the plan, and what it still holds after."""
    table = load_layout(layout)
    composer = DeadKeyComposer()
    held: set[str] = set()
    out = []
    for step in steps:
        key = step.input
        if key.key in MODIFIERS:
            (held.add if key.state else held.discard)(key.key)
            continue
        assert key.state and key.finish  # every other key is a tap
        symbol = table.char_for(key.key, shift=SHIFT in held, altgr=ALTGR in held)
        assert symbol is not None, key
        out.append(composer.feed(symbol))
    assert composer.pending == ()
    return "".join(out), held


def test_plain_shifted_and_altgr_characters_on_a_german_target() -> None:
    assert inputs("yZ@", "de") == [
        tap("KeyZ"),  # y and z swap places on a German keyboard
        down(SHIFT),
        tap("KeyY"),
        up(SHIFT),
        down(ALTGR),
        tap("KeyQ"),
        up(ALTGR),
    ]


def test_a_dead_key_then_its_base() -> None:
    # French: ê is the circumflex dead key, then e
    assert inputs("ê", "fr") == [tap("BracketLeft"), tap("KeyE")]
    assert inputs("Ê", "fr") == [tap("BracketLeft"), down(SHIFT), tap("KeyE"), up(SHIFT)]


def test_a_modifier_stays_down_while_the_next_character_needs_it() -> None:
    assert inputs("AB c", "en-us") == [
        down(SHIFT),
        tap("KeyA"),
        tap("KeyB"),
        up(SHIFT),
        tap("Space"),
        tap("KeyC"),
    ]
    # AltGr+Shift, then AltGr alone: only Shift is let go in between
    assert inputs("©@", "de") == [
        down(ALTGR),
        down(SHIFT),
        tap("KeyC"),
        up(SHIFT),
        tap("KeyQ"),
        up(ALTGR),
    ]


def test_enter_and_tab() -> None:
    assert inputs("a\n\tb", "en-us") == [tap("KeyA"), tap("Enter"), tap("Tab"), tap("KeyB")]


def test_typed_counts_the_characters_complete_after_each_step() -> None:
    steps = plan_typing("aB", "en-us")
    assert [(s.input, s.typed) for s in steps] == [
        (tap("KeyA"), 1),
        (down(SHIFT), 1),
        (tap("KeyB"), 2),
        (up(SHIFT), 2),
    ]
    assert [s.hid_events for s in steps] == [2, 1, 2, 1]


def test_empty_text_plans_nothing() -> None:
    assert plan_typing("", "de") == []


def test_untypable_characters_are_listed_with_their_positions() -> None:
    with pytest.raises(UntypableTextError) as caught:
        plan_typing("a€b\u4e2dc€", "en-us")
    error = caught.value
    assert isinstance(error, InvalidInputError)
    assert error.characters == [(1, "€"), (3, "\u4e2d"), (5, "€")]
    assert error.layout == "en-us"
    assert "'€' at 1" in str(error) and "'中' at 3" in str(error) and "'€' at 5" in str(error)
    assert "nothing was typed" in str(error)


def test_a_long_list_of_untypable_characters_is_summed_up() -> None:
    with pytest.raises(UntypableTextError, match=r"cannot type 50 character.*and 30 more"):
        check_typable("ж" * 50, "en-us")


def test_unknown_layout_and_bad_text() -> None:
    with pytest.raises(InvalidInputError, match="unknown layout 'klingon'"):
        plan_typing("a", "klingon")
    with pytest.raises(InvalidInputError, match="text must be a str, got bytes"):
        plan_typing(b"a", "en-us")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="layout must be a layout name"):
        plan_typing("a", 7)  # type: ignore[arg-type]


def test_a_layout_object_is_taken_as_it_is() -> None:
    assert check_typable("ü", load_layout("de")) is load_layout("de")


@pytest.mark.parametrize("name", LAYOUTS)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_plan_types_its_text_and_leaves_nothing_held(name: str, data: st.DataObject) -> None:
    layout = load_layout(name)
    text = data.draw(st.text(st.sampled_from(sorted(layout.characters)), max_size=40))
    steps = plan_typing(text, name)
    typed, held = replay(steps, name)
    assert typed == text
    assert held == set()
    assert steps == [] or steps[-1].typed == len(text)
    assert [s.typed for s in steps] == sorted(s.typed for s in steps)
