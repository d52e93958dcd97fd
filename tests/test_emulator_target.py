"""The simulated target on its own: what a host makes of the HID events it receives."""

from __future__ import annotations

import pytest

from aiopikvm.emulator import Target
from aiopikvm.emulator._hid_events import (
    ButtonEvent,
    ClearEvent,
    KeyEvent,
    MoveEvent,
    RelativeEvent,
    WheelEvent,
)


def tap(target: Target, *keys: str) -> None:
    for key in keys:
        target.apply(KeyEvent(key, True))
        target.apply(KeyEvent(key, False))


def chord(target: Target, modifier: str, *keys: str) -> None:
    target.apply(KeyEvent(modifier, True))
    tap(target, *keys)
    target.apply(KeyEvent(modifier, False))


@pytest.mark.parametrize(
    ("keys", "text"),
    [
        (("KeyH", "KeyI", "Space", "Digit4", "Digit2"), "hi 42"),
        (("Minus", "Equal", "BracketLeft", "BracketRight", "Backslash"), "-=[]\\"),
        (("Semicolon", "Quote", "Backquote", "Comma", "Period", "Slash"), ";'`,./"),
        (("KeyA", "Enter", "Tab", "KeyB"), "a\n\tb"),
        (("KeyA", "KeyB", "Backspace", "KeyC"), "ac"),
        (("Numpad1", "NumpadDecimal", "NumpadAdd", "NumpadEnter"), "1.+\n"),
        (("F1", "ArrowLeft", "Escape", "Home"), ""),
    ],
)
def test_us_layout(keys: tuple[str, ...], text: str) -> None:
    target = Target()
    tap(target, *keys)
    assert target.screen_text == text


def test_shift_gives_upper_symbols() -> None:
    target = Target()
    chord(target, "ShiftLeft", "KeyA", "Digit1", "Digit2", "Quote", "Slash", "Backquote")
    chord(target, "ShiftRight", "Digit0", "Minus", "Semicolon")
    assert target.screen_text == 'A!@"?~)_:'


def test_caps_lock_toggles_letters_only() -> None:
    target = Target()
    tap(target, "CapsLock", "KeyA", "Digit1")
    chord(target, "ShiftLeft", "KeyB")
    assert target.screen_text == "A1b"
    assert target.leds == {"caps": True, "num": True, "scroll": False}
    tap(target, "CapsLock", "KeyC")
    assert target.screen_text == "A1bc"


def test_num_lock_off_numpad_types_nothing() -> None:
    target = Target()
    tap(target, "NumLock", "Numpad5", "NumpadMultiply")
    assert target.screen_text == "*"
    assert target.leds["num"] is False


def test_shortcuts_type_nothing() -> None:
    target = Target()
    chord(target, "ControlLeft", "KeyC")
    chord(target, "AltRight", "KeyQ")
    chord(target, "MetaLeft", "KeyR")
    assert target.screen_text == ""
    assert target.held_keys == frozenset()


def test_repress_and_release_of_keys() -> None:
    target = Target()
    target.apply(KeyEvent("KeyA", True))
    target.apply(KeyEvent("KeyA", True))  # a held key pressed again: released, then pressed
    target.apply(KeyEvent("KeyB", False))  # not held: the host gets nothing
    assert target.events == [
        ("key", "KeyA", True),
        ("key", "KeyA", False),
        ("key", "KeyA", True),
    ]
    assert target.screen_text == "aa"
    assert target.held_keys == {"KeyA"}


def test_six_key_rollover() -> None:
    target = Target()
    keys = ["KeyA", "KeyB", "KeyC", "KeyD", "KeyE", "KeyF"]
    target.apply(KeyEvent("ShiftLeft", True))
    for key in keys:
        target.apply(KeyEvent(key, True))
    assert target.held_keys == {"ShiftLeft", *keys}
    target.apply(KeyEvent("KeyG", True))  # a seventh key: the other six are let go first
    assert target.held_keys == {"ShiftLeft", "KeyG"}
    assert target.screen_text == "ABCDEFG"


def test_mouse_and_clear() -> None:
    target = Target()
    target.apply(MoveEvent(-32768, 32767))
    target.apply(ButtonEvent("left", True))
    target.apply(RelativeEvent(3, -3))
    target.apply(WheelEvent(0, -1))
    target.apply(KeyEvent("ControlLeft", True))
    assert target.mouse_position == (-32768, 32767)
    assert target.mouse_buttons == {"left"}
    target.apply(ClearEvent())
    assert (target.held_keys, target.mouse_buttons) == (frozenset(), frozenset())
    assert target.events[-1] == ("clear",)
    assert target.mouse_position == (-32768, 32767)


def test_a_clear_that_releases_nothing_is_not_logged() -> None:
    target = Target()
    target.apply(ClearEvent())
    target.apply(KeyEvent("KeyA", True))
    target.apply(ClearEvent(keyboard=False, mouse=True))
    assert target.events == [("key", "KeyA", True)]
    assert target.held_keys == {"KeyA"}


def test_powered_off_host_receives_nothing() -> None:
    changes: list[bool] = []
    target = Target()
    target.add_listener(lambda: changes.append(target.powered))
    target.apply(KeyEvent("KeyX", True))
    target.set_powered(False)
    assert target.held_keys == frozenset()
    tap(target, "KeyY")
    target.apply(MoveEvent(5, 5))
    assert target.events == [("key", "KeyX", True), ("power", False)]
    assert target.screen_text == "x"
    target.set_powered(True)
    assert changes == [False, True]


def test_events_is_a_copy() -> None:
    target = Target()
    target.events.append(("key", "KeyA", True))
    assert target.events == []
