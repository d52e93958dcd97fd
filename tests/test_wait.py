"""Waiting for the live state and for the screen, against the emulator."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from aiopikvm import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVM,
    PiKVMTimeoutError,
    ScreenTimeoutError,
    TextNotFoundError,
    UnavailableError,
    WaitTimeoutError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.screen.compare import compare, decode

JPEG = b"\xff\xd8"
FAST = {"interval": 0.05}


# ----- the live state -------------------------------------------------------------------


async def test_wait_for_the_power_led() -> None:
    async with (
        Emulator(host_powered=False, atx_click_delay=0.05) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        power_led_on = ws.wait_for(lambda s: s.atx is not None and s.atx.leds.power, timeout=5)
        waiting = asyncio.create_task(power_led_on)
        await asyncio.sleep(0)
        assert not waiting.done()
        await kvm.atx.power_on()
        state = await waiting
        assert state.atx is not None and state.atx.leds.power
        assert emu.target.powered


async def test_wait_for_returns_at_once_when_the_state_already_matches(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.wait_for(lambda s: s.hid is not None, timeout=5)
        state = await ws.wait_for(lambda s: s.hid is not None and s.hid.keyboard.online, timeout=0)
        assert state.hid is not None


async def test_wait_for_times_out(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        with pytest.raises(PiKVMTimeoutError, match=r"did not match within 0\.1 s"):
            await ws.wait_for(lambda s: False, timeout=0.1)
        with pytest.raises(InvalidInputError, match="timeout"):
            await ws.wait_for(lambda s: True, timeout=-1)


async def test_wait_for_ends_when_the_device_closes_the_session(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        waiting = asyncio.create_task(ws.wait_for(lambda s: False, timeout=None))
        await asyncio.sleep(0.05)
        await emu.go_offline()
        with pytest.raises(ConnectionClosedError):
            await waiting


# ----- the screen -----------------------------------------------------------------------


async def test_wait_for_text_that_appears_after_typing(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(UnavailableError):
            await kvm.streamer.ocr()  # no video without a stream=1 session: the wait keeps it
        waiting = asyncio.create_task(kvm.wait_for_text("login:", timeout=10, **FAST))
        await asyncio.sleep(0.3)
        await kvm.type_text("debian login: ", delay=0.001)
        match = await waiting
        assert match.group() == "login:"
        assert "debian login:" in match.string

        found = await kvm.wait_for_text(re.compile(r"(\w+) login:"), timeout=10, **FAST)
        assert found.group(1) == "debian"


async def test_text_that_never_appears_times_out_with_what_was_read(
    emu: Emulator, tmp_path: Path
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("Password:", delay=0.001)
        with pytest.raises(TextNotFoundError) as caught:
            await kvm.wait_for_text("Welcome", timeout=0.5, region=(0, 0, 400, 100), **FAST)
    error = caught.value
    # A wait that gives up is a timeout, but not "the device did not answer"
    assert isinstance(error, WaitTimeoutError) and isinstance(error, TimeoutError)
    assert not isinstance(error, PiKVMTimeoutError)
    assert error.last_text.strip() == "Password:"
    assert "Password:" in str(error) and "'Welcome'" in str(error)
    assert error.last_snapshot is not None and error.last_snapshot.startswith(JPEG)
    assert error.save_snapshot(tmp_path / "last.jpg")
    assert (tmp_path / "last.jpg").read_bytes() == error.last_snapshot


async def test_waits_retry_while_the_snapshot_answers_503(emu: Emulator) -> None:
    # The video is up, but the device answers 503 for a while (its streamer restarting):
    # the waits keep asking instead of failing.
    emu.target.write("login: ")
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ocr_fault = emu.faults.fail("streamer/snapshot", times=3)
        match = await kvm.wait_for_text("login:", timeout=10, **FAST)
        assert match.group() == "login:"
        assert ocr_fault.hits == 3 and ocr_fault.remaining == 0

        before = await kvm.wait_for_screen_stable(timeout=10, duration=0.1, interval=0.05)
        emu.target.write("root")
        snapshot_fault = emu.faults.fail("streamer/snapshot", times=2)
        after = await kvm.wait_for_screen_change(timeout=10, since=before, interval=0.05)
        assert after.startswith(JPEG) and after != before
        assert snapshot_fault.hits == 2


async def test_no_video_at_all_is_said_so() -> None:
    async with Emulator(host_powered=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(TextNotFoundError, match="no video came up") as caught:
            await kvm.wait_for_text("anything", timeout=0.3, **FAST)
        assert caught.value.last_text == ""
        # the streamer's "no signal" picture, to show why
        assert caught.value.last_snapshot is not None
        with pytest.raises(ScreenTimeoutError, match="no video came up") as timed_out:
            await kvm.wait_for_screen_stable(timeout=0.3, **FAST)
        assert timed_out.value.last_snapshot is None
        assert not timed_out.value.save_snapshot("never-written.jpg")


async def test_screen_change_and_stable(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        before = await kvm.wait_for_screen_stable(timeout=10, duration=0.2, **FAST)
        assert before.startswith(JPEG)
        with pytest.raises(ScreenTimeoutError, match="did not change") as caught:
            await kvm.wait_for_screen_change(since=before, timeout=0.3, **FAST)
        # The device is lossy: the last look is a new picture of the same screen.
        last = caught.value.last_snapshot
        assert last is not None and last.startswith(JPEG) and last != before
        assert caught.value.diff is not None and not caught.value.diff.changed

        await kvm.type_text("$ ", delay=0.001)
        after = await kvm.wait_for_screen_change(since=before, timeout=10, **FAST)
        assert after != before
        settled = await kvm.wait_for_screen_stable(timeout=10, duration=0.2, **FAST)
        assert not compare(decode(settled), decode(after)).changed


async def test_screen_change_without_a_baseline_compares_with_its_first_look(
    emu: Emulator,
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        waiting = asyncio.create_task(kvm.wait_for_screen_change(timeout=10, **FAST))
        # Whenever it takes its first look, a later key changes the screen.
        for _ in range(100):
            if waiting.done():
                break
            await ws.type_text("x", delay=0.001)
            await asyncio.sleep(0.1)
        assert (await waiting).startswith(JPEG)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern": ""}, "pattern"),
        ({"pattern": re.compile(b"x")}, "pattern"),
        ({"pattern": "x", "timeout": -1}, "timeout"),
        ({"pattern": "x", "interval": 0}, "interval"),
    ],
)
async def test_bad_wait_arguments(emu: Emulator, kwargs: dict[str, object], message: str) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        arguments = {"timeout": 1, **kwargs}
        with pytest.raises(InvalidInputError, match=message):
            await kvm.wait_for_text(**arguments)  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="duration"):
            await kvm.wait_for_screen_stable(timeout=1, duration=-1)
