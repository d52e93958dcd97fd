"""The emulated USB host behind kvmd's OTG HID: reports byte for byte, the host's pace,
kvmd's skipped reports when the host stops polling, and the LEDs the host echoes.

The byte strings are the USB HID spec's: the boot keyboard report (HID 1.11, Appendix
B.1: modifier bits, a reserved byte, six key usages), the Keyboard/Keypad usages (HID
Usage Tables 1.12, §10), and kvmd's mouse layouts (kvmd/plugins/hid/otg/events.py,
``make_mouse_report``: ``<BHHbb`` absolute, ``<Bbbbb`` relative, wheel Y before X)."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from aiopikvm import PiKVM
from aiopikvm.emulator import Emulator
from aiopikvm.emulator._hid_device import DeviceProcess, KeyboardReports, MouseReports
from aiopikvm.emulator._hid_events import ClearEvent, KeyEvent, MoveEvent, WheelEvent
from aiopikvm.emulator._hid_reports import (
    KEY_USAGES,
    MODIFIER_BITS,
    keyboard_report,
    led_report,
    mouse_report,
    parse_led_report,
    parse_mouse_report,
    to_fixed,
)
from aiopikvm.emulator._target import Target
from aiopikvm.emulator._usb_host import UsbHost
from aiopikvm.protocol.keys import KEYS

from .conftest import eventually
from .test_emulator_command import command

ZEROS = "00" * 8


def read_log(path: Path, dev: str = "keyboard") -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["dev"] == dev]


def hexes(path: Path, dev: str = "keyboard") -> list[str]:
    return [line["hex"] for line in read_log(path, dev)]


# ----- report encoding ------------------------------------------------------------------


def test_usages_are_the_hid_usage_tables() -> None:
    assert set(KEY_USAGES) | set(MODIFIER_BITS) == KEYS
    assert len(set(KEY_USAGES.values())) == len(KEY_USAGES)
    spec = {
        "KeyA": 0x04, "KeyZ": 0x1D, "Digit1": 0x1E, "Digit0": 0x27, "Enter": 0x28,
        "Escape": 0x29, "Space": 0x2C, "Backslash": 0x31, "Semicolon": 0x33,
        "Slash": 0x38, "CapsLock": 0x39, "F1": 0x3A, "F12": 0x45, "PrintScreen": 0x46,
        "ScrollLock": 0x47, "ArrowUp": 0x52, "NumLock": 0x53, "NumpadEnter": 0x58,
        "Numpad1": 0x59, "Numpad0": 0x62, "NumpadDecimal": 0x63, "IntlBackslash": 0x64,
        "ContextMenu": 0x65, "Power": 0x66, "F13": 0x68, "F24": 0x73,
        "AudioVolumeMute": 0x7F, "AudioVolumeDown": 0x81, "IntlRo": 0x87, "IntlYen": 0x89,
        "NonConvert": 0x8B,
    }  # fmt: skip
    assert {name: KEY_USAGES[name] for name in spec} == spec
    assert MODIFIER_BITS["ControlLeft"] == 0x01 and MODIFIER_BITS["ShiftLeft"] == 0x02
    assert MODIFIER_BITS["AltRight"] == 0x40 and MODIFIER_BITS["MetaRight"] == 0x80


def test_keyboard_reports_as_kvmd_makes_them() -> None:
    make = KeyboardReports()
    press = [r.data.hex() for r in make(KeyEvent("ShiftLeft", True))]
    press += [r.data.hex() for r in make(KeyEvent("KeyB", True))]
    assert press == ["0200000000000000", "0200050000000000"]
    assert [r.data.hex() for r in make(KeyEvent("KeyB", True))] == [  # pressed again
        "0200000000000000",
        "0200050000000000",
    ]
    assert list(make(KeyEvent("KeyC", False))) == []  # not down: no report
    for key in "CDEFG":  # six slots full, then a seventh key releases all six first
        list(make(KeyEvent(f"Key{key}", True)))
    assert [r.data.hex() for r in make(KeyEvent("KeyH", True))] == [
        "0200000000000000",
        "02000b0000000000",
    ]
    (clear,) = make(ClearEvent())
    assert clear.data == bytes(8) and clear.clear
    with pytest.raises(ValueError, match="six key slots"):
        keyboard_report(0, [4])


def test_mouse_reports_as_kvmd_makes_them() -> None:
    # kvmd's -32768..32767 onto the descriptor's 0..32767 (tools.remap, floor division)
    assert [to_fixed(v) for v in (-32768, 0, 32767)] == [0, 16383, 32767]
    assert to_fixed(0, win98_fix=True) == 32766
    absolute = MouseReports(absolute=True)
    (moved,) = absolute(MoveEvent(0, 0))
    assert moved.data.hex() == "00ff3fff3f0000" and moved.pointer == (0, 0)
    (wheel,) = absolute(WheelEvent(2, -1))
    assert wheel.data.hex() == "00ff3fff3fff02"  # wheel Y (-1), then X (2)
    short = mouse_report(absolute=False, buttons=1, x=-1, y=5, wheel_x=None, wheel_y=0)
    assert short == bytes([0x01, 0xFF, 0x05, 0x00])
    assert parse_mouse_report(bytes.fromhex("1005fd0000"), absolute=False) == (16, 5, -3, 0, 0)


def test_led_report_bits() -> None:
    assert led_report({"num": True, "caps": False, "scroll": True}) == b"\x05"
    assert parse_led_report(b"\x02") == {"num": False, "caps": True, "scroll": False}


# ----- kvmd's keyboard process and the host, on the device's own clock ---------------


def keyboard_and_host(*, poll: float) -> tuple[DeviceProcess, Target, list[dict[str, bool]]]:
    """kvmd's keyboard process writing to a host, run with times the test chooses."""
    target = Target()
    published: list[dict[str, bool]] = []
    leds = target.leds  # as the host set them when it booted (Num Lock on)
    host = UsbHost(target, poll=poll, led_echo=True, log=None, on_output=lambda *a: out(*a))
    keyboard = DeviceProcess(
        host.endpoints["keyboard"],
        KeyboardReports(),
        now=0.0,
        online=True,
        on_change=lambda: published.append(dict(leds)),
        leds=leds,
    )
    out = keyboard.output
    return keyboard, target, published


def tap(keyboard: DeviceProcess, key: str, at: float) -> None:
    keyboard.put(at, KeyEvent(key, True))
    keyboard.put(at, KeyEvent(key, False))


def test_kvmd_reads_the_echo_on_its_next_round_and_publishes_each_reading() -> None:
    keyboard, target, published = keyboard_and_host(poll=0.001)
    keyboard.put(0.0, KeyEvent("CapsLock", True))  # one report: nothing comes after it
    keyboard.advance(0.05)
    assert target.leds["caps"] is True  # the host took it at once, and echoed it 1 ms later
    assert published == []  # kvmd's queue is idle: it looks again 0.1 s after its last look
    keyboard.advance(0.2)
    assert published == [{"caps": True, "num": True, "scroll": False}]
    keyboard.put(0.2, KeyEvent("CapsLock", False))
    keyboard.put(0.2, KeyEvent("CapsLock", True))  # the echo comes as the next is taken
    keyboard.put(0.2, KeyEvent("KeyA", True))
    keyboard.advance(0.21)
    assert published[1:] == [{"caps": False, "num": True, "scroll": False}]


def test_two_echoes_read_together_publish_nothing() -> None:
    # An ideal host takes the four reports at once; both echoes arrive 1 ms later and kvmd
    # reads them in one round: caps on, then off, and poll_state sees no change.
    keyboard, target, published = keyboard_and_host(poll=0.0)
    tap(keyboard, "CapsLock", 0.0)
    tap(keyboard, "CapsLock", 0.0)
    keyboard.advance(1.0)
    assert [event[1:] for event in target.events if event[1] == "CapsLock"] == [
        ("CapsLock", True),
        ("CapsLock", False),
    ] * 2
    assert target.leds["caps"] is False and published == []


def test_echoes_between_reports_of_a_burst_are_read_one_by_one() -> None:
    keyboard, _, published = keyboard_and_host(poll=0.001)
    tap(keyboard, "CapsLock", 0.0)
    tap(keyboard, "CapsLock", 0.0)
    tap(keyboard, "KeyA", 0.0)  # more of the burst: kvmd comes round after each report
    keyboard.advance(1.0)
    assert [state["caps"] for state in published] == [True, False]


# ----- the host, through the client -----------------------------------------------------


async def test_reports_are_logged_byte_for_byte(tmp_path: Path) -> None:
    log = tmp_path / "usb.jsonl"
    async with Emulator(hid_log=log) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        async with kvm.ws() as ws:
            await ws.send_key("KeyA")
            await ws.send_key("ShiftLeft", True)
            await ws.send_key("KeyB")
            await ws.send_key("ShiftLeft", False)
            await ws.send_mouse_move(0, 0)
            await ws.send_mouse_button("left")
            await ws.send_mouse_wheel(0, -1)
            await eventually(lambda: len(hexes(log, "mouse")) == 5)
            await kvm.hid.set_params(mouse_output="usb_rel")
            await ws.send_mouse_relative(5, -3)
            await eventually(lambda: "0005fd0000" in hexes(log, "mouse-alt"))
        # The closing clear reaches each device a poll or kvmd loop later: wait for it here
        # (leaving the emulator first lost the keyboard's once on a loaded CI machine).
        await eventually(lambda: len(hexes(log)) >= 8 and len(hexes(log, "mouse-alt")) >= 3)
        assert emu.target.screen_text == "aB"
    # Each session's opening and closing sends every device its empty report (kvmd's clear).
    assert hexes(log) == [
        ZEROS,
        "0000040000000000",
        ZEROS,
        "0200000000000000",
        "0200050000000000",
        "0200000000000000",
        ZEROS,
        ZEROS,
    ]
    assert hexes(log, "mouse")[:6] == [
        "00000000000000",  # the opening's clear, before any move: fixed (0, 0)
        "00ff3fff3f0000",
        "01ff3fff3f0000",
        "00ff3fff3f0000",
        "00ff3fff3fff00",
        "00ff3fff3f0000",  # leaving the absolute mouse clears it
    ]
    assert hexes(log, "mouse-alt") == ["0000000000", "0005fd0000", "0000000000"]
    assert all(isinstance(line["ts"], float) for line in read_log(log))


async def test_taps_sent_at_once_are_taken_one_report_a_poll(tmp_path: Path) -> None:
    log, poll, text = tmp_path / "usb.jsonl", 0.01, "packmyboxwithfivedozenjugs"
    async with (
        Emulator(hid_poll=poll, hid_log=log) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        await eventually(lambda: len(hexes(log)) == 1)  # the opening's clear
        for char in text:
            await ws.send_key(f"Key{char.upper()}")
        await eventually(lambda: emu.target.screen_text == text, timeout=10)
    taken = read_log(log)[1 : 1 + 2 * len(text)]
    expected = []
    for char in text:
        expected += [f"0000{KEY_USAGES[f'Key{char.upper()}']:02x}0000000000", ZEROS]
    assert [line["hex"] for line in taken] == expected  # every report, in order
    # The host's own clock: one report a poll, so kvmd's queue waited meanwhile.
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(taken)]
    assert min(gaps) > poll * 0.5
    assert taken[-1]["ts"] - taken[0]["ts"] > (len(taken) - 1) * poll * 0.9


async def test_a_stalled_host_loses_all_but_the_last_report(tmp_path: Path) -> None:
    log = tmp_path / "usb.jsonl"
    async with Emulator(hid_log=log) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        async with kvm.ws() as ws:
            await eventually(lambda: len(hexes(log)) == 1)
            emu.target.stall_usb(2.0)
            for key in ("KeyA", "KeyB", "KeyC"):
                await ws.send_key(key)
            # "a" went to the free endpoint; each report after it waited in vain, 0.1 s at
            # the top of kvmd's loop and 0.1 s for itself, and was skipped; the last of them
            # was tried again until the host polled once more.
            await eventually(lambda: emu.target.screen_text == "a", timeout=5)
            await eventually(lambda: not emu.target.held_keys)
            onlines = []
            async with asyncio.timeout(5):
                async for message in ws.events():
                    if message["event_type"] == "hid":
                        onlines.append(message["event"]["keyboard"]["online"])
                        if onlines[-2:] == [False, True]:
                            break
        # The session's closing clear reaches the host a poll or kvmd loop later; leaving
        # the emulator before it did lost it once on a loaded CI machine.
        await eventually(lambda: len(hexes(log)) >= 4)
        assert emu.target.screen_text == "a"
    assert hexes(log) == [ZEROS, "0000040000000000", ZEROS, ZEROS]  # b and c: never written
    assert onlines[0] is True and False in onlines  # the burst's first state, then offline


@pytest.mark.parametrize("echo", [True, False])
async def test_lock_keys_echo_leds(echo: bool) -> None:
    async with (
        Emulator(hid_led_echo=echo) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        before = (await kvm.hid.get_state()).keyboard.leds
        await ws.send_key("NumLock")
        await ws.send_key("CapsLock")
        await ws.send_key("KeyA")
        await eventually(lambda: emu.target.screen_text == "A")  # the host's Caps Lock is on
        seen = []
        try:
            async with asyncio.timeout(0.5):  # kvmd reads the LEDs within 0.1 s
                async for message in ws.events():
                    if message["event_type"] == "hid":
                        seen.append(message["event"]["keyboard"]["leds"])
                        if seen[-1]["caps"]:
                            break
        except TimeoutError:
            pass
        after = (await kvm.hid.get_state()).keyboard.leds
    assert emu.target.leds == {"caps": True, "num": False, "scroll": False}
    if echo:
        assert (before.num, before.caps) == (True, False)  # set by the host as it booted
        assert (after.num, after.caps, after.scroll) == (False, True, False)
        assert seen[-1] == {"caps": True, "scroll": False, "num": False}
    else:
        assert before == after and not (after.num or after.caps or after.scroll)
        assert all(leds == seen[0] for leds in seen)


async def test_the_command_logs_reports(tmp_path: Path) -> None:
    log = tmp_path / "usb.jsonl"
    flags = ("--hid-log", str(log), "--hid-poll", "0.004", "--no-led-echo")
    async with command(*flags) as device, PiKVM(device.url, passwd="admin") as kvm:
        async with kvm.ws() as ws:
            await ws.send_key("CapsLock")
            await ws.send_key("KeyQ")
            await eventually(lambda: "0000140000000000" in hexes(log))
        state = await kvm.hid.get_state()
    assert hexes(log)[:5] == [ZEROS, "0000390000000000", ZEROS, "0000140000000000", ZEROS]
    assert not state.keyboard.leds.caps  # the host took Caps Lock and never said so


async def test_a_host_that_is_off_takes_nothing_and_kvmd_tries_the_last_report_again(
    tmp_path: Path,
) -> None:
    log = tmp_path / "usb.jsonl"
    async with (
        Emulator(hid_log=log, host_powered=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        await ws.send_key("KeyA")  # both reports fail at once (ESHUTDOWN); the last is retried
        assert not (await kvm.hid.get_state()).keyboard.online
        emu.target.set_powered(True)
        # kvmd's retries (150, every 0.1 s) write the release once the host is back:
        # online again without new input, and the press never reached the host.
        await eventually(lambda: hexes(log) == [ZEROS] and hexes(log, "mouse") == ["00" * 7])
        state = await kvm.hid.get_state()
        assert state.keyboard.online and state.mouse.online  # the mouse: the opening's clear
        assert emu.target.screen_text == ""


@pytest.mark.parametrize("bad", [-0.1, float("inf"), float("nan")])
def test_a_stall_takes_finite_seconds(bad: float) -> None:
    with pytest.raises(ValueError, match="stall_usb takes a finite number"):
        Target().stall_usb(bad)


def test_hid_delay_is_the_old_name_of_hid_poll() -> None:
    Emulator(hid_delay=0.004)
    Emulator(hid_delay=0.004, hid_poll=0.004)
    with pytest.raises(ValueError, match="old name of hid_poll"):
        Emulator(hid_delay=0.004, hid_poll=0.01)
    with pytest.raises(ValueError, match="hid_poll must be"):
        Emulator(hid_poll=-1)


async def test_the_command_stalls_the_host_now_and_then(tmp_path: Path) -> None:
    log = tmp_path / "usb.jsonl"
    flags = ("--hid-log", str(log), "--usb-stall-every", "0.6", "--usb-stall", "0.5")
    async with (
        command(*flags) as device,
        PiKVM(device.url, passwd="admin") as kvm,
        kvm.ws() as ws,
    ):
        for _ in range(20):  # over a second or more: most of it with the host stalled
            await ws.send_key("KeyQ")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    taken = hexes(log)
    typed = sum(1 for a, b in itertools.pairwise(taken) if (a, b) == (ZEROS, "0000140000000000"))
    assert len(taken) < 2 + 2 * 20  # kvmd skipped reports the stalled host could not take
    assert 0 < typed < 20  # and the host saw fewer taps (a press after a lost release: none)
