"""``kvm.hid`` through the public client against the emulator: state, settings, every input
call and its validation, and typing text with ``hid/print``."""

from __future__ import annotations

import string
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopikvm import BadRequestError, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.models import HidKeymaps, HidState
from aiopikvm.models._base import parse

from .captures import result
from .conftest import eventually

NOWHERE = "http://127.0.0.1:9"
"""A closed port: a call that raises InvalidInputError there sent nothing."""


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


@pytest.fixture
async def nowhere() -> AsyncIterator[PiKVM]:
    async with PiKVM(NOWHERE) as client:
        yield client


def key_events(emu: Emulator) -> list[tuple[Any, ...]]:
    return [event for event in emu.target.events if event[0] == "key"]


# ----- state and settings -------------------------------------------------------------


async def test_state_keymaps_and_inactivity(emu: Emulator, kvm: PiKVM) -> None:
    assert await kvm.hid.get_state() == parse(HidState, result("hid.json"), "hid")
    assert await kvm.hid.get_keymaps() == parse(HidKeymaps, result("hid_keymaps.json"), "keymaps")
    recorded = result("hid_inactivity.json")["inactivity"]
    assert await kvm.hid.get_inactivity() >= recorded
    await kvm.hid.send_key("KeyA")
    assert await kvm.hid.get_inactivity() < recorded


async def test_set_params_switches_the_mouse_and_the_jiggler(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.set_params(mouse_output="usb_rel", jiggler=True)
    state = await kvm.hid.get_state()
    assert state.mouse.absolute is False and state.mouse.outputs.active == "usb_rel"
    assert state.jiggler.active is True
    await kvm.hid.send_mouse_relative(5, -5)
    await eventually(lambda: ("mouse_relative", 5, -5) in emu.target.events)
    await kvm.hid.set_params(mouse_output="usb", jiggler=False)
    state = await kvm.hid.get_state()
    assert state.mouse.absolute is True and state.jiggler.active is False


async def test_set_connected_and_reset(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.set_connected(True)
    await kvm.hid.send_key("KeyQ", True)
    await kvm.hid.send_mouse_button("left", True)
    await eventually(lambda: emu.target.held_keys == {"KeyQ"} and bool(emu.target.mouse_buttons))
    await kvm.hid.reset()
    await eventually(lambda: not emu.target.held_keys and not emu.target.mouse_buttons)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"keyboard_output": "usb_rel"}, id="keyboard"),
        pytest.param({"mouse_output": "USB"}, id="mouse"),
        pytest.param({"jiggler": 1}, id="jiggler"),
    ],
)
async def test_bad_params_are_refused_before_sending(
    nowhere: PiKVM, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError):
        await nowhere.hid.set_params(**kwargs)


async def test_set_connected_wants_a_bool(nowhere: PiKVM) -> None:
    with pytest.raises(InvalidInputError):
        await nowhere.hid.set_connected(1)  # type: ignore[arg-type]


# ----- keys and mouse -----------------------------------------------------------------


async def test_send_key_press_release_tap_and_finish(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.send_key("KeyB", True)
    await eventually(lambda: emu.target.held_keys == {"KeyB"})
    await kvm.hid.send_key("KeyB", False)
    await kvm.hid.send_key("KeyC", True, finish=True)
    await kvm.hid.send_key("KeyD")
    await eventually(lambda: ("key", "KeyD", False) in emu.target.events)  # the last event
    assert emu.target.screen_text == "bcd"
    assert emu.target.held_keys == frozenset()


async def test_tapping_a_modifier_releases_it(emu: Emulator, kvm: PiKVM) -> None:
    # kvmd's own tap (no state) would leave it held: the client presses and releases.
    await kvm.hid.send_key("ShiftLeft")
    await kvm.hid.send_key("KeyA")
    await eventually(lambda: ("key", "KeyA", False) in emu.target.events)  # the last event
    assert emu.target.screen_text == "a"
    assert emu.target.held_keys == frozenset()


async def test_send_shortcut_presses_in_order_and_releases_in_reverse(
    emu: Emulator, kvm: PiKVM
) -> None:
    await kvm.hid.send_shortcut("ControlLeft", "AltLeft", "Delete")
    keys = ("ControlLeft", "AltLeft", "Delete")
    expected = [("key", k, True) for k in keys] + [("key", k, False) for k in reversed(keys)]
    await eventually(lambda: key_events(emu) == expected)


async def test_mouse_buttons_move_and_wheel(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.send_mouse_button("right")
    await kvm.hid.send_mouse_button("left", True)
    await eventually(lambda: emu.target.mouse_buttons == {"left"})
    await kvm.hid.send_mouse_button("left", False)
    await kvm.hid.send_mouse_move(-32768, 32767)
    await kvm.hid.send_mouse_wheel(0, -1)
    await eventually(lambda: ("mouse_wheel", 0, -1) in emu.target.events)
    assert emu.target.mouse_position == (-32768, 32767)
    buttons = [event for event in emu.target.events if event[0] == "mouse_button"]
    assert buttons == [
        ("mouse_button", "right", True),
        ("mouse_button", "right", False),
        ("mouse_button", "left", True),
        ("mouse_button", "left", False),
    ]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda kvm: kvm.hid.send_key("a"), "KeyA", id="key-char"),
        pytest.param(lambda kvm: kvm.hid.send_key("KeyA", 1), "state", id="key-state"),
        pytest.param(lambda kvm: kvm.hid.send_key("KeyA", True, finish=1), "finish", id="finish"),
        pytest.param(lambda kvm: kvm.hid.send_shortcut(), "at least one", id="no-keys"),
        pytest.param(lambda kvm: kvm.hid.send_shortcut("ControlLeft", "c"), "'c'", id="shortcut"),
        pytest.param(lambda kvm: kvm.hid.send_mouse_button("back"), "button", id="button"),
        pytest.param(lambda kvm: kvm.hid.send_mouse_move(0, 32768), "32767", id="move"),
        pytest.param(lambda kvm: kvm.hid.send_mouse_move(0.5, 0), "int", id="move-float"),
        pytest.param(lambda kvm: kvm.hid.send_mouse_relative(128, 0), "127", id="relative"),
        pytest.param(lambda kvm: kvm.hid.send_mouse_wheel(0, -128), "127", id="wheel"),
    ],
)
async def test_bad_input_is_refused_before_sending(nowhere: PiKVM, call: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        await call(nowhere)


# ----- typing -------------------------------------------------------------------------


def long_text(length: int) -> str:
    """Printable ASCII with newlines and tabs, every character kind en-us can type."""
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \n\t"
    return "".join(alphabet[(i * 7) % len(alphabet)] for i in range(length))


@pytest.fixture
async def instant_kvm() -> AsyncIterator[tuple[Emulator, PiKVM]]:
    # An instant HID: thousands of events would take seconds to drain at 1 ms each, and
    # what these tests study is where text is cut, not the HID's pace.
    async with Emulator(hid_delay=0) as emu, PiKVM(emu.url, passwd="admin") as client:
        yield emu, client


async def test_a_text_past_kvmds_1024_characters_arrives_whole(
    instant_kvm: tuple[Emulator, PiKVM],
) -> None:
    emu, kvm = instant_kvm
    text = long_text(1500)
    await kvm.hid.type_text(text, keymap="en-us")
    await eventually(lambda: emu.target.screen_text == text)
    assert emu.target.held_keys == frozenset()  # Shift let go at the end


async def test_kvmd_itself_cuts_at_1024(instant_kvm: tuple[Emulator, PiKVM]) -> None:
    # What type_text avoids: hid/print without a limit types only the first 1024.
    emu, kvm = instant_kvm
    text = long_text(1500)
    await kvm.request("POST", "hid/print", params={"keymap": "en-us"}, content=text.encode())
    await eventually(lambda: emu.target.screen_text == text[:1024])


async def test_the_device_drops_what_the_keymap_cannot_type(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.type_text("a€b\x07c\u2019d\u2014e", keymap="en-us")
    # € has no key and BEL is a control character: dropped. kvmd types the typographic
    # apostrophe as ' and drops the em dash.
    await eventually(lambda: emu.target.screen_text == "abc'de")


async def test_the_keymap_decides_the_keys(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.type_text("zy@", keymap="de")  # de: z on KeyY, y on KeyZ, @ = AltGr+KeyQ
    await eventually(lambda: len(key_events(emu)) >= 8)
    assert emu.target.screen_text == "yz"  # an en-us host reads the keys its own way (AltGr+Q)
    emu.target.clear_screen()
    emu.target.set_layout("de")
    await kvm.hid.type_text("zy@", keymap="de")
    await eventually(lambda: emu.target.screen_text == "zy@")


async def test_the_default_keymap_is_the_devices(emu: Emulator, kvm: PiKVM) -> None:
    assert (await kvm.hid.get_keymaps()).keymaps.default == "ru"
    await kvm.hid.type_text("ая")  # KeyF and KeyZ on ru
    await eventually(lambda: emu.target.screen_text == "fz")


async def test_with_a_delay_the_answer_comes_after_the_last_key(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.type_text("Hi!", keymap="en-us", delay=0.01)
    assert emu.target.screen_text == "Hi!"  # the answer came after the last key
    await kvm.hid.type_text(" ok", keymap="en-us", slow=True)
    assert emu.target.screen_text == "Hi! ok"


async def test_an_unknown_keymap_is_kvmds_400(kvm: PiKVM) -> None:
    with pytest.raises(BadRequestError) as refused:
        await kvm.hid.type_text("x", keymap="xx")
    assert refused.value.error == "ValidatorError"
    assert refused.value.error_msg == "The argument 'xx' is not a valid keymap"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"limit": 10}, "over limit=10", id="over-limit"),
        pytest.param({"limit": -1}, "limit", id="negative-limit"),
        pytest.param({"delay": 5.5}, "delay", id="delay-too-long"),
        pytest.param({"delay": -0.1}, "delay", id="negative-delay"),
        pytest.param({"delay": float("nan")}, "delay", id="nan-delay"),
        pytest.param({"slow": 1}, "slow", id="slow"),
        pytest.param({"keymap": ""}, "keymap", id="empty-keymap"),
        pytest.param({"keymap": "../de"}, "keymap", id="path-keymap"),
    ],
)
async def test_bad_typing_arguments_are_refused_before_sending(
    nowhere: PiKVM, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        await nowhere.hid.type_text("x" * 20, **kwargs)


async def test_text_utf8_cannot_carry_is_refused(nowhere: PiKVM) -> None:
    with pytest.raises(InvalidInputError, match="UTF-8"):
        await nowhere.hid.type_text("a\ud800b")


async def test_within_the_limit_is_typed(emu: Emulator, kvm: PiKVM) -> None:
    await kvm.hid.type_text("abc", keymap="en-us", limit=3)
    await eventually(lambda: emu.target.screen_text == "abc")


BOOL = "bool (['1', 'true', 'yes'] or ['0', 'false', 'no'])"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "-1"}, "The argument '-1' must be int and greater or equial than 0"),
        ({"limit": "x"}, "The argument 'x' is not a valid int"),
        ({"keymap": ""}, "None argument is not a valid keymap"),
        ({"keymap": ".hidden"}, "The argument '.hidden' is not a valid keymap"),
        ({"keymap": "en-us", "slow": "maybe"}, f"The argument 'maybe' is not a valid {BOOL}"),
        ({"keymap": "en-us", "delay": "abc"}, "The argument 'abc' is not a valid keys delay"),
        (
            {"keymap": "en-us", "delay": "6"},
            "The argument '6.0' must be keys delay and lesser or equal then 5",
        ),
        (
            {"keymap": "en-us", "delay": "-1"},
            "The argument '-1.0' must be keys delay and greater or equial than 0",
        ),
    ],
)
async def test_the_emulator_refuses_print_arguments_like_kvmd(
    emu: Emulator, kvm: PiKVM, query: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequestError) as refused:
        await kvm.request("POST", "hid/print", params=query, content=b"x")
    assert (refused.value.error, refused.value.error_msg) == ("ValidatorError", message)
    assert emu.target.screen_text == ""
