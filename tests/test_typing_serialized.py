"""Typing owns the session's input while it runs: input from other tasks waits for it."""

from __future__ import annotations

import asyncio

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator

from .conftest import eventually

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Shift is down from the first letter to the last: a key slipped in between is shifted."""


async def test_input_from_another_task_waits_until_typing_is_done() -> None:
    async with (
        asyncio.timeout(30),
        Emulator(hid_delay=0.001) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        typing = asyncio.create_task(ws.type_text(ALPHABET, delay=0.002))
        await eventually(lambda: len(emu.target.screen_text) >= 3)
        await ws.send_key("Digit1")  # would be "!" in the middle of the text
        await ws.send_mouse_move(1000, -1000)
        assert typing.done()
        result = await typing
        await ws.ping()
        await eventually(lambda: ("mouse_move", 1000, -1000) in emu.target.events)
        assert emu.target.screen_text == ALPHABET + "1"
        # Not where the move falls among the keys: the mouse is a USB device of its own,
        # whose report can reach the host before the keyboard's last (kvmd orders input
        # per device). That send_mouse_move returned only once typing was done is above.
    assert result.exact


async def test_a_progress_callback_can_still_send_input() -> None:
    # The callback runs inside typing, in its task: it must not wait for typing to end.
    async with (
        asyncio.timeout(30),
        Emulator(hid_delay=0.001) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):

        async def progress(typed: int, total: int) -> None:
            if typed == 2:
                await ws.send_key("Digit1")

        result = await ws.type_text("abcd", delay=0.002, progress=progress)
        await ws.ping()
        await eventually(lambda: len(emu.target.screen_text) == 5)
        assert emu.target.screen_text == "ab1cd"
    assert result.exact


async def test_taps_inside_held_keys_and_shortcuts_while_typing_waits() -> None:
    async with (
        asyncio.timeout(30),
        Emulator(hid_delay=0.001) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        async with ws.held("ShiftLeft"):
            await ws.send_key("KeyA")
            await ws.send_shortcut("KeyB")
            await ws.click(1, 1, screen_size=(10, 10))
        typing = asyncio.create_task(ws.type_text(ALPHABET.lower(), delay=0.002))
        await eventually(lambda: len(emu.target.screen_text) >= 4)
        await ws.send_shortcut("ShiftLeft", "KeyC")
        assert typing.done()
        assert (await typing).exact
        await ws.ping()
        await eventually(lambda: emu.target.screen_text.endswith("C"))
        await eventually(lambda: emu.target.held_keys == frozenset())
        assert emu.target.screen_text == "AB" + ALPHABET.lower() + "C"
