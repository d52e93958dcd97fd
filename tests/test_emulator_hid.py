"""The emulator's HID endpoints: what reaches the target, and what kvmd refuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopikvm.emulator import Emulator

from .emulator_helpers import captured_result, eventually, inactivity, request, shape

BOOL = "bool (['1', 'true', 'yes'] or ['0', 'false', 'no'])"
RECORDED_INACTIVITY = captured_result("hid_inactivity.json")["inactivity"]


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator() as emulator:
        yield emulator


async def post(emu: Emulator, path: str) -> Any:
    response = await request(emu, "POST", path)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "result": {}}


async def test_state_has_the_recorded_shape(emu: Emulator) -> None:
    state = (await request(emu, "GET", "/api/hid")).json()["result"]
    assert shape(state) == shape(captured_result("hid.json"))
    assert state == captured_result("hid.json")  # the recorded device was online, like ours


async def test_send_key_without_state_taps(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_key?key=KeyA")
    await eventually(lambda: emu.target.events == [("key", "KeyA", True), ("key", "KeyA", False)])
    assert emu.target.screen_text == "a"
    assert await inactivity(emu) < RECORDED_INACTIVITY


async def test_send_key_without_state_leaves_a_modifier_down(emu: Emulator) -> None:
    # kvmd presses with "finish", and finish does not release modifiers.
    await post(emu, "/api/hid/events/send_key?key=ShiftLeft")
    await post(emu, "/api/hid/events/send_key?key=KeyA")
    # Until KeyA is released: then a release of ShiftLeft, queued before, is applied too.
    await eventually(lambda: ("key", "KeyA", False) in emu.target.events)
    assert emu.target.screen_text == "A"
    assert emu.target.held_keys == {"ShiftLeft"}


async def test_send_key_with_state_and_finish(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_key?key=KeyB&state=true")
    await eventually(lambda: emu.target.held_keys == {"KeyB"})
    await post(emu, "/api/hid/events/send_key?key=KeyB&state=0")
    await post(emu, "/api/hid/events/send_key?key=KeyC&state=YES&finish=1")
    await eventually(lambda: ("key", "KeyC", False) in emu.target.events)  # finish's release
    assert emu.target.screen_text == "bc"
    assert emu.target.held_keys == frozenset()


async def test_send_shortcut_presses_in_order_and_releases_in_reverse(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_shortcut?keys=ControlLeft,AltLeft,Delete")
    expected = [
        ("key", "ControlLeft", True),
        ("key", "AltLeft", True),
        ("key", "Delete", True),
        ("key", "Delete", False),
        ("key", "AltLeft", False),
        ("key", "ControlLeft", False),
    ]
    await eventually(lambda: emu.target.events == expected)


async def test_mouse_endpoints(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_mouse_move?to_x=100&to_y=-40000")
    await post(emu, "/api/hid/events/send_mouse_button?button=LEFT")  # lower-cased by kvmd
    await post(emu, "/api/hid/events/send_mouse_button?button=right&state=1")
    await post(emu, "/api/hid/events/send_mouse_wheel?delta_x=0&delta_y=-500")
    await post(emu, "/api/hid/events/send_mouse_relative?delta_x=5&delta_y=5")  # absolute mouse
    await eventually(lambda: ("mouse_wheel", 0, -127) in emu.target.events)
    assert emu.target.events == [
        ("mouse_move", 100, -32768),
        ("mouse_button", "left", True),
        ("mouse_button", "left", False),
        ("mouse_button", "right", True),
        ("mouse_wheel", 0, -127),
    ]
    assert emu.target.mouse_position == (100, -32768)
    assert emu.target.mouse_buttons == {"right"}


async def test_relative_mouse_output(emu: Emulator) -> None:
    await post(emu, "/api/hid/set_params?mouse_output=usb_rel")
    mouse = (await request(emu, "GET", "/api/hid")).json()["result"]["mouse"]
    assert mouse["absolute"] is False
    assert mouse["outputs"]["active"] == "usb_rel"
    await post(emu, "/api/hid/events/send_mouse_move?to_x=1&to_y=1")  # dropped now
    await post(emu, "/api/hid/events/send_mouse_relative?delta_x=-3&delta_y=4")
    await eventually(lambda: ("mouse_relative", -3, 4) in emu.target.events)
    assert not any(event[0] == "mouse_move" for event in emu.target.events)


async def test_set_params_jiggler_and_ignored_outputs(emu: Emulator) -> None:
    await post(emu, "/api/hid/set_params?jiggler=1&keyboard_output=ps2&mouse_output=ps2")
    state = (await request(emu, "GET", "/api/hid")).json()["result"]
    assert state["jiggler"]["active"] is True
    # Valid names this device does not have are accepted and change nothing.
    assert state["mouse"]["outputs"]["active"] == "usb"
    assert state["keyboard"]["outputs"] == {"available": [], "active": ""}


async def test_reset_and_set_connected(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_key?key=KeyZ&state=1")
    await eventually(lambda: emu.target.held_keys == {"KeyZ"})
    await post(emu, "/api/hid/reset")
    await eventually(lambda: emu.target.held_keys == frozenset())
    await post(emu, "/api/hid/set_connected?connected=0")
    assert (await request(emu, "GET", "/api/hid")).json()["result"]["connected"] is None


async def test_inactivity_is_not_reset_by_refused_input(emu: Emulator) -> None:
    assert await inactivity(emu) >= RECORDED_INACTIVITY
    response = await request(emu, "POST", "/api/hid/events/send_key?key=Nope")
    assert response.status_code == 400
    assert await inactivity(emu) >= RECORDED_INACTIVITY


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/hid/events/send_key?key=Nope", "The argument 'Nope' is not a valid Keyboard key"),
        ("/api/hid/events/send_key?key=keya", "The argument 'keya' is not a valid Keyboard key"),
        ("/api/hid/events/send_key", "None argument is not a valid Keyboard key"),
        (
            "/api/hid/events/send_key?key=KeyA&state=abc",
            f"The argument 'abc' is not a valid {BOOL}",
        ),
        ("/api/hid/events/send_key?key=KeyA&state=", f"None argument is not a valid {BOOL}"),
        (
            "/api/hid/events/send_shortcut?keys=ControlLeft,Nope",
            "Failed sub-validator on one of the item of ['ControlLeft', 'Nope']",
        ),
        ("/api/hid/events/send_shortcut", "None argument is not a valid string list"),
        (
            "/api/hid/events/send_mouse_button?button=Side",
            "The argument 'side' is not a valid Mouse button",
        ),
        (
            "/api/hid/events/send_mouse_move?to_x=1.5&to_y=0",
            "The argument '1.5' is not a valid Mouse move",
        ),
        ("/api/hid/events/send_mouse_move?to_x=0", "None argument is not a valid Mouse move"),
        (
            "/api/hid/events/send_mouse_wheel?delta_x=a&delta_y=0",
            "The argument 'a' is not a valid Mouse delta",
        ),
        ("/api/hid/set_params?mouse_output=vga", "The argument 'vga' is not a valid Mouse output"),
        (
            "/api/hid/set_params?keyboard_output=x",
            "The argument 'x' is not a valid Keyboard output",
        ),
        ("/api/hid/set_params?jiggler=on", f"The argument 'on' is not a valid {BOOL}"),
        ("/api/hid/set_connected", f"None argument is not a valid {BOOL}"),
    ],
)
async def test_validation_errors(emu: Emulator, path: str, message: str) -> None:
    response = await request(emu, "POST", path)
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "result": {"error": "ValidatorError", "error_msg": message},
    }
    assert emu.target.events == []


async def test_hex_numbers_are_accepted(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_mouse_move?to_x=0x10&to_y=-20")
    await eventually(lambda: emu.target.mouse_position == (16, -20))


async def test_keyboard_leds_follow_the_host(emu: Emulator) -> None:
    await post(emu, "/api/hid/events/send_key?key=CapsLock")
    await eventually(lambda: emu.target.leds["caps"])
    leds = (await request(emu, "GET", "/api/hid")).json()["result"]["keyboard"]["leds"]
    assert leds == {"caps": True, "num": True, "scroll": False}
    await post(emu, "/api/hid/events/send_key?key=KeyQ")
    await eventually(lambda: emu.target.screen_text == "Q")
