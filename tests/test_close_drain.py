"""Closing a session gives the device's HID queue time to drain: kvmd throws away what is
still queued when a session closes, and it answers a ping as soon as it has *read* the
input, not when the target has received it."""

from __future__ import annotations

import asyncio

import pytest

from aiopikvm import InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator

KEYS = [f"Key{c}" for c in "PACKMYBOXWITHFIVEDOZ"]


async def test_input_sent_just_before_closing_still_arrives() -> None:
    # 40 HID events at 10 ms each: 0.4 s of queue when the block ends, a ping later.
    async with Emulator(hid_delay=0.01) as emu:
        async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
            for key in KEYS:
                await ws.send_key(key)
        assert emu.target.screen_text == "packmyboxwithfivedoz"
        assert emu.target.held_keys == frozenset()


async def test_a_session_told_its_hid_is_fast_closes_once_a_burst_can_have_been_applied() -> None:
    # 2,000 events on a 1 ms HID: 2 s of queue. Taken for 25 ms each, they would hold the
    # close for 50 s (the guard ends the test at 30); told 1.5 ms, it waits about 3 s.
    async with asyncio.timeout(30), Emulator(hid_delay=0.001) as emu:
        async with (
            PiKVM(emu.url, passwd="admin") as kvm,
            kvm.ws(close_timeout=60) as ws,
        ):
            ws.hid_event_time = 0.0015
            for _ in range(1000):
                await ws.send_key("KeyA")
        assert emu.target.screen_text == "a" * 1000  # nothing lost at the close


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "0.001", True, None])
async def test_a_bad_hid_event_time_is_refused(emu: Emulator, bad: object) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        with pytest.raises(InvalidInputError, match="hid_event_time must be"):
            ws.hid_event_time = bad  # type: ignore[assignment]
        assert ws.hid_event_time == 0.025
