"""Typing at the host's own pace, acknowledged by the host's keyboard-LED echoes, through
the public API against the emulator (whose target sets its LEDs as a host OS does)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import string

import pytest

from aiopikvm import PiKVM, RetryPolicy, TypingResult
from aiopikvm.emulator import Emulator

from .conftest import eventually
from .test_resume import matches_uncertain

TEXT = "the quick brown fox jumps over the lazy dog; THE QUICK BROWN FOX! 0123456789\n" * 3


def _host_vouched_all(result: TypingResult) -> bool:
    return result.host_acked == ((0, result.total),) and all(
        result.vouched_by(i) == "host" for i in range(result.total)
    )


@pytest.mark.parametrize("poll", [0.001, 0.01])
async def test_the_text_arrives_exactly_and_the_host_vouches_for_it(poll: float) -> None:
    text = TEXT if poll < 0.005 else TEXT[:90]
    async with Emulator(hid_poll=poll) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        num = emu.target.leds["num"]
        result = await kvm.type_text(text)
        assert emu.target.screen_text == text
        assert emu.target.leds["num"] == num  # toggled in pairs: as it began
        assert ("key", "NumLock", True) in emu.target.events  # it was asked
    assert result.exact and result.ack == "host" and result.fallback == ""
    assert _host_vouched_all(result)
    assert result.host_event_time is not None


async def test_an_ideal_host_whose_echoes_coalesce_is_followed_not_given_up() -> None:
    """On a host that takes everything at once (hid_poll=0) kvmd publishes two asks' LED
    changes as one, i.e. none: typing took that for a host gone silent and fell back to
    the fixed pace (13 s for 200 characters). Now it resyncs on kvmd's answers (those
    characters vouched for by kvmd) and asks one at a time — and the session remembers."""
    rng = random.Random(1)  # found with these: mixed case, so Shift is held across asks
    text = "".join(rng.choice(string.ascii_letters + " ") for _ in range(200))
    async with Emulator(hid_poll=0) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        num = emu.target.leds["num"]
        async with kvm.ws() as ws:
            first = await ws.type_text(text)
            second = await ws.type_text(text)
        assert emu.target.screen_text == text * 2
        assert emu.target.leds["num"] == num
    for result in (first, second):
        assert result.exact and result.ack == "host" and result.fallback == ""
        assert {result.vouched_by(i) for i in range(result.total)} <= {"host", "kvmd"}
    assert first.host_vouched > 0
    assert _host_vouched_all(second)  # one ask at a time from the start: nothing coalesced


async def test_num_lock_off_at_the_start_ends_off_and_caps_lock_still_comes_back() -> None:
    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.hid.send_key("CapsLock")
        await kvm.hid.send_key("NumLock")
        await eventually(lambda: emu.target.leds == {"caps": True, "num": False, "scroll": False})
        result = await kvm.type_text(TEXT)
        assert emu.target.screen_text == TEXT  # Caps Lock was off while typing
        assert emu.target.leds == {"caps": True, "num": False, "scroll": False}
    assert result.exact and _host_vouched_all(result)


async def test_a_host_that_does_not_echo_gets_the_default_pacing_and_the_result_says_so() -> None:
    text = TEXT[:40]
    async with (
        Emulator(hid_poll=0.01, hid_led_echo=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        num = emu.target.leds["num"]
        result = await kvm.type_text(text)
        assert emu.target.screen_text == text
        await eventually(lambda: emu.target.leds["num"] == num)
        # The probe and the toggle that puts it back, and nothing more: the rest of the
        # text at the pace typing has without asking (bench/typing_text.py times it).
        taps = [e for e in emu.target.events if e == ("key", "NumLock", True)]
        assert len(taps) == 2
    assert result.exact and result.ack == "kvmd" and result.host_acked == ()
    assert "no keyboard-LED echo" in result.fallback
    assert all(result.vouched_by(i) == "kvmd" for i in range(len(text)))


async def test_kvmd_acks_or_a_short_text_leave_num_lock_alone() -> None:
    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm:
        kvmd = await kvm.type_text("abcdefghijklmnopqrstuvwxyz", delay=0.002, ack="kvmd")
        short = await kvm.type_text("short", delay=0.002)  # too short to be worth two toggles
        assert not any(e[:2] == ("key", "NumLock") for e in emu.target.events)
    for result in (kvmd, short):
        assert result.exact and result.ack == "kvmd" and result.host_acked == ()
        assert result.vouched_by(0) == "kvmd"


async def test_a_fixed_delay_is_checked_against_the_host() -> None:
    # A delay is the least time per event; the host's echoes still vouch, and say whether
    # the host kept up (this emulated host polls every 4 ms: 4 ms per event).
    text = "abcdefghijklmnopqrstuvwxyz"
    async with Emulator(hid_poll=0.004) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        num = emu.target.leds["num"]
        slow = await kvm.type_text(text, delay=0.005)
        fast = await kvm.type_text(text, delay=0.0005)
        assert emu.target.screen_text == text * 2
        await eventually(lambda: emu.target.leds["num"] == num)
    assert slow.exact and slow.ack == "host" and not slow.delay_too_short
    assert fast.exact and fast.ack == "host" and fast.delay_too_short


async def test_a_delay_below_what_the_host_takes_is_reported() -> None:
    async with Emulator(hid_poll=0.004) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        result = await kvm.type_text(TEXT, delay=0.0005, ack="host")
        assert emu.target.screen_text == TEXT  # the window held it back: nothing lost
    assert result.exact and _host_vouched_all(result)
    assert result.delay_too_short
    assert result.host_event_time is not None and result.host_event_time > 0.002


async def test_another_session_opening_midway_is_reported_and_num_lock_ends_as_it_began() -> None:
    text = string.ascii_uppercase * 8  # Shift held throughout: asks release it around

    async def progress(typed: int, total: int) -> None:
        if typed in (40, 120):  # kvmd throws its queue away
            async with kvm.ws(stream=True):
                pass

    async with Emulator(hid_poll=0.002) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        num = emu.target.leds["num"]
        result = await kvm.type_text(text, progress=progress)
        screen = emu.target.screen_text
        assert emu.target.leds["num"] == num
        assert emu.target.held_keys == frozenset()
    assert result.typed == len(text) and result.disruptions >= 2
    assert result.ack == "host"
    assert matches_uncertain(screen, text, result.uncertain)
    assert screen.isupper()
    for i in range(len(text)):  # each character: the host, kvmd or nothing vouches for it
        assert result.vouched_by(i) == "none" or i not in result.uncertain


async def test_cancelled_typing_puts_num_lock_back() -> None:
    async with Emulator(hid_poll=0.003) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        num = emu.target.leds["num"]
        async with kvm.ws() as ws:
            task = asyncio.create_task(ws.type_text(TEXT * 3))
            await eventually(lambda: len(emu.target.screen_text) > 50)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await ws.ping()
            await eventually(lambda: emu.target.leds["num"] == num)
        await eventually(lambda: emu.target.held_keys == frozenset())
        assert TEXT.startswith(emu.target.screen_text[: len(TEXT)])


# ----- a long text through every kind of loss ------------------------------------------

DROP_SEEDS = 2
DROP_TEXT = 2000
DROP_ALPHABET = string.ascii_letters + string.digits + " .,;:!?@#()-_=+/'\"\n"


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


async def _type_through_losses(seed: int) -> tuple[str, str, TypingResult, bool]:
    rng = random.Random(seed)
    text = "".join(rng.choice(DROP_ALPHABET) for _ in range(DROP_TEXT))
    async with (
        Emulator(hid_poll=0.001, fault_seed=seed) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
    ):
        num = emu.target.leds["num"]
        emu.faults.drop_ws(after=(800, 3000), clean=seed % 2 == 1, times=None)

        async def disturb() -> None:
            while True:
                await asyncio.sleep(rng.uniform(0.3, 1.0))
                if rng.random() < 0.5:
                    emu.target.stall_usb(rng.uniform(0.05, 0.4))  # kvmd skips reports
                else:
                    async with kvm.ws(stream=True):  # kvmd throws its queue away
                        pass

        disturber = asyncio.create_task(disturb())
        try:
            policy = RetryPolicy(50, base_delay=0.0, max_delay=0.0, sleep=_no_wait)
            result = await kvm.type_text(text, reconnect=policy)
        finally:
            disturber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await disturber
        await eventually(lambda: not emu.target.held_keys)
        await eventually(lambda: emu.target.leds["num"] == num)  # Num Lock as it began
        return text, emu.target.screen_text, result, emu.target.leds["num"] == num


async def test_2000_characters_through_stalls_queue_losses_and_drops_lose_nothing_unreported() -> (
    None
):
    runs = await asyncio.gather(*(_type_through_losses(seed) for seed in range(DROP_SEEDS)))
    for seed, (text, screen, result, num_as_began) in enumerate(runs):
        assert result.typed == len(text), seed
        assert result.disruptions >= 1, seed
        # Every character is on the screen in order, or listed uncertain (one kvmd's release
        # of Shift changed may show as another).
        assert matches_uncertain(screen, text, result.uncertain), seed
        assert num_as_began, seed
        assert result.ack == "host", seed
        assert result.host_vouched > 0, seed


async def test_echoes_that_coalesce_on_a_slow_link_wait_for_kvmd_s_answers() -> None:
    """On a host that takes everything at once, two asks' LED changes show as none; with
    every frame from the device 0.3 s late, kvmd's answers to the pings after them were not
    in when typing looked for them, and typing failed (IndexError, found by the fuzz)."""
    text = "".join(random.Random(2).choice(string.ascii_letters) for _ in range(300))
    async with Emulator(hid_poll=0) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        emu.faults.lag_ws(0.3)
        result = await kvm.type_text(text, delay=0)
        assert emu.target.screen_text == text
    assert result.exact and result.ack == "host" and result.fallback == ""
    assert {result.vouched_by(i) for i in range(result.total)} <= {"host", "kvmd"}
