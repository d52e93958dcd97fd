"""Closing a session gives the device's HID queue time to drain: kvmd throws away what is
still queued when a session closes, and it answers a ping as soon as it has *read* the
input, not when the target has received it."""

from __future__ import annotations

from aiopikvm import PiKVM
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
