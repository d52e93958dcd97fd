"""Typing that survives drops and kvmd's queue losses.

The emulator's HID takes time per event, as a device does, so input waits in kvmd's queue
and a drop or another session's connect throws some of it away. The library must report
every character that may be missing, and never type one twice.
"""

from __future__ import annotations

import asyncio
import random
import string
import time

import pytest

from aiopikvm import PiKVM, RetryPolicy, TypingResult
from aiopikvm.emulator import Emulator

from .conftest import eventually
from .test_reconnect import matches_minus

SEEDS = 20
TEXT_LENGTH = 2000
HID_DELAY = 0.0005
"""Seconds the emulator's HID takes per event: every event waits in its queue."""
TYPING_DELAY = 0.002
"""Typing's pace: slower than the HID, as the pacing rule asks."""
ALPHABET = string.ascii_letters + string.digits + " .,;:!?@#()-_=+/'\"\n"


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def _random_text(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(ALPHABET) for _ in range(TEXT_LENGTH))


async def _type_through_drops(seed: int) -> tuple[str, str, TypingResult, frozenset[str]]:
    text = _random_text(seed)
    async with (
        Emulator(hid_delay=HID_DELAY, fault_seed=seed) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        # Every session dies after 300 to 1500 more frames (a frame or two per character):
        # a dead link half the time, kvmd's own close the other half.
        emu.faults.drop_ws(after=(300, 1500), clean=seed % 2 == 1, times=None)
        policy = RetryPolicy(10, base_delay=0.0, max_delay=0.0, sleep=_no_wait)
        result = await kvm.type_text(text, delay=TYPING_DELAY, reconnect=policy)
        return text, emu.target.screen_text, result, emu.target.held_keys


@pytest.mark.slow
async def test_2000_characters_through_random_drops_lose_only_what_is_reported() -> None:
    runs = await asyncio.gather(*(_type_through_drops(seed) for seed in range(SEEDS)))
    uncertain = disruptions = 0
    for seed, (text, screen, result, held) in enumerate(runs):
        assert result.typed == len(text), seed
        assert result.disruptions >= 1, seed  # the drops did happen
        assert matches_minus(screen, text, result.uncertain), seed  # nothing else lost or doubled
        assert held == frozenset(), seed  # no stuck key
        uncertain += len(result.uncertain)
        disruptions += result.disruptions
    print(
        f"\n{SEEDS} runs of {TEXT_LENGTH} characters through {disruptions} drops: "
        f"{uncertain} characters reported uncertain in total "
        f"({uncertain / disruptions:.1f} per drop), every other one typed exactly once"
    )


async def test_a_busy_machine_does_not_make_the_emulated_hid_fall_behind() -> None:
    # The guarantee above holds when the HID keeps its pace. The emulator's HID is a device
    # of its own: on a loaded machine (coverage, a CI runner) it must still have taken, by
    # any moment, every event due by then, or the test would depend on the CPU's speed.
    async with (
        Emulator(hid_delay=0.0002) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws(close_timeout=1) as ws,  # nothing is left to drain at the end
    ):
        for _ in range(1000):
            await ws.send_key("KeyA")  # 2,000 events, all taken within 0.4 s
        await ws.ping()  # and read by then
        time.sleep(1.0)  # noqa: ASYNC251 -- the machine is busy: the emulator's loop stands still
        await kvm.hid.reset()  # kvmd throws away what is still queued
        await kvm.hid.send_mouse_move(1234, -1234)  # queued behind whatever is left
        await eventually(lambda: ("mouse_move", 1234, -1234) in emu.target.events)
        assert len(emu.target.screen_text) == 1000


def test_the_check_catches_a_lost_or_doubled_character() -> None:
    assert matches_minus("abd", "abcd", (2,))
    assert matches_minus("abcd", "abcd", (2,))
    assert not matches_minus("abd", "abcd", (1,))  # a loss nobody reported
    assert not matches_minus("abccd", "abcd", (2,))  # typed twice
    assert matches_minus("ab", "aab", (0,)) and matches_minus("ab", "aab", (1,))


# ----- another session opens while typing ---------------------------------------------


def matches_uncertain(screen: str, text: str, uncertain: tuple[int, ...]) -> bool:
    """Like :func:`matches_minus`, where an uncertain character may also have come out as
    another one (kvmd released Shift under it)."""
    doubtful = set(uncertain)
    reach = {0}  # screen characters used minus text characters read, along the ways that fit
    for i, char in enumerate(text):
        step = {d for d in reach if i + d < len(screen) and screen[i + d] == char}
        if i in doubtful:
            step |= {d - 1 for d in reach} | {d for d in reach if i + d < len(screen)}
        if not step:
            return False
        reach = step
    return any(len(text) + d == len(screen) for d in reach)


async def test_another_session_opening_midway_is_reported_and_shift_pressed_again() -> None:
    text = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 2  # Shift stays down from start to end

    async def progress(typed: int, total: int) -> None:
        if typed in (10, 30):  # e.g. kvm.wait_for_text() holding its stream=1 session
            async with kvm.ws(stream=True):
                pass

    async with Emulator(hid_delay=0.001) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        result = await kvm.type_text(text, delay=0.002, progress=progress)
        screen = emu.target.screen_text
        assert emu.target.held_keys == frozenset()
    assert result.typed == len(text) and result.disruptions >= 2
    assert result.uncertain and all(i < 10 or 20 <= i < 30 for i in result.uncertain)
    assert matches_uncertain(screen, text, result.uncertain)
    assert screen.endswith("VWXYZ")  # Shift was pressed again: no lower case afterwards
    assert screen.isupper()


def test_the_check_of_changed_characters() -> None:
    assert matches_uncertain("ABcD", "ABCD", (2,))
    assert matches_uncertain("ABD", "ABCD", (2,))
    assert not matches_uncertain("AbCD", "ABCD", (2,))
    assert not matches_uncertain("ABCCD", "ABCD", ())
