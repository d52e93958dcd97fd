"""The screen waits on the emulator's video, as noisy as a device's: lossy JPEG whose noise
differs frame to frame, a blinking text cursor, a ticking clock."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from aiopikvm import InvalidInputError, PiKVM, ScreenTimeoutError
from aiopikvm.emulator import Emulator
from aiopikvm.screen.compare import compare, decode

JPEG = b"\xff\xd8"
POLL = {"interval": 0.1}
CELL = (16, 24)  # the emulated console's character cell
CLOCK = (1920 - 8 * CELL[0], 0, 1920, CELL[1])  # HH:MM:SS, top right, at 1920x1080


@contextlib.asynccontextmanager
async def watching(kvm: PiKVM) -> AsyncIterator[None]:
    """Video up for direct snapshots (the waits hold their own session)."""
    async with kvm.ws(stream=True):
        for _ in range(100):
            state = await kvm.streamer.get_state()
            if state.streamer is not None and state.streamer.source.online:
                break
            await asyncio.sleep(0.05)
        yield


async def test_two_snapshots_of_an_unchanged_screen_differ_in_bytes(emu: Emulator) -> None:
    emu.target.write("login: ")
    async with PiKVM(emu.url, passwd="admin") as kvm, watching(kvm):
        first, second = await kvm.streamer.snapshot(), await kvm.streamer.snapshot()
    assert first.startswith(JPEG) and second.startswith(JPEG)
    assert first != second  # lossy, with fresh noise each frame
    assert not compare(decode(first), decode(second)).changed


async def test_the_cursor_blinks_where_the_text_ends(emu: Emulator) -> None:
    emu.target.write("login: ")  # 7 characters: the cursor is in the 8th cell
    cursor = (7 * CELL[0], 0, 8 * CELL[0], CELL[1])
    elsewhere = (20 * CELL[0], 0, 21 * CELL[0], CELL[1])
    async with PiKVM(emu.url, passwd="admin") as kvm, watching(kvm):
        pictures = []
        for _ in range(12):  # 1.2 s: more than one blink
            pictures.append(decode(await kvm.streamer.snapshot()))
            await asyncio.sleep(0.1)
    blinks = [compare(pictures[0], p, region=cursor, tolerance=0).changed for p in pictures]
    assert any(blinks) and not all(blinks[1:])
    assert not any(compare(pictures[0], p, region=elsewhere, tolerance=0).changed for p in pictures)


async def test_stable_settles_on_an_unchanged_screen_with_a_blinking_cursor(
    emu: Emulator,
) -> None:
    emu.target.write("debian login: ")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        # 1.5 s still: through at least one blink on and off
        settled = await kvm.wait_for_screen_stable(timeout=20, duration=1.5, **POLL)
    assert settled.startswith(JPEG)


async def test_a_ticking_clock_is_a_change_unless_it_is_ignored() -> None:
    async with Emulator(clock=True, streamer_start_delay=0) as emu:
        emu.target.write("login: ")
        async with PiKVM(emu.url, passwd="admin") as kvm:
            with pytest.raises(ScreenTimeoutError, match="did not stay still") as caught:
                await kvm.wait_for_screen_stable(timeout=4, duration=1.5, **POLL)
            assert caught.value.diff is not None and caught.value.diff.changed
            assert "px of area changed" in str(caught.value)
            settled = await kvm.wait_for_screen_stable(
                timeout=20, duration=1.5, ignore=[CLOCK], **POLL
            )
            assert settled.startswith(JPEG)
            # the clock's own box does change
            later = await kvm.wait_for_screen_change(since=settled, region=CLOCK, timeout=5, **POLL)
            assert compare(decode(settled), decode(later), region=CLOCK).changed


async def test_stable_does_not_settle_while_text_scrolls(emu: Emulator) -> None:
    emu.target.write("".join(f"boot message {n}\n" for n in range(60)))  # a full screen

    async def scroll() -> None:
        for n in range(60, 10_000):
            emu.target.write(f"[{n:5}] systemd: starting unit {n}\n")
            await asyncio.sleep(0.1)

    async with PiKVM(emu.url, passwd="admin") as kvm:
        scrolling = asyncio.create_task(scroll())
        try:
            with pytest.raises(ScreenTimeoutError, match="did not stay still") as caught:
                await kvm.wait_for_screen_stable(timeout=3, duration=1, **POLL)
        finally:
            scrolling.cancel()
        diff = caught.value.diff
        assert diff is not None and diff.changed and diff.changed_area > 1000
        # once the host stops writing, the screen settles
        assert await kvm.wait_for_screen_stable(timeout=20, duration=1, **POLL)


async def test_change_fires_on_a_typed_character_and_not_on_noise(emu: Emulator) -> None:
    emu.target.write("$ ")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        before = await kvm.wait_for_screen_stable(timeout=20, duration=0.5, **POLL)
        # 1.5 s of new frames, the cursor blinking: no change
        with pytest.raises(ScreenTimeoutError, match="did not change") as caught:
            await kvm.wait_for_screen_change(since=before, timeout=1.5, **POLL)
        diff = caught.value.diff
        assert diff is not None and not diff.changed
        assert caught.value.last_snapshot != before

        waiting = asyncio.create_task(kvm.wait_for_screen_change(since=before, timeout=20, **POLL))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await kvm.type_text("x", delay=0.001)
        after = await waiting
        assert compare(decode(before), decode(after)).changed


async def test_a_change_outside_the_region_does_not_count(emu: Emulator) -> None:
    emu.target.write("$ ")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        before = await kvm.wait_for_screen_stable(timeout=20, duration=0.5, **POLL)
        emu.target.write("ls -l /var/log\n")  # the top rows change
        with pytest.raises(ScreenTimeoutError, match="did not change"):
            await kvm.wait_for_screen_change(
                since=before, region=(0, 540, 1920, 1080), timeout=1, **POLL
            )
        assert await kvm.wait_for_screen_change(since=before, region=(0, 0, 960, 48), timeout=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tolerance": -1}, "tolerance"),
        ({"tolerance": "64"}, "tolerance"),
        ({"region": (0, 0, 0, 10)}, "region"),
        ({"region": (0, 0, 10)}, "region"),
        ({"ignore": [(10, 10, 5, 20)]}, r"ignore\[0\]"),
        ({"ignore": (0, 0, 10, 10)}, r"ignore\[0\]"),
        ({"ignore": None}, "ignore"),
    ],
)
async def test_bad_comparison_arguments_send_nothing(
    emu: Emulator, kwargs: dict[str, object], message: str
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        before = len(emu.faults.requests)
        for wait in (kvm.wait_for_screen_stable, kvm.wait_for_screen_change):
            with pytest.raises(InvalidInputError, match=message):
                await wait(timeout=1, **kwargs)  # type: ignore[operator]
        with pytest.raises(InvalidInputError, match="since"):
            await kvm.wait_for_screen_change(timeout=1, since=b"not a snapshot")
        assert len(emu.faults.requests) == before
