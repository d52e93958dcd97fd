"""Finding pictures and text on the emulated host's screen, waiting for them and clicking
them, through the public client against the emulator."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from aiopikvm import (
    ImageMatch,
    ImageNotFoundError,
    InvalidInputError,
    PiKVM,
    ScreenTimeoutError,
    TextMatch,
    TextNotFoundError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.protocol.pointer import to_absolute

from .conftest import eventually
from .test_screen_text import needs_tesseract

JPEG = b"\xff\xd8"
FAST = {"interval": 0.05}
CELL = (16, 24)
"""The emulated console's character cell in pixels (its documented grid)."""


def needs_a_readable_console() -> None:
    """Tesseract, to read the emulator's console."""
    needs_tesseract()


def mouse(emu: Emulator) -> list[object]:
    return [event for event in emu.target.events if event[0] != "key"]


def click_at(x: int, y: int, size: tuple[int, int] = (1920, 1080)) -> list[object]:
    """What kvmd's HID gets for a left click at pixel (x, y), by kvmd's web UI mapping."""
    return [
        ("mouse_move", to_absolute(x, size[0]), to_absolute(y, size[1])),
        ("mouse_button", "left", True),
        ("mouse_button", "left", False),
    ]


def cells(column: int, row: int, length: int) -> tuple[int, int, int, int]:
    width, height = CELL
    return column * width, row * height, (column + length) * width, (row + 1) * height


def within(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    return outer[0] <= box[0] < box[2] <= outer[2] and outer[1] <= box[1] < box[3] <= outer[3]


# ----- pictures ---------------------------------------------------------------------------


async def test_wait_for_image_finds_a_button_that_shows_up(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("Setup is ready. Press the button to go on.\n", delay=0.002)
        button = emu.target.buttons  # none yet
        assert button == ()
        template = emu.target.show_button("Continue", 1500, 900)
        emu.target.hide_buttons()
        waiting = asyncio.create_task(kvm.wait_for_image(template.png(), timeout=20, **FAST))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        emu.target.show_button("Continue", 1500, 900)
        found = await waiting
    assert isinstance(found, ImageMatch)
    assert found.box == (1500, 900, 1660, 948) == template.box
    assert found.center == template.center == (1580, 924)
    assert 0.95 <= found.score <= 1.0


async def test_click_image_clicks_its_centre_on_the_target(emu: Emulator) -> None:
    ok = emu.target.show_button("OK", 200, 600, width=96, height=40)
    emu.target.show_button("Cancel", 400, 600)
    async with PiKVM(emu.url, passwd="admin") as kvm:
        found = await kvm.click_image(ok.png(), timeout=20, **FAST)
    assert found.box == ok.box and found.center == (248, 620)
    await eventually(lambda: len(mouse(emu)) >= 3)
    assert mouse(emu) == click_at(248, 620)


async def test_clicks_follow_the_resolution_of_the_snapshot() -> None:
    async with Emulator(screen_size=(1280, 720)) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        target = emu.target.show_button("Next", 1100, 650)
        await kvm.click_image(target.png(), timeout=20, **FAST)
        await eventually(lambda: len(mouse(emu)) >= 3)
        assert mouse(emu) == click_at(1180, 674, (1280, 720))


async def test_find_image_is_one_look(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        template = emu.target.show_button("Apply", 40, 40)
        found = await kvm.find_image(template.png())
        assert found is not None and found.box == template.box
        assert await kvm.find_image(template.png(), region=(800, 0, 1920, 1080)) is None
        emu.target.hide_buttons()
        assert await kvm.find_image(template.png()) is None


async def test_a_timeout_carries_the_last_screenshot_and_the_best_score(
    emu: Emulator, tmp_path: Path
) -> None:
    absent = emu.target.show_button("Reboot", 10, 10, width=120)
    emu.target.hide_buttons()
    wider = emu.target.show_button("Reboot", 10, 10, width=160)  # close, but not it
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(ImageNotFoundError) as raised:
            await kvm.wait_for_image(absent.png(), timeout=0.5, **FAST)
    error = raised.value
    assert isinstance(error, ScreenTimeoutError)
    assert error.best_score is not None and 0.5 < error.best_score < error.threshold == 0.95
    assert error.best_box is not None and within(error.best_box, wider.box)  # part of it
    assert error.last_snapshot is not None and error.last_snapshot.startswith(JPEG)
    assert f"best score {error.best_score:.3f}" in str(error)
    assert error.save_snapshot(tmp_path / "last.jpg")
    assert (tmp_path / "last.jpg").read_bytes() == error.last_snapshot
    # the same template scores as found with a threshold below that best score
    async with PiKVM(emu.url, passwd="admin") as kvm:
        near = await kvm.find_image(absent.png(), threshold=error.best_score - 0.05)
    assert near is not None and near.box == error.best_box


async def test_no_video_is_said_so(emu: Emulator) -> None:
    template = emu.target.show_button("X", 0, 0)
    async with PiKVM(emu.url, passwd="admin") as kvm:
        with pytest.raises(ImageNotFoundError, match="no video came up") as raised:
            await kvm.wait_for_image(template.png(), timeout=0.3, keep_video=False, **FAST)
        assert raised.value.last_snapshot is None and raised.value.best_score is None
        with pytest.raises(ScreenTimeoutError, match="no video came up"):
            await kvm.find_image(template.png(), timeout=0.3, keep_video=False)


async def test_a_bad_template_is_refused_before_anything_is_sent(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        before = len(emu.faults.requests)
        with pytest.raises(InvalidInputError, match="neither a PNG nor a JPEG"):
            await kvm.wait_for_image(b"not a picture", timeout=5)
        with pytest.raises(InvalidInputError, match="threshold"):
            await kvm.click_image(emu.target.show_button("a", 0, 0).png(), timeout=5, threshold=2)
        with pytest.raises(InvalidInputError, match="button"):
            await kvm.click_image(b"\x89PNG", timeout=5, button="middle-ish")
        assert len(emu.faults.requests) == before


# ----- text -------------------------------------------------------------------------------


async def test_find_text_returns_the_box_of_a_word_the_host_wrote(emu: Emulator) -> None:
    needs_a_readable_console()
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("pikvm login: admin\nWelcome to Debian\n", delay=0.002)
        found = await kvm.find_text("Debian")
    assert [m.text for m in found] == ["Debian"]
    # "Debian" is in columns 11-16 of the second row; the box is the ink inside those cells
    assert within(found[0].box, cells(11, 1, 6))
    left, top, right, bottom = found[0].box
    assert right - left >= 0.8 * 6 * CELL[0] and bottom - top >= CELL[1] / 2
    assert found[0].confidence > 0.5


async def test_click_text_clicks_the_middle_of_the_words(emu: Emulator) -> None:
    needs_a_readable_console()
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("Boot menu\n\n   Start installer\n   Rescue mode\n", delay=0.002)
        found = await kvm.click_text("Rescue mode", timeout=30, **FAST)
    assert isinstance(found, TextMatch) and found.text == "Rescue mode"
    assert within(found.box, cells(3, 3, 11))
    await eventually(lambda: len(mouse(emu)) >= 3)
    assert mouse(emu) == click_at(*found.center)


async def test_wait_for_text_box_waits_and_times_out_with_what_it_read(emu: Emulator) -> None:
    needs_a_readable_console()
    async with PiKVM(emu.url, passwd="admin") as kvm:
        await kvm.type_text("Loading\n", delay=0.002)
        waiting = asyncio.create_task(kvm.wait_for_text_box("ready", timeout=30, **FAST))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        # No newline: Tesseract's automatic layout (--psm 3) drops the lines above a cursor
        # blinking alone on an empty line (it reads "s ready"); see the notes of the
        # noisy branch, which made the cursor blink.
        emu.target.write("System is ready")
        found = await waiting
        assert found.text == "ready" and within(found.box, cells(10, 1, 5))
        with pytest.raises(TextNotFoundError) as raised:
            await kvm.wait_for_text_box("shut down.", timeout=0.2, **FAST)
    assert str(raised.value).startswith("'shut down.' did not appear")  # not regex-escaped
    assert "System is ready" in raised.value.last_text
    assert raised.value.last_snapshot is not None and raised.value.last_snapshot.startswith(JPEG)


async def test_a_screenshot_holds_its_own_video_session_and_saves_png_or_jpeg(
    tmp_path: Path,
) -> None:
    from PIL import Image

    async with Emulator() as emu, PiKVM(emu.url, passwd="admin") as kvm:
        emu.target.write("hello")
        jpeg = await kvm.screenshot(tmp_path / "shot.jpg")  # no stream=1 session of ours
        png = await kvm.screenshot(tmp_path / "shot.png")
        with pytest.raises(InvalidInputError, match=r"\.png, \.jpg or \.jpeg"):
            await kvm.screenshot(tmp_path / "shot.gif")
    assert jpeg.startswith(b"\xff\xd8") and (tmp_path / "shot.jpg").read_bytes() == jpeg
    assert png.startswith(b"\x89PNG") and (tmp_path / "shot.png").read_bytes() == png
    with Image.open(tmp_path / "shot.png") as picture:
        assert picture.size == (1920, 1080)
    assert not (tmp_path / "shot.gif").exists()
    assert sorted(os.listdir(tmp_path)) == ["shot.jpg", "shot.png"]  # no temporary left
