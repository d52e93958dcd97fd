"""The emulator's ATX: buttons, the power LED that follows them, and kvmd's 409."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiopikvm.emulator import Emulator

from .emulator_helpers import (
    captured_result,
    eventually,
    read_bundle,
    recv_until,
    request,
    shape,
    ws_connect,
)

OK: dict[str, Any] = {"ok": True, "result": {}}
BOOL = "bool (['1', 'true', 'yes'] or ['0', 'false', 'no'])"
BUSY = {
    "ok": False,
    "result": {
        "error": "AtxIsBusyError",
        "error_msg": "Performing another ATX operation, please try again later",
    },
}


async def atx_state(emu: Emulator) -> dict[str, Any]:
    state: dict[str, Any] = (await request(emu, "GET", "/api/atx")).json()["result"]
    return state


async def post(emu: Emulator, path: str) -> Any:
    response = await request(emu, "POST", path)
    return response.status_code, response.json()


async def test_state_is_enabled_with_live_leds() -> None:
    async with Emulator() as emu:
        state = await atx_state(emu)
    assert shape(state) == shape(captured_result("atx.json"))
    assert state == {
        "enabled": True,
        "busy": False,
        "acts": {"power": False, "reset": False},
        "leds": {"power": True, "hdd": False},
    }


async def test_power_off_and_on_with_the_led_following() -> None:
    async with Emulator(atx_click_delay=0.01, atx_long_click_delay=0.02) as emu:
        assert await post(emu, "/api/atx/power?action=off&wait=1") == (200, OK)
        assert (await atx_state(emu))["leds"]["power"] is False
        assert emu.target.powered is False
        hid = (await request(emu, "GET", "/api/hid")).json()["result"]
        assert (hid["keyboard"]["online"], hid["mouse"]["online"]) == (False, False)

        assert await post(emu, "/api/atx/power?action=on&wait=1") == (200, OK)
        assert (await atx_state(emu))["leds"]["power"] is True
        assert emu.target.events == [("power", False), ("power", True)]

        assert await post(emu, "/api/atx/power?action=off_hard&wait=1") == (200, OK)
        assert emu.target.powered is False


async def test_power_actions_act_only_when_the_led_says_so() -> None:
    async with Emulator(atx_click_delay=0.01) as emu:
        for action in ("on", "ON"):  # lower-cased by kvmd
            assert await post(emu, f"/api/atx/power?action={action}&wait=1") == (200, OK)
        assert emu.target.events == []
        assert (await atx_state(emu))["busy"] is False
        await post(emu, "/api/atx/power?action=off&wait=1")
        for action in ("off", "off_hard", "reset_hard"):
            assert (await post(emu, f"/api/atx/power?action={action}&wait=1"))[0] == 200
        assert emu.target.events == [("power", False)]


async def test_click_without_wait_answers_at_once_while_busy() -> None:
    async with Emulator(atx_click_delay=1.0) as emu:
        assert await post(emu, "/api/atx/click?button=power") == (200, OK)
        state = await atx_state(emu)
        assert (state["busy"], state["acts"]["power"]) == (True, True)
        assert state["leds"]["power"] is True  # the press is still going on
        await eventually(lambda: not emu.target.powered)


async def test_parallel_click_is_409() -> None:
    async with Emulator(atx_click_delay=1.0) as emu:
        assert (await post(emu, "/api/atx/click?button=power"))[0] == 200
        assert await post(emu, "/api/atx/click?button=power") == (409, BUSY)
        assert await post(emu, "/api/atx/click?button=power_long&wait=1") == (409, BUSY)
        assert await post(emu, "/api/atx/power?action=off") == (409, BUSY)
        assert await post(emu, "/api/atx/click?button=reset") == (409, BUSY)
        await eventually(lambda: not emu.target.powered)


async def test_reset_keeps_the_host_on() -> None:
    async with Emulator(atx_click_delay=0.01) as emu:
        assert (await post(emu, "/api/atx/click?button=reset&wait=true"))[0] == 200
        assert emu.target.powered is True
        assert emu.target.events == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/atx/power?action=sleep", "The argument 'sleep' is not a valid ATX power action"),
        ("/api/atx/power", "None argument is not a valid ATX power action"),
        ("/api/atx/click?button=Turbo", "The argument 'turbo' is not a valid ATX button"),
        (
            "/api/atx/click?button=reset&wait=later",
            f"The argument 'later' is not a valid {BOOL}",
        ),
    ],
)
async def test_validation_errors(path: str, message: str) -> None:
    async with Emulator() as emu:
        assert await post(emu, path) == (
            400,
            {"ok": False, "result": {"error": "ValidatorError", "error_msg": message}},
        )
        assert (await atx_state(emu))["busy"] is False


async def test_disabled_atx_validates_first_then_refuses() -> None:
    disabled = {"error": "AtxDisabledError", "error_msg": "ATX is disabled"}
    async with Emulator(atx_enabled=False) as emu:
        assert await atx_state(emu) == captured_result("atx.json")  # recorded disabled
        assert await post(emu, "/api/atx/click?button=reset") == (
            400,
            {"ok": False, "result": disabled},
        )
        assert (await post(emu, "/api/atx/power?action=sleep"))[1]["result"] == {
            "error": "ValidatorError",
            "error_msg": "The argument 'sleep' is not a valid ATX power action",
        }
        assert emu.target.events == []


async def test_state_changes_are_broadcast() -> None:
    async with Emulator(atx_click_delay=0.05) as emu, ws_connect(emu) as ws:
        await read_bundle(ws)
        assert (await post(emu, "/api/atx/click?button=power&wait=1"))[0] == 200
        frames = await recv_until(
            ws, lambda f: is_event(f, "atx") and not json.loads(f)["event"]["busy"]
        )
        atx = [json.loads(f)["event"] for f in frames if is_event(f, "atx")]
        assert [(e["busy"], e["leds"]["power"]) for e in atx] == [
            (True, True),
            (True, False),
            (False, False),
        ]
        hid = [json.loads(f)["event"] for f in frames if is_event(f, "hid")]
        assert hid
        assert hid[-1]["keyboard"]["online"] is False


def is_event(frame: str | bytes, event_type: str) -> bool:
    return isinstance(frame, str) and json.loads(frame)["event_type"] == event_type
