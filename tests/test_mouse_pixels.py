"""The mouse in screen pixels: kvmd's web UI mapping, and the session using it against the
emulator's streamer.

The expected numbers are kvmd's, not ours: kvmd's web UI maps a pixel with
``tools.remap(x, 0, width - 1, -32768, 32767)`` (web/share/js/kvm/mouse.js, lines 345-346;
``remap`` is ``Math.round((value - in_min) * (out_max - out_min) / ((in_max - in_min) || 1)
+ out_min)``, clamped, in web/share/js/tools.js, lines 140-143). :data:`KVMD_CASES` holds
that formula worked out by hand; :func:`test_matches_kvmds_formula_run_by_node` runs it,
transcribed in :data:`REMAP_JS`, in node when there is one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Final

import pytest

from aiopikvm import DeviceState, InvalidInputError, PiKVM, WaitTimeoutError
from aiopikvm.emulator import Emulator
from aiopikvm.protocol.pointer import to_absolute

from .conftest import eventually


def resolution_is(width: int, height: int) -> Callable[[DeviceState], bool]:
    def check(state: DeviceState) -> bool:
        streamer = state.streamer.streamer if state.streamer is not None else None
        return (
            streamer is not None
            and streamer.source.online
            and (streamer.source.resolution.width, streamer.source.resolution.height)
            == (width, height)
        )

    return check


def moves(emu: Emulator) -> list[object]:
    """The mouse input the target got. Read once the session has closed, which waits for the
    HID's queue to drain; or after :func:`received`."""
    return [event for event in emu.target.events if event[0] != "key"]


async def received(emu: Emulator, count: int) -> None:
    """Wait for the target to get ``count`` mouse events: the HID applies them from its queue."""
    await eventually(lambda: len(moves(emu)) >= count)


async def test_pixels_follow_the_live_resolution(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(stream=True) as ws:
        await ws.wait_for(resolution_is(1920, 1080), timeout=5)
        assert ws.screen_size() == (1920, 1080)
        await ws.move_to(960, 540)
        await received(emu, 1)
        assert emu.target.mouse_position == (17, 30)
        await ws.move_to(0, 1079)
        await received(emu, 2)
        assert emu.target.mouse_position == (-32768, 32767)  # the last row reaches the edge

        emu.set_resolution(1280, 720)
        await ws.wait_for(resolution_is(1280, 720), timeout=5)
        await ws.move_to(1279, 0)
        await received(emu, 3)
        assert emu.target.mouse_position == (32767, -32768)


async def test_click_moves_then_clicks(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.click(480, 270, "right", screen_size=(1920, 1080))
    assert moves(emu) == [
        ("mouse_move", -16376, -16369),
        ("mouse_button", "right", True),
        ("mouse_button", "right", False),
    ]


async def test_drag_travels_with_the_button_down(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.drag((0, 0), (100, 50), steps=4, delay=0, screen_size=(200, 100))
        await received(emu, 7)
        assert emu.target.mouse_buttons == frozenset()  # before closing releases everything
    assert moves(emu) == [
        ("mouse_move", -32768, -32768),
        ("mouse_button", "left", True),
        ("mouse_move", -24535, -24493),
        ("mouse_move", -16302, -16219),
        ("mouse_move", -8069, -7944),
        ("mouse_move", 164, 330),
        ("mouse_button", "left", False),
    ]


async def test_a_cancelled_drag_lets_go_of_the_button(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        task = asyncio.create_task(ws.drag((0, 0), (99, 99), steps=1000, screen_size=(100, 100)))
        await eventually(lambda: "left" in emu.target.mouse_buttons)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert ws.held_buttons == ()
        await eventually(lambda: emu.target.mouse_buttons == frozenset())


async def test_scroll_in_notches_down_and_right(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.scroll(dy=3)
        await ws.scroll(dx=-2, dy=-1, at=(960, 540), screen_size=(1920, 1080))
        await ws.scroll(dx=200)
    assert moves(emu) == [
        ("mouse_wheel", 0, -3),
        ("mouse_move", 17, 30),
        ("mouse_wheel", -2, 1),
        ("mouse_wheel", 127, 0),
        ("mouse_wheel", 73, 0),
    ]


async def test_an_unknown_resolution_is_an_error_and_sends_nothing(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws(stream=False) as ws:
        await ws.wait_for(lambda s: s.streamer is not None, timeout=5)
        with pytest.raises(InvalidInputError, match=r"resolution is unknown.*screen_size"):
            await ws.move_to(10, 10)
        with pytest.raises(InvalidInputError, match="resolution is unknown"):
            await ws.click(10, 10)
        await ws.move_to(10, 10, screen_size=(20, 20))  # told explicitly: fine
    assert moves(emu) == [("mouse_move", 1724, 1724)]


async def test_no_signal_is_an_unknown_resolution() -> None:
    async with (
        Emulator(host_powered=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws(stream=True) as ws,
    ):
        await ws.wait_for(
            lambda s: s.streamer is not None and s.streamer.streamer is not None, timeout=5
        )
        with pytest.raises(InvalidInputError, match="no signal"):
            ws.screen_size()
        with pytest.raises(WaitTimeoutError, match=r"no signal.*waited 0.2 s"):
            await ws.wait_for_screen_size(timeout=0.2)


async def test_waiting_for_the_screen_size_sees_the_first_report(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        async with kvm.ws(stream=False) as ws:  # first: the video never ran
            with pytest.raises(WaitTimeoutError, match="stream=True"):
                await ws.wait_for_screen_size(timeout=0)
        async with kvm.ws(stream=True) as ws:
            assert await ws.wait_for_screen_size(timeout=5) == (1920, 1080)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (-1, 0, "x=-1 is off the screen: 0..99"),
        (100, 0, "x=100 is off the screen"),
        (0, 50, "y=50 is off the screen: 0..49"),
        (0.5, float("nan"), "y must be a pixel coordinate"),
        (True, 0, "x must be a pixel coordinate"),
    ],
)
async def test_pixels_off_the_screen_send_nothing(
    emu: Emulator, x: float, y: float, message: str
) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        with pytest.raises(InvalidInputError, match=message):
            await ws.move_to(x, y, screen_size=(100, 50))
        with pytest.raises(InvalidInputError, match=message):
            await ws.drag((0, 0), (x, y), screen_size=(100, 50))
    assert moves(emu) == []


async def test_bad_arguments_send_nothing(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        size = (100, 100)
        with pytest.raises(InvalidInputError, match="unknown mouse button"):
            await ws.click(1, 1, "thumb", screen_size=size)
        with pytest.raises(InvalidInputError, match="screen_size"):
            await ws.move_to(1, 1, screen_size=(0, 100))
        with pytest.raises(InvalidInputError, match="steps"):
            await ws.drag((1, 1), (2, 2), steps=0, screen_size=size)
        with pytest.raises(InvalidInputError, match="dy must be an int"):
            await ws.scroll(dy=1.5)  # type: ignore[arg-type]
    assert moves(emu) == []


# ----- kvmd's mapping -----------------------------------------------------------------

KVMD_CASES: Final = [
    # (pixel, screen size, kvmd's value): remap(pixel, 0, size - 1, -32768, 32767)
    (0, 1920, -32768),
    (1919, 1920, 32767),  # 1919 * 65535 / 1919 - 32768: the last pixel reaches the edge
    (1079, 1080, 32767),
    (960, 1920, 17),  # 960 * 65535 / 1919 = 32785.0756; - 32768 = 17.0756
    (540, 1080, 30),  # 540 * 65535 / 1079 = 32797.8684; - 32768 = 29.8684
    (480, 1920, -16376),  # 16392.2877 - 32768 = -16375.7123
    (270, 1080, -16369),  # 16398.9342 - 32768 = -16369.0658
    (10, 20, 1724),  # 10 * 65535 / 19 = 34492.1053
    (25, 200, -24535),  # 25 * 65535 / 199 = 8233.0402
    (12.5, 100, -24493),  # 12.5 * 65535 / 99 = 8274.6212
    (959.5, 1920, 0),  # exactly -0.5: Math.round goes up, to -0
    (32768.5, 65536, 1),  # exactly 0.5: up to 1 (Python's round() would give 0)
    (1, 2, 32767),
    (0, 1, -32768),  # one pixel: kvmd divides by (0 || 1)
]

REMAP_JS: Final = """
// kvmd's tools.remap (web/share/js/tools.js), as kvm/mouse.js calls it, transcribed.
const remap = (value, inMin, inMax, outMin, outMax) => Math.min(Math.max(
    Math.round((value - inMin) * (outMax - outMin) / ((inMax - inMin) || 1) + outMin),
    outMin), outMax);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(([p, size]) => remap(p, 0, size - 1, -32768, 32767))));
"""


@pytest.mark.parametrize(("pixel", "size", "expected"), KVMD_CASES)
def test_matches_kvmds_formula(pixel: float, size: int, expected: int) -> None:
    assert to_absolute(pixel, size) == expected


def test_matches_kvmds_formula_run_by_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    sizes = [1, 2, 3, 99, 100, 640, 1023, 1024, 1079, 1080, 1280, 1919, 1920, 3840, 65536]
    cases = [[p, size] for size in sizes for p in sorted({0, 1, size // 3, size // 2, size - 1})]
    cases += [[p / 4, size] for size in (100, 1080, 1920) for p in range(0, 4 * size, 37)]
    cases += [[32768.5, 65536], [959.5, 1920], [0.5, 2]]
    run = subprocess.run(
        [node, "-e", REMAP_JS], input=json.dumps(cases), capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    expected = json.loads(run.stdout)
    assert [to_absolute(p, size) for p, size in cases] == expected


def test_every_pixel_keeps_its_own_value() -> None:
    for size in (2, 3, 640, 1080, 1920):
        values = [to_absolute(p, size) for p in range(size)]
        assert values == sorted(set(values))
        assert (values[0], values[-1]) == (-32768, 32767)


def test_a_screen_axis_has_pixels() -> None:
    with pytest.raises(ValueError, match="at least one pixel"):
        to_absolute(0, 0)
