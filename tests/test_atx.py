"""``kvm.atx`` end to end: every power action and button through the client, the simulated
host and the device's log showing what was pressed, bad input refused before sending, and a
device without ATX."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiopikvm import BadRequestError, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.resources.atx import Atx

from .captures import result

FAST: dict[str, Any] = {"atx_click_delay": 0.01, "atx_long_click_delay": 0.02}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(**FAST) as emulator:
        yield emulator


async def pressed(kvm: PiKVM) -> list[str]:
    """The buttons the device's log says were clicked, in order."""
    log = await kvm.system.get_log()
    return [line.split("Clicked ATX button ")[1] for line in log.splitlines() if "Clicked" in line]


@pytest.mark.parametrize(
    ("powered", "action", "button", "after"),
    [
        (True, Atx.power_off, "'power'", False),  # a short press: the OS shuts down
        (True, Atx.power_off_hard, "'power_long'", False),
        (True, Atx.reset_hard, "'reset'", True),
        (False, Atx.power_on, "'power'", True),
    ],
)
async def test_power_actions_press_the_button_the_led_asks_for(
    powered: bool, action: Callable[..., Awaitable[None]], button: str, after: bool
) -> None:
    async with Emulator(host_powered=powered, **FAST) as emu:
        async with PiKVM(emu.url, passwd="admin") as kvm:
            await action(kvm.atx, wait=True)
            assert await pressed(kvm) == [button]
            state = await kvm.atx.get_state()
        assert emu.target.powered is after
    assert (state.leds.power, state.busy) == (after, False)


@pytest.mark.parametrize(
    ("powered", "action"),
    [
        (False, Atx.power_off),
        (False, Atx.power_off_hard),
        (False, Atx.reset_hard),  # nothing to reset on a host that is off
        (True, Atx.power_on),
    ],
)
async def test_power_actions_leave_a_host_alone_that_is_already_there(
    powered: bool, action: Callable[..., Awaitable[None]]
) -> None:
    async with Emulator(host_powered=powered, **FAST) as emu:
        async with PiKVM(emu.url, passwd="admin") as kvm:
            await action(kvm.atx, wait=True)
            assert await pressed(kvm) == []
        assert emu.target.events == []


async def test_clicks_press_whatever_the_led_says(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.atx.click_reset(wait=True)
        await kvm.atx.click_power_long(wait=True)
        await kvm.atx.click_power_long(wait=True)  # already off: pressed all the same
        await kvm.atx.click_power(wait=True)
        assert await pressed(kvm) == ["'reset'", "'power_long'", "'power_long'", "'power'"]
    assert emu.target.events == [("power", False), ("power", True)]


@pytest.mark.parametrize("wait", [1, "yes", None])
async def test_wait_must_be_a_bool(emu: Emulator, wait: object) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        for call in (kvm.atx.power_off, kvm.atx.click_power_long):
            with pytest.raises(InvalidInputError, match="wait must be a bool"):
                await call(wait=wait)  # type: ignore[arg-type]
    assert emu.faults.count("atx/*") == 0
    assert emu.target.powered is True


async def test_a_device_without_atx() -> None:
    async with Emulator(atx_enabled=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        state = await kvm.atx.get_state()
        for call in (kvm.atx.power_off_hard, kvm.atx.click_power, kvm.atx.reset_hard):
            with pytest.raises(BadRequestError) as caught:
                await call(wait=True)
            assert (caught.value.error, caught.value.error_msg) == (
                "AtxDisabledError",
                "ATX is disabled",
            )
        assert emu.target.powered is True  # the host is on; nothing can see or press it
    # the recorded device had its ATX disabled: the same answer
    assert state.model_dump(mode="json", exclude_unset=True) == result("atx.json")
