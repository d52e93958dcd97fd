"""The video streamer end to end: ``kvm.streamer`` against the emulator's ustreamer and OCR."""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
from PIL import Image

from aiopikvm import (
    BadRequestError,
    InvalidInputError,
    PiKVM,
    PiKVMWebSocket,
    UnavailableError,
)
from aiopikvm.emulator import Emulator
from aiopikvm.emulator._screen import CELL_HEIGHT, CELL_WIDTH
from aiopikvm.models import OcrState, StreamerState
from aiopikvm.models._base import parse

from .captures import result, ws_messages
from .conftest import eventually
from .emulator_helpers import recv_event, ws_connect

T = TypeVar("T")


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, user="admin", passwd="admin") as client:
        yield client


@contextlib.asynccontextmanager
async def watching(kvm: PiKVM, *, online: bool = True) -> AsyncIterator[PiKVMWebSocket]:
    """A ``stream=1`` session, once the streamer it starts is up (and has found the signal)."""
    async with kvm.ws(stream=True) as ws:

        def ready() -> bool:
            streamer = ws.state.streamer
            process = streamer.streamer if streamer is not None else None
            return process is not None and process.source.online is online

        await eventually(ready)
        yield ws


async def until(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool]) -> T:
    deadline = time.monotonic() + 5.0
    while not check(value := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r}")
        await asyncio.sleep(0.01)
    return value


def picture(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return str(image.format), image.size


async def type_text(ws: PiKVMWebSocket, emu: Emulator, lines: list[str]) -> None:
    for number, line in enumerate(lines):
        if number:
            await ws.send_key("Enter")
        for char in line:
            await ws.send_key("Space" if char == " " else f"Key{char.upper()}")
    await eventually(lambda: emu.target.screen_text == "\n".join(lines))


async def test_the_readme_example(emu: Emulator, kvm: PiKVM) -> None:
    async with kvm.ws(stream=True) as ws:
        async for _ in ws.events():  # until the streamer has a picture
            streamer = ws.state.streamer
            if streamer and streamer.streamer and streamer.streamer.source.online:
                break
        jpeg = await kvm.streamer.snapshot()
        thumb = await kvm.streamer.snapshot(preview=True, max_width=320, quality=60)
        await type_text(ws, emu, ["title", "body"])
        text = await kvm.streamer.ocr()
        title = await kvm.streamer.ocr(langs=["eng"], region=(0, 0, 1920, 30))
    assert picture(jpeg)[1] == (1920, 1080) and picture(thumb)[1] == (320, 180)
    assert (text, title) == ("title\nbody\n", "title\n")


# ----- state and parameters -----------------------------------------------------------


def test_models_parse_the_captures() -> None:
    state = parse(StreamerState, result("streamer.json"), "streamer")
    assert state.params.quality == 80 and state.params.resolution is None
    assert state.limits.desired_fps is not None and state.limits.desired_fps.max == 70
    assert state.features.h264 and not state.features.resolution
    assert state.streamer is not None and state.streamer.source.resolution.width == 1920
    ocr = parse(OcrState, result("streamer_ocr.json")["ocr"], "ocr")
    assert ocr.langs.available == ["eng", "osd", "rus"]


async def test_state_is_the_capture_while_watched_and_null_otherwise(kvm: PiKVM) -> None:
    stopped = await kvm.streamer.get_state()
    assert stopped.streamer is None and stopped.snapshot.saved is None
    async with watching(kvm):
        assert await kvm.request("GET", "streamer") == result("streamer.json")
    assert await kvm.streamer.get_ocr_info() == OcrState.model_validate(
        result("streamer_ocr.json")["ocr"]
    )


async def test_starting_streamer_events_match_the_recording() -> None:
    recorded = [m["event"] for m in ws_messages() if m["event_type"] == "streamer"]
    async with Emulator(streamer_start_delay=0.05) as emu, ws_connect(emu, "stream=1") as ws:
        events: list[dict[str, Any]] = []
        while len(events) < 3:
            message = await recv_event(ws)
            if message["event_type"] == "streamer":
                events.append(message["event"])
    # null in the burst, then no signal at 640x480, then the source at 60 fps
    assert events == [recorded[0], recorded[1], recorded[3]]


async def test_set_params_round_trip(kvm: PiKVM) -> None:
    await kvm.streamer.set_params(quality=50, desired_fps=30, h264_bitrate=8000, h264_gop=30)
    state = await until(kvm.streamer.get_state, lambda s: s.params.quality == 50)
    assert (state.params.desired_fps, state.params.h264_bitrate, state.params.h264_gop) == (
        30,
        8000,
        30,
    )
    assert state.applied == state.params


async def test_set_params_refuses_what_kvmd_refuses_or_drops(kvm: PiKVM) -> None:
    with pytest.raises(BadRequestError) as unsupported:
        await kvm.streamer.set_params(resolution="1280x720")
    assert unsupported.value.error == "StreamerResolutionNotSupported"
    assert unsupported.value.error_msg == "This streamer does not support resolution settings"
    with pytest.raises(BadRequestError) as invalid:
        await kvm.request("POST", "streamer/set_params", params={"quality": 101})
    assert invalid.value.error == "ValidatorError"
    assert invalid.value.error_msg == (
        "The argument '101' must be stream quality and lesser or equal then 100"
    )
    # kvmd takes a frame rate outside the device's limits and drops it without a word ...
    await kvm.request("POST", "streamer/set_params", params={"desired_fps": 5})
    assert (await kvm.streamer.get_state()).params.desired_fps == 20
    # ... so the client checks the limits first
    with pytest.raises(InvalidInputError, match=r"10\.\.70"):
        await kvm.streamer.set_params(desired_fps=5)
    for bad in ({"quality": 0}, {"h264_gop": 61}, {"resolution": "big"}, {"quality": True}, {}):
        with pytest.raises(InvalidInputError):
            await kvm.streamer.set_params(**bad)


async def test_params_change_restarts_the_running_streamer(kvm: PiKVM) -> None:
    async with watching(kvm) as ws:
        await kvm.streamer.set_params(quality=40)

        def restarted() -> bool:
            streamer = ws.state.streamer
            assert streamer is not None and streamer.streamer is not None
            return streamer.streamer.encoder.quality == 40 and streamer.streamer.source.online

        await eventually(restarted)
        assert ws.state.streamer is not None and ws.state.streamer.params.quality == 40
        await kvm.streamer.reset()
        await eventually(restarted)


# ----- snapshots ----------------------------------------------------------------------


async def test_no_snapshot_without_a_viewer(kvm: PiKVM) -> None:
    with pytest.raises(UnavailableError) as error:
        await kvm.streamer.snapshot()
    assert (error.value.status_code, error.value.error) == (503, "UnavailableError")
    with pytest.raises(UnavailableError):
        await kvm.streamer.snapshot(allow_offline=True)


async def test_snapshot_is_a_jpeg_of_the_screen(kvm: PiKVM) -> None:
    async with watching(kvm):
        assert picture(await kvm.streamer.snapshot()) == ("JPEG", (1920, 1080))
        assert picture(await kvm.streamer.snapshot(preview=True))[1] == (384, 216)
        assert picture(await kvm.streamer.snapshot(preview=True, max_width=320))[1] == (320, 180)
        small = await kvm.streamer.snapshot(preview=True, max_height=100, quality=5)
        fine = await kvm.streamer.snapshot(preview=True, max_height=100, quality=95)
        assert picture(small)[1] == picture(fine)[1] == (178, 100)
        assert len(small) < len(fine)
    with pytest.raises(InvalidInputError):
        await kvm.streamer.snapshot(max_width=100)
    with pytest.raises(InvalidInputError):
        await kvm.streamer.snapshot(preview=True, quality=101)


async def test_snapshot_quality_follows_the_stream_quality(emu: Emulator, kvm: PiKVM) -> None:
    async with watching(kvm) as ws:
        await type_text(ws, emu, ["the quick brown fox jumps over the lazy dog"] * 3)
        fine = await kvm.streamer.snapshot()
        await kvm.streamer.set_params(quality=5)

        def restarted() -> bool:
            streamer = ws.state.streamer
            assert streamer is not None and streamer.streamer is not None
            return streamer.applied.quality == 5 and streamer.streamer.source.online

        await eventually(restarted)
        coarse = await kvm.streamer.snapshot()
    assert len(coarse) < len(fine)


async def test_no_signal_while_the_host_is_off() -> None:
    async with (
        Emulator(host_powered=False, atx_click_delay=0.01) as emu,
        PiKVM(emu.url, user="admin", passwd="admin") as kvm,
        watching(kvm, online=False) as ws,
    ):
        assert ws.state.streamer is not None and ws.state.streamer.streamer is not None
        assert ws.state.streamer.streamer.source.resolution.width == 640
        with pytest.raises(UnavailableError):
            await kvm.streamer.snapshot()
        with pytest.raises(UnavailableError):
            await kvm.streamer.ocr()
        # ustreamer's blank frame, at the size it reports without a signal
        blank = await kvm.streamer.snapshot(allow_offline=True)
        assert picture(blank) == ("JPEG", (640, 480))
        await kvm.atx.power_on(wait=True)

        def online() -> bool:
            streamer = ws.state.streamer
            return (
                streamer is not None
                and streamer.streamer is not None
                and (streamer.streamer.source.online)
            )

        await eventually(online)
        assert picture(await kvm.streamer.snapshot())[1] == (1920, 1080)


async def test_save_load_and_delete(emu: Emulator, kvm: PiKVM) -> None:
    async with watching(kvm) as ws:
        saved = await kvm.streamer.snapshot(save=True)
        await eventually(
            lambda: ws.state.streamer is not None and ws.state.streamer.snapshot.saved is not None
        )
        assert ws.state.streamer is not None and ws.state.streamer.snapshot.saved is not None
        assert ws.state.streamer.snapshot.saved.model_dump() == {
            "online": True,
            "width": 1920,
            "height": 1080,
        }
        await type_text(ws, emu, ["changed"])
        assert await kvm.streamer.snapshot() != saved
        with pytest.raises(InvalidInputError):
            await kvm.streamer.snapshot(save=True, load=True)
    # the kept snapshot needs no running streamer
    assert await kvm.streamer.snapshot(load=True) == saved
    await kvm.streamer.delete_snapshot()
    assert (await kvm.streamer.get_state()).snapshot.saved is None
    with pytest.raises(UnavailableError):
        await kvm.streamer.snapshot(load=True)


async def test_streamer_stops_after_the_last_viewer_leaves() -> None:
    async with (
        Emulator(streamer_stop_delay=0.05) as emu,
        PiKVM(emu.url, user="admin", passwd="admin") as kvm,
        kvm.ws(stream=False) as observer,
    ):
        async with watching(kvm):
            await eventually(
                lambda: (
                    observer.state.streamer is not None
                    and observer.state.streamer.streamer is not None
                )
            )
        await eventually(
            lambda: observer.state.streamer is not None and observer.state.streamer.streamer is None
        )
        with pytest.raises(UnavailableError):
            await kvm.streamer.snapshot()


# ----- OCR ----------------------------------------------------------------------------


async def test_ocr_reads_what_was_typed_and_honours_a_region(emu: Emulator, kvm: PiKVM) -> None:
    async with watching(kvm) as ws:
        await type_text(ws, emu, ["hello there", "second line"])
        assert await kvm.streamer.ocr() == "hello there\nsecond line\n"
        assert await kvm.streamer.ocr(langs=["eng", "rus"]) == "hello there\nsecond line\n"
        line_two = (0, CELL_HEIGHT, 1920, 2 * CELL_HEIGHT)
        assert await kvm.streamer.ocr(region=line_two) == "second line\n"
        first_word = (0, 0, 5 * CELL_WIDTH, CELL_HEIGHT)
        assert await kvm.streamer.ocr(region=first_word, langs="eng") == "hello\n"
        assert await kvm.streamer.ocr(region=(0, 500, 1920, 1080)) == ""
        with pytest.raises(BadRequestError) as error:
            await kvm.streamer.ocr(langs=["eng", "klingon"])
        assert error.value.error_msg == (
            "Failed sub-validator on one of the item of ['eng', 'klingon']"
        )
    bad: dict[str, Any]
    for bad in ({"region": (10, 0, 5, 20)}, {"region": (-1, 0, 5, 5)}, {"langs": []}):
        with pytest.raises(InvalidInputError):
            await kvm.streamer.ocr(**bad)


async def test_a_device_without_tesseract() -> None:
    async with Emulator(ocr_enabled=False) as emu, PiKVM(emu.url, passwd="admin") as kvm:
        info = await kvm.streamer.get_ocr_info()
        async with watching(kvm):
            with pytest.raises(BadRequestError) as caught:
                await kvm.streamer.ocr(langs=["eng"])
            with pytest.raises(BadRequestError, match="Failed sub-validator"):
                await kvm.streamer.ocr(langs=["klingon"])  # validated first, as kvmd does
            assert picture(await kvm.streamer.snapshot())[0] == "JPEG"  # the video is fine
    assert info == OcrState(enabled=False, langs={"default": [], "available": []})
    assert (caught.value.error, caught.value.error_msg) == (
        "OcrError",
        "Tesseract is not available",
    )


async def test_ocr_region_rules_are_kvmds(emu: Emulator, kvm: PiKVM) -> None:
    async with watching(kvm) as ws:
        await type_text(ws, emu, ["abc"])
        # a region with no area reads the whole screen; a negative bound is the edge
        for region in ({"ocr_left": 50, "ocr_right": 10}, {"ocr_right": 2 * CELL_WIDTH}):
            text = await kvm.request(
                "GET", "streamer/snapshot", params={"ocr": True, **region}, expect="text"
            )
            assert text == ("abc\n" if "ocr_left" in region else "ab\n")
        with pytest.raises(BadRequestError, match="is not a valid int"):
            await kvm.request("GET", "streamer/snapshot", params={"ocr": True, "ocr_top": "x"})


# ----- resolution ---------------------------------------------------------------------


async def test_set_resolution_shows_in_state_events_and_snapshots(
    emu: Emulator, kvm: PiKVM
) -> None:
    async with watching(kvm) as ws:
        emu.set_resolution(1280, 720)

        def resized() -> bool:
            streamer = ws.state.streamer
            process = streamer.streamer if streamer is not None else None
            return process is not None and process.source.resolution.width == 1280

        await eventually(resized)
        state = await kvm.streamer.get_state()
        assert state.streamer is not None
        assert state.streamer.source.resolution.model_dump() == {"width": 1280, "height": 720}
        assert picture(await kvm.streamer.snapshot())[1] == (1280, 720)
    with pytest.raises(ValueError, match="screen size"):
        emu.set_resolution(0, 720)


async def test_set_resolution_from_another_thread() -> None:
    with Emulator.in_thread(screen_size=(1024, 768)) as emu:
        async with PiKVM(emu.url, user="admin", passwd="admin") as kvm, watching(kvm) as ws:
            assert ws.state.streamer is not None and ws.state.streamer.streamer is not None
            assert ws.state.streamer.streamer.source.resolution.width == 1024
            setter = threading.Thread(target=emu.set_resolution, args=(800, 600))
            setter.start()
            setter.join()

            def resized() -> bool:
                streamer = ws.state.streamer
                process = streamer.streamer if streamer is not None else None
                return process is not None and process.source.resolution.height == 600

            await eventually(resized)


async def test_snapshot_endpoint_validates_like_kvmd(kvm: PiKVM) -> None:
    bad_preview = {"preview": True, "preview_max_width": -1}
    # kvmd takes the snapshot before it looks at the preview's size: no video, 503 first
    with pytest.raises(UnavailableError):
        await kvm.request("GET", "streamer/snapshot", params=bad_preview)
    async with watching(kvm):
        with pytest.raises(BadRequestError) as error:
            await kvm.request("GET", "streamer/snapshot", params=bad_preview)
    assert error.value.error_msg == "The argument '-1' must be int and greater or equial than 0"


async def test_raw_snapshot_headers_are_ustreamers(emu: Emulator, kvm: PiKVM) -> None:
    async with watching(kvm), kvm.stream("GET", "streamer/snapshot") as response:
        assert response.headers["content-type"] == "image/jpeg"
        assert response.headers["x-ustreamer-online"] == "true"
        assert (response.headers["x-ustreamer-width"], response.headers["x-ustreamer-height"]) == (
            "1920",
            "1080",
        )
