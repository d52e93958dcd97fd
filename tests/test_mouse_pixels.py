"""The mouse in screen pixels over the WebSocket, against the emulator's streamer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from aiopikvm import DeviceState, InvalidInputError, PiKVM
from aiopikvm.emulator import Emulator

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
        assert emu.target.mouse_position == (0, 0)
        await ws.move_to(0, 1079)
        await received(emu, 2)
        assert emu.target.mouse_position == (-32768, 32706)  # the web UI's numbers

        emu.set_resolution(1280, 720)
        await ws.wait_for(resolution_is(1280, 720), timeout=5)
        await ws.move_to(1279, 0)
        await received(emu, 3)
        assert emu.target.mouse_position == (32716, -32768)


async def test_click_moves_then_clicks(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm, kvm.ws() as ws:
        await ws.click(480, 270, "right", screen_size=(1920, 1080))
    assert moves(emu) == [
        ("mouse_move", -16384, -16384),
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
        ("mouse_move", -24576, -24576),
        ("mouse_move", -16384, -16384),
        ("mouse_move", -8192, -8192),
        ("mouse_move", 0, 0),
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
        ("mouse_move", 0, 0),
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
    assert moves(emu) == [("mouse_move", 0, 0)]


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
