"""The emulator's target reads keys with its own layout, as that OS would; the HID rate limit."""

from __future__ import annotations

import pytest

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator, Target
from aiopikvm.emulator._hid_events import KeyEvent

from .conftest import eventually


def tap(target: Target, *keys: str) -> None:
    for key in keys:
        target.apply(KeyEvent(key, True))
        target.apply(KeyEvent(key, False))


def chord(target: Target, modifiers: tuple[str, ...], *keys: str) -> None:
    for modifier in modifiers:
        target.apply(KeyEvent(modifier, True))
    tap(target, *keys)
    for modifier in reversed(modifiers):
        target.apply(KeyEvent(modifier, False))


def test_a_german_target() -> None:
    target = Target(layout="de")
    tap(target, "KeyZ", "KeyY", "BracketLeft", "Minus")
    chord(target, ("AltRight",), "KeyQ", "KeyE")
    chord(target, ("ShiftLeft",), "Digit2", "Digit7")
    chord(target, ("AltRight", "ShiftLeft"), "KeyC")
    assert target.screen_text == 'yzüß@€"/©'


def test_dead_keys_compose_with_the_next_key_as_on_x() -> None:
    target = Target(layout="fr")
    tap(target, "BracketLeft", "KeyE")  # ^ then e
    tap(target, "BracketLeft", "Space")  # ^ then space: the accent itself
    tap(target, "BracketLeft", "KeyT")  # no ^t: X cancels, and the t is swallowed
    chord(target, ("ShiftLeft",), "BracketLeft")
    tap(target, "KeyU")  # diaeresis then u
    assert target.screen_text == "ê^ü"
    tap(target, "BracketLeft", "ArrowLeft", "KeyE")  # a key without text cancels too
    assert target.screen_text == "ê^üe"


def test_a_german_target_types_what_x_types_for_its_dead_keys() -> None:
    target = Target(layout="de")
    tap(target, "Equal", "Space", "Equal", "Equal")  # dead acute: + space, twice
    chord(target, ("AltRight", "ShiftLeft"), "IntlBackslash")  # dead belowmacron...
    tap(target, "Space")  # ...+ space is no sequence on X: nothing
    assert target.screen_text == "'\u00b4"


def test_keys_that_start_a_sequence() -> None:
    target = Target(layout="ar")
    tap(target, "KeyB")  # the lam-alef key types two letters through Compose
    assert target.screen_text == "\u0644\u0627"


def test_the_host_writes_on_its_console() -> None:
    target = Target(layout="de")
    tap(target, "Equal")  # an unfinished sequence survives the host's output
    target.write("Passwort: ")
    tap(target, "KeyE")
    assert target.screen_text == "Passwort: é"


def test_backspace_and_escape_cancel_a_pending_dead_key() -> None:
    target = Target(layout="fr")
    tap(target, "KeyQ", "BracketLeft", "Backspace", "KeyE")  # AZERTY: KeyQ is a
    tap(target, "BracketLeft", "Escape", "KeyE")
    tap(target, "BracketLeft", "ScrollLock", "KeyE")
    tap(target, "Backspace", "Backspace")
    assert target.screen_text == "ae"


def test_altgr_only_where_the_layout_has_it() -> None:
    us = Target(layout="en-us")
    chord(us, ("AltRight",), "KeyQ")  # a plain Alt here: a shortcut
    assert us.screen_text == ""
    de = Target(layout="de")
    chord(de, ("ControlLeft",), "KeyQ")
    chord(de, ("AltLeft",), "KeyQ")
    assert de.screen_text == ""


def test_caps_lock_acts_on_letters_of_any_layout() -> None:
    target = Target(layout="de")
    tap(target, "CapsLock", "BracketLeft", "KeyZ", "Digit1", "Minus")
    chord(target, ("ShiftLeft",), "Semicolon")
    assert target.screen_text == "ÜY1ßö"


def test_switching_layout_and_clearing_the_screen() -> None:
    target = Target(layout="fr")
    assert target.layout.name == "fr"
    tap(target, "KeyQ", "BracketLeft")  # a, and a pending dead key
    target.set_layout("en-us")
    tap(target, "KeyQ")
    assert target.screen_text == "aq"
    target.clear_screen()
    assert target.screen_text == ""
    with pytest.raises(ValueError, match="unknown layout"):
        target.set_layout("xx")


async def test_the_emulator_passes_its_target_layout_on() -> None:
    async with Emulator(target_layout="ru") as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("Привет, мир", layout="ru", delay=0.001)
        assert emu.target.screen_text == "Привет, мир"
        assert emu.target.layout.name == "ru"


async def test_a_rate_limited_hid_queues_input_without_loss() -> None:
    async with (
        Emulator(hid_rate_limit=200) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        for _ in range(50):
            await ws.send_key("KeyA")  # 100 events at once: half a second's worth
        await ws.ping()
        assert len(emu.target.screen_text) < 50  # still queued, not dropped...
        await eventually(lambda: emu.target.screen_text == "a" * 50)  # ...all arrive


def test_the_rate_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="hid_rate_limit"):
        Emulator(hid_rate_limit=0)
