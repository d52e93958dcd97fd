"""The PiKVM Switch end to end: ``kvm.switch`` against the emulator, which answers like
kvmd with no switch unit attached (the recorded device)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from aiopikvm import BadRequestError, InvalidInputError, PiKVM, PiKVMWebSocket, ServerError
from aiopikvm.emulator import Emulator
from aiopikvm.emulator._switch import edid_info
from aiopikvm.models import SwitchColor, SwitchState
from aiopikvm.models._base import parse

from .captures import result
from .conftest import eventually

DEFAULT_EDID: str = result("switch.json")["edids"]["all"]["default"]["data"]
SHORT_EDID = DEFAULT_EDID[:256]  # the base block alone, 128 bytes


async def next_switch_event(ws: PiKVMWebSocket, timeout: float = 5.0) -> dict[str, Any]:
    """The next partial ``switch`` event."""
    async with asyncio.timeout(timeout):
        async for event in ws.events():
            # the full state of the connect burst carries the model; changes never do
            if event["event_type"] == "switch" and "model" not in event["event"]:
                found: dict[str, Any] = event["event"]
                return found
    raise AssertionError("the session ended")


async def raw(kvm: PiKVM, path: str, **params: str) -> BadRequestError:
    with pytest.raises(BadRequestError) as caught:
        await kvm.request("POST", f"switch/{path}", params=params)
    return caught.value


# ----- models and parsing -------------------------------------------------------------


def test_model_parses_the_capture() -> None:
    state = parse(SwitchState, result("switch.json"), "switch")
    assert state.summary is not None and state.summary.active_port == -1
    assert state.model is not None and state.model.firmware.version == 9
    assert state.model.ports == [] and state.model.units == []
    assert state.edids is not None and state.edids.all["default"].name == "Default"
    info = state.edids.all["default"].parsed
    assert info is not None and info.monitor_name == "DUMMY SCREEN"
    assert state.colors is not None and state.colors.beacon.blink_ms == 250
    assert state.atx is not None and state.atx.leds.power == []


def test_the_emulators_edid_parser_reads_the_default_edid_as_kvmd() -> None:
    recorded = result("switch.json")["edids"]["all"]["default"]["parsed"]
    assert edid_info(bytes.fromhex(DEFAULT_EDID)) == recorded
    # one block: no CEA extension, so no audio; the descriptors are still read
    assert edid_info(bytes.fromhex(SHORT_EDID)) == recorded
    # a second block that is not a CEA extension: kvmd gives up on parsing
    assert edid_info(bytes.fromhex(SHORT_EDID) + bytes(128)) is None


# ----- with no unit attached ----------------------------------------------------------


async def test_state_is_the_recorded_devices(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        assert await kvm.request("GET", "switch") == result("switch.json")
        assert await kvm.switch.get_state() == parse(SwitchState, result("switch.json"), "s")


async def test_unit_commands_are_accepted_and_go_nowhere(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.switch.set_active(0)
        await kvm.switch.set_active("2.3")
        await kvm.switch.set_active(1.2)
        await kvm.switch.set_active_prev()
        await kvm.switch.set_active_next()
        await kvm.switch.set_beacon(True, port=3)
        await kvm.switch.set_beacon(False, uplink=0)
        await kvm.switch.set_beacon(True, downlink=1)
        await kvm.switch.reset(0, bootloader=True)
        await kvm.switch.atx_power(0, "on")
        await kvm.switch.atx_power("1.4", "reset_hard")
        await kvm.switch.atx_click(5, "power_long")
        await kvm.switch.set_port_params(
            2,
            edid_id="default",
            dummy=False,
            name="build box",
            atx_click_power_delay=1.5,
            atx_click_power_long_delay=0,
            atx_click_reset_delay=10,
        )
        assert await kvm.request("GET", "switch") == result("switch.json")


# ----- the EDID library ---------------------------------------------------------------


async def test_create_change_and_remove_an_edid(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await eventually(lambda: ws.state.switch is not None)
        edid_id = await kvm.switch.create_edid("  Mine ", bytes.fromhex(DEFAULT_EDID))
        created = await next_switch_event(ws)
        assert str(uuid.UUID(edid_id)) == edid_id
        assert list(created) == ["edids"]  # kvmd sends only what changed
        state = await kvm.switch.get_state()
        assert state.edids is not None and state.edids.all[edid_id].name == "Mine"
        assert state.edids.all[edid_id].data == DEFAULT_EDID
        assert ws.state.switch == state

        await kvm.switch.change_edid(edid_id, name="Short", data=SHORT_EDID.lower())
        changed = (await next_switch_event(ws))["edids"]["all"][edid_id]
        assert changed["name"] == "Short" and changed["data"] == SHORT_EDID
        assert changed["parsed"]["monitor_name"] == "DUMMY SCREEN"
        await kvm.switch.change_edid(edid_id, name="   ")  # blank keeps the name
        await kvm.switch.set_port_params(0, edid_id=edid_id)

        await kvm.switch.remove_edid(edid_id)
        removed = await next_switch_event(ws)
        assert list(removed["edids"]["all"]) == ["default"]
        assert await kvm.request("GET", "switch") == result("switch.json")


async def test_unknown_edids_are_refused(emu: Emulator) -> None:
    unknown = str(uuid.uuid4())
    async with PiKVM(emu.url, passwd="admin") as kvm:
        for call in (
            kvm.switch.change_edid(unknown, name="x"),
            kvm.switch.remove_edid(unknown),
            kvm.switch.set_port_params(0, edid_id=unknown),
        ):
            with pytest.raises(BadRequestError) as caught:
                await call
            assert caught.value.error == "SwitchUnknownEdidError"
            assert caught.value.error_msg == "No specified EDID ID found"
        # With nothing to change kvmd does not look the id up.
        await kvm.switch.change_edid(unknown)


# ----- colours ------------------------------------------------------------------------


async def test_colors_change_and_go_back_to_default(emu: Emulator) -> None:
    recorded = result("switch.json")["colors"]
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await eventually(lambda: ws.state.switch is not None)
        await kvm.switch.set_colors(
            active=SwitchColor(red=1, green=2, blue=3, brightness=255, blink_ms=1000),
            beacon="ff00aa:10:00FF",
        )
        event = await next_switch_event(ws)
        assert list(event) == ["colors"]
        assert event["colors"]["active"] == {
            "red": 1,
            "green": 2,
            "blue": 3,
            "brightness": 255,
            "blink_ms": 1000,
        }
        assert event["colors"]["beacon"] == {
            "red": 255,
            "green": 0,
            "blue": 170,
            "brightness": 16,
            "blink_ms": 255,
        }
        assert event["colors"]["inactive"] == recorded["inactive"]
        await kvm.switch.set_colors(active="default", beacon="DEFAULT")
        assert (await next_switch_event(ws))["colors"] == recorded


# ----- refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("set_active", {}, "None argument is not a valid float"),
        ("set_active", {"port": "one"}, "The argument 'one' is not a valid float"),
        (
            "set_active",
            {"port": "-1"},
            "The argument '-1.0' must be float and greater or equial than 0",
        ),
        (
            "set_beacon",
            {"port": "1"},
            "None argument is not a valid bool (['1', 'true', 'yes'] or ['0', 'false', 'no'])",
        ),
        ("set_beacon", {"state": "1"}, "None argument is not a valid int"),
        (
            "set_beacon",
            {"state": "1", "uplink": "-2"},
            "The argument '-2' must be int and greater or equial than 0",
        ),
        ("reset", {}, "None argument is not a valid int"),
        (
            "set_port_params",
            {"port": "0", "edid_id": "nope"},
            "The argument 'nope' is not a valid switch EDID ID",
        ),
        (
            "set_port_params",
            {"port": "0", "atx_click_reset_delay": "11"},
            "The argument '11.0' must be ATX delay and lesser or equal then 10",
        ),
        ("set_colors", {"active": "red"}, "The argument 'red' is not a valid switch color"),
        (
            "edids/create",
            {"data": DEFAULT_EDID},
            "None argument is not a valid not empty stripped string",
        ),
        (
            "edids/create",
            {"name": "x", "data": "00FF"},
            "The argument '00FF' is not a valid switch EDID data",
        ),
        (
            "edids/change",
            {"id": "default", "name": "x"},
            "The argument 'default' is not a valid switch EDID ID",
        ),
        ("edids/remove", {}, "None argument is not a valid switch EDID ID"),
        (
            "atx/power",
            {"port": "0", "action": "boom"},
            "The argument 'boom' is not a valid ATX power action",
        ),
        ("atx/click", {"port": "0"}, "None argument is not a valid ATX button"),
    ],
)
async def test_validators_answer_like_kvmd(
    emu: Emulator, path: str, params: dict[str, str], message: str
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        error = await raw(kvm, path, **params)
    assert error.error == "ValidatorError" and error.error_msg == message


@pytest.mark.parametrize("port", ["nan", "inf", "1e-05"])
async def test_a_port_kvmd_cannot_translate_crashes_its_handler(emu: Emulator, port: str) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(ServerError) as caught:
            await kvm.request("POST", "switch/set_active", params={"port": port})
    assert caught.value.status_code == 500


@pytest.mark.parametrize(
    "call",
    [
        lambda kvm: kvm.switch.set_active(-1),
        lambda kvm: kvm.switch.set_active(True),
        lambda kvm: kvm.switch.set_active(float("inf")),
        lambda kvm: kvm.switch.set_active(1e-5),
        lambda kvm: kvm.switch.set_active("first"),
        lambda kvm: kvm.switch.set_beacon(True),
        lambda kvm: kvm.switch.set_beacon(True, port=0, uplink=0),
        lambda kvm: kvm.switch.set_beacon(True, downlink=-1),
        lambda kvm: kvm.switch.reset(-1),
        lambda kvm: kvm.switch.set_port_params(0, edid_id="nope"),
        lambda kvm: kvm.switch.set_port_params(0, atx_click_power_delay=10.5),
        lambda kvm: kvm.switch.set_colors(active="red"),
        lambda kvm: kvm.switch.set_colors(
            active=SwitchColor(red=256, green=0, blue=0, brightness=0, blink_ms=0)
        ),
        lambda kvm: kvm.switch.create_edid(" ", DEFAULT_EDID),
        lambda kvm: kvm.switch.create_edid("x", DEFAULT_EDID[:-2]),
        lambda kvm: kvm.switch.create_edid("x", b"\x00" * 100),
        lambda kvm: kvm.switch.change_edid("default", name="x"),
        lambda kvm: kvm.switch.remove_edid("default"),
        lambda kvm: kvm.switch.atx_power(0, "explode"),
        lambda kvm: kvm.switch.atx_click(0, "any"),
    ],
)
async def test_bad_input_is_refused_before_sending(call: Callable[[PiKVM], Any]) -> None:
    # No device listens here: anything sent would fail with a connection error instead.
    async with PiKVM("http://127.0.0.1:9", passwd="admin") as kvm:
        with pytest.raises(InvalidInputError):
            await call(kvm)
