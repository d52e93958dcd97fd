"""Typing into a host whose keyboard is offline: kvmd takes the input and drops it.

kvmd's OTG HID (kvmd/plugins/hid/otg/device.py) marks a device offline when a report cannot
be written (the host is off or asleep, the cable unplugged), and online again only once a
report is written: a host that comes back stays "offline" until kvmd next writes to it.
"""

from __future__ import annotations

import asyncio

import pytest

from aiopikvm import KeyboardOfflineError, PiKVM
from aiopikvm.emulator import Emulator

from .conftest import eventually
from .emulator_helpers import request
from .test_reconnect import matches_minus

TEXT = "the quick brown fox jumps over the lazy dog"


async def _online(emu: Emulator) -> tuple[bool, bool]:
    hid = (await request(emu, "GET", "/api/hid")).json()["result"]
    return hid["keyboard"]["online"], hid["mouse"]["online"]


async def test_the_emulator_marks_a_device_online_once_it_writes_to_it_again() -> None:
    async with Emulator() as emu:
        assert await _online(emu) == (True, True)
        emu.target.set_powered(False)
        assert await _online(emu) == (False, False)
        emu.target.set_powered(True)
        assert await _online(emu) == (False, False)  # nothing written since
        await request(emu, "POST", "/api/hid/events/send_key?key=KeyA")
        await eventually(lambda: emu.target.screen_text == "a")
        assert await _online(emu) == (True, False)
        await request(emu, "POST", "/api/hid/events/send_mouse_move?to_x=10&to_y=10")
        await eventually(lambda: ("mouse_move", 10, 10) in emu.target.events)
        assert await _online(emu) == (True, True)


async def test_typing_into_a_host_that_is_off_raises_before_a_character_is_sent() -> None:
    async with (
        asyncio.timeout(30),
        Emulator(host_powered=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        with pytest.raises(KeyboardOfflineError, match="keyboard is offline") as raised:
            await kvm.type_text(TEXT, delay=0.002)
        assert raised.value.result.typed == 0
        assert raised.value.result.total == len(TEXT)
        assert emu.target.events == []


async def test_a_host_back_on_is_typed_into_though_kvmd_still_says_offline() -> None:
    async with (
        asyncio.timeout(30),
        Emulator(host_powered=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        await ws.wait_for(lambda s: s.hid is not None, timeout=5)
        # kvmd clears its HID queue when a session opens, which writes a report: let the
        # emulated HID take that one (1 ms after the opening, on this event loop) while the
        # host is still off, or it would find the host on, and the keyboard online.
        await ws.ping()
        await asyncio.sleep(0.05)
        emu.target.set_powered(True)  # and nothing written to it since
        await ws.ping()
        assert ws.state.hid is not None and not ws.state.hid.keyboard.online
        result = await ws.type_text(TEXT, delay=0.002)
        await ws.ping()
        await eventually(lambda: emu.target.screen_text == TEXT)
    assert result.exact


async def test_the_host_going_off_midway_stops_typing_with_what_may_be_missing() -> None:
    async with (
        asyncio.timeout(30),
        Emulator(hid_delay=0.001) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):

        def progress(typed: int, total: int) -> None:
            if typed == 10:
                emu.target.set_powered(False)

        with pytest.raises(KeyboardOfflineError, match="went offline") as raised:
            await kvm.type_text(TEXT, delay=0.002, progress=progress)
        result = raised.value.result
        assert 10 <= result.typed < len(TEXT)
        assert result.uncertain and not result.exact
        assert matches_minus(emu.target.screen_text, TEXT[: result.typed], result.uncertain)
