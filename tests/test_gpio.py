"""GPIO end to end: ``kvm.gpio`` against the emulator's channels, kvmd's refusals and the
``gpio`` diffs on the WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from aiopikvm import BadRequestError, BusyError, InvalidInputError, PiKVM, PiKVMWebSocket
from aiopikvm.emulator import Emulator
from aiopikvm.models import GpioState
from aiopikvm.models._base import parse

from .captures import result
from .conftest import eventually

BREAKER = "__v3_usb_breaker__"
BOOL = "bool (['1', 'true', 'yes'] or ['0', 'false', 'no'])"
SCHEME: dict[str, dict[str, Any]] = {
    "relay": {"mode": "output", "busy_delay": 0.01},
    "pulser": {
        "mode": "output",
        "switch": False,
        "pulse": {"delay": 0.01, "min_delay": 0.01, "max_delay": 0.05},
        "busy_delay": 0.01,
    },
    "slow": {"mode": "output", "busy_delay": 30},  # busy until the emulator stops
    "fixed": {"mode": "output", "switch": False, "pulse": False},
    "led": {"mode": "input", "state": True, "pin": 17},
}


async def next_event(
    ws: PiKVMWebSocket, match: Callable[[dict[str, Any]], bool], timeout: float = 5.0
) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        async for event in ws.events():
            if match(event):
                return event
    raise AssertionError("the session ended")


def gpio_diff(event: dict[str, Any]) -> bool:
    return event["event_type"] == "gpio" and "model" not in event["event"]


# ----- the model ----------------------------------------------------------------------


def test_model_parses_the_capture() -> None:
    state = parse(GpioState, result("gpio.json"), "gpio")
    breaker = state.model.scheme.outputs[BREAKER]
    assert breaker.switch is True and breaker.pulse.delay == 0
    assert breaker.hw is not None and breaker.hw.pin == "5"
    assert state.state.outputs[BREAKER].state is True and state.state.inputs == {}
    assert state.model.view.table == []


# ----- the recorded device ------------------------------------------------------------


async def test_state_is_the_recorded_devices(emu: Emulator) -> None:
    async with httpx.AsyncClient() as client:
        raw = await client.get(emu.url + "/api/gpio", auth=("admin", "admin"))
    assert raw.json() == {"ok": True, "result": result("gpio.json")}
    async with PiKVM(emu.url, passwd="admin") as kvm:
        assert await kvm.gpio.get_state() == parse(GpioState, result("gpio.json"), "gpio")


async def test_switch_the_usb_breaker_off_and_on(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.gpio.switch(BREAKER, False, wait=True)
        assert (await kvm.gpio.get_state()).state.outputs[BREAKER].state is False
        await kvm.gpio.switch(BREAKER, True, wait=True)
        output = (await kvm.gpio.get_state()).state.outputs[BREAKER]
    assert output.state is True and output.busy is False


async def test_the_usb_breaker_cannot_pulse(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as caught:
            await kvm.gpio.pulse(BREAKER)
    assert caught.value.error == "GpioPulseNotSupported"
    assert caught.value.error_msg == "This GPIO channel does not support pulsing"


# ----- a scheme of one's own ----------------------------------------------------------


async def test_a_scheme_of_inputs_and_outputs() -> None:
    async with Emulator(gpio=SCHEME) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        state = await kvm.gpio.get_state()
    scheme = state.model.scheme
    # kvmd leaves out an output that can neither switch nor pulse, and sorts by name.
    assert list(scheme.outputs) == ["pulser", "relay", "slow"]
    assert list(state.state.outputs) == ["pulser", "relay", "slow"]
    assert scheme.inputs["led"].hw is not None and scheme.inputs["led"].hw.pin == "17"
    assert state.state.inputs["led"].state is True
    assert scheme.outputs["relay"].pulse.model_dump() == {
        "delay": 0.1,
        "min_delay": 0.1,
        "max_delay": 0.1,
    }
    assert scheme.outputs["pulser"].switch is False
    assert scheme.outputs["pulser"].pulse.max_delay == 0.05


async def test_switch_and_pulse_with_the_state_following() -> None:
    async with Emulator(gpio=SCHEME) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.gpio.switch("relay", True, wait=True)
        assert (await kvm.gpio.get_state()).state.outputs["relay"].state is True
        await kvm.gpio.pulse("pulser", wait=True)
        await kvm.gpio.pulse("pulser", delay=100, wait=True)  # clamped to max_delay
        await kvm.gpio.pulse("relay", delay=0.01, wait=True)  # ends low
        outputs = (await kvm.gpio.get_state()).state.outputs
    assert outputs["pulser"].state is False and outputs["relay"].state is False


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda kvm: kvm.gpio.switch("led", True), "GpioChannelNotFoundError", "not found"),
        (lambda kvm: kvm.gpio.pulse("led"), "GpioChannelNotFoundError", "not found"),
        (lambda kvm: kvm.gpio.switch("nothing", True), "GpioChannelNotFoundError", "not found"),
        (lambda kvm: kvm.gpio.switch("pulser", True), "GpioSwitchNotSupported", "switching"),
        (lambda kvm: kvm.gpio.switch("fixed", True), "GpioSwitchNotSupported", "switching"),
        (lambda kvm: kvm.gpio.pulse("fixed"), "GpioPulseNotSupported", "pulsing"),
    ],
)
async def test_what_kvmd_refuses(call: Callable[[PiKVM], Any], error: str, message: str) -> None:
    async with Emulator(gpio=SCHEME) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(BadRequestError) as caught:
            await call(kvm)
    assert caught.value.status_code == 400
    assert caught.value.error == error and message in str(caught.value.error_msg)


async def test_a_busy_channel_refuses_with_409_and_reads_low() -> None:
    async with Emulator(gpio=SCHEME) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.gpio.switch("slow", True)  # answered at once, busy for a while
        output = (await kvm.gpio.get_state()).state.outputs["slow"]
        assert output.busy is True and output.state is False  # as kvmd reports it
        with pytest.raises(BusyError) as caught:
            await kvm.gpio.switch("slow", False)
        # only that channel is busy
        await kvm.gpio.switch("relay", True, wait=True)
    assert caught.value.status_code == 409
    assert caught.value.error == "GpioChannelIsBusyError"
    assert caught.value.error_msg == (
        "Performing another GPIO operation on this channel, please try again later"
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("switch?channel=1bad&state=1", "The argument '1bad' is not a valid GPIO channel"),
        ("switch?state=1", "None argument is not a valid GPIO channel"),
        ("switch?channel=relay", f"None argument is not a valid {BOOL}"),
        ("switch?channel=relay&state=1&wait=maybe", f"The argument 'maybe' is not a valid {BOOL}"),
        (
            "pulse?channel=pulser&delay=-1",
            "The argument '-1.0' must be float and greater or equial than 0",
        ),
        ("pulse?channel=pulser&delay=soon", "The argument 'soon' is not a valid float"),
    ],
)
async def test_validators_answer_like_kvmd(query: str, message: str) -> None:
    async with Emulator(gpio=SCHEME) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        path, _, raw = query.partition("?")
        params = dict(part.split("=", 1) for part in raw.split("&"))
        with pytest.raises(BadRequestError) as caught:
            await kvm.request("POST", f"gpio/{path}", params=params)
    assert caught.value.error == "ValidatorError" and caught.value.error_msg == message


@pytest.mark.parametrize(
    "call",
    [
        lambda kvm: kvm.gpio.switch("1bad", True),
        lambda kvm: kvm.gpio.switch("a b", True),
        lambda kvm: kvm.gpio.switch("x" * 256, True),
        lambda kvm: kvm.gpio.switch("relay", 1),
        lambda kvm: kvm.gpio.pulse("relay", delay=-0.5),
        lambda kvm: kvm.gpio.pulse("relay", delay=float("nan")),
        lambda kvm: kvm.gpio.pulse("relay", delay=True),
        lambda kvm: kvm.gpio.switch("relay", True, wait=1),
        lambda kvm: kvm.gpio.pulse("relay", wait="no"),
    ],
)
async def test_bad_input_is_refused_before_sending(call: Callable[[PiKVM], Any]) -> None:
    # No device listens here: anything sent would fail with a connection error instead.
    async with PiKVM("http://127.0.0.1:9", passwd="admin") as kvm:
        with pytest.raises(InvalidInputError):
            await call(kvm)


# ----- events -------------------------------------------------------------------------


async def test_changes_arrive_as_diffs_of_one_channel() -> None:
    async with (
        Emulator(gpio=SCHEME) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        await eventually(lambda: ws.state.gpio is not None)
        await kvm.gpio.switch("relay", True)
        busy = await next_event(ws, gpio_diff)
        idle = await next_event(ws, gpio_diff)
        emu.set_gpio_input("led", False)
        led = await next_event(ws, gpio_diff)
        assert ws.state.gpio == await kvm.gpio.get_state()
    assert busy["event"] == {
        "state": {"outputs": {"relay": {"online": True, "state": False, "busy": True}}}
    }
    assert idle["event"] == {
        "state": {"outputs": {"relay": {"online": True, "state": True, "busy": False}}}
    }
    assert led["event"] == {"state": {"inputs": {"led": {"online": True, "state": False}}}}


# ----- configuration ------------------------------------------------------------------


@pytest.mark.parametrize(
    "scheme",
    [
        {"x": {"mode": "bidirectional"}},
        {"x": {}},
        {"1x": {"mode": "output"}},
        {"x": {"mode": "input", "switch": True}},
        {"x": {"mode": "output", "pulse": {"delay": -1}}},
        {"x": {"mode": "output", "pulse": {"delay": 1, "max_delay": 0}}},
        {"x": {"mode": "output", "initial": "yes"}},
    ],
)
def test_a_scheme_kvmd_would_not_start_with_is_refused(scheme: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="GPIO channel"):
        Emulator(gpio=scheme)
