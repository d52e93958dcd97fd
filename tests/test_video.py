"""Live video against the emulator, through the public API: ``kvm.streamer.mjpeg()``,
``h264()`` and ``record()``, and the emulator's ustreamer and kvmd-media as a raw client
sees them (the shapes of ``media_stream.json``)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image
from websockets.asyncio.client import connect

from aiopikvm import (
    AuthError,
    ConnectionClosedError,
    PiKVM,
    PiKVMWebSocket,
    ServerError,
    TLSError,
)
from aiopikvm.emulator import Emulator

from .captures import load
from .emulator_helpers import ADMIN

SIZE = (640, 360)
STEPS = {step["name"]: step for step in load("media_stream.json")["steps"]}


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(screen_size=SIZE, streamer_start_delay=0) as emulator:
        yield emulator


@pytest.fixture
async def kvm(emu: Emulator) -> AsyncIterator[PiKVM]:
    async with PiKVM(emu.url, passwd="admin") as client:
        yield client


@pytest.fixture
async def watching(kvm: PiKVM) -> AsyncIterator[PiKVMWebSocket]:
    """A ``stream=1`` session: without one kvmd stops the streamer."""
    async with kvm.ws(stream=True) as ws:
        await kvm.streamer.snapshot(allow_offline=True)  # kvmd has started ustreamer
        yield ws


@contextlib.asynccontextmanager
async def typing(emu: Emulator, interval: float = 0.02) -> AsyncIterator[None]:
    """The host writes a line every ``interval``: a moving screen, never the same frame."""

    async def write() -> None:
        line = 0
        while True:
            emu.target.write(f"line {line}\n")
            line += 1
            await asyncio.sleep(interval)

    task = asyncio.create_task(write())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_mjpeg_frames_are_jpegs_of_the_screen_with_rising_timestamps(
    emu: Emulator, kvm: PiKVM, watching: PiKVMWebSocket
) -> None:
    frames = []
    async with typing(emu), contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
        async for frame in stream:
            frames.append(frame)
            if len(frames) == 5:
                break
    for frame in frames:
        with Image.open(io.BytesIO(frame.data)) as image:
            assert (image.format, image.size) == ("JPEG", SIZE)
    assert frames[0].image().size == SIZE
    assert frames[0].array().shape == (SIZE[1], SIZE[0], 3)
    stamps = [frame.timestamp for frame in frames]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    received = [frame.received for frame in frames]
    assert received == sorted(received)


async def test_mjpeg_extra_headers_are_ustreamers(kvm: PiKVM, watching: PiKVMWebSocket) -> None:
    recorded = STEPS["stream_extra_headers"]["parts"][0]["headers"]
    async with contextlib.aclosing(kvm.streamer.mjpeg(extra_headers=True)) as stream:
        frame = await anext(stream)
    assert set(frame.headers) == {name.lower() for name in recorded}
    assert (frame.headers["x-ustreamer-width"], frame.headers["x-ustreamer-height"]) == tuple(
        str(side) for side in SIZE
    )
    assert int(frame.headers["content-length"]) == len(frame.data)


async def test_mjpeg_without_a_stream_session_is_nginxs_502_with_a_hint(kvm: PiKVM) -> None:
    with pytest.raises(ServerError, match=r"502 Bad Gateway.*stream=True") as caught:
        async with contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
            await anext(stream)
    assert caught.value.status_code == 502


async def test_mjpeg_with_wrong_credentials_is_refused(
    emu: Emulator, watching: PiKVMWebSocket
) -> None:
    async with PiKVM(emu.url, passwd="wrong") as intruder:
        with pytest.raises(AuthError) as caught:
            async with contextlib.aclosing(intruder.streamer.mjpeg()) as stream:
                await anext(stream)
    assert caught.value.status_code == 403


async def test_the_raw_stream_is_framed_as_ustreamer_frames_it(
    emu: Emulator, watching: PiKVMWebSocket
) -> None:
    recorded = STEPS["stream_plain"]
    async with (
        httpx.AsyncClient(base_url=emu.url, headers=ADMIN, timeout=10) as client,
        client.stream("GET", "/streamer/stream") as response,
    ):
        assert response.status_code == recorded["status"]
        assert response.headers["content-type"] == recorded["content_type"]
        head = b""
        async for chunk in response.aiter_bytes():
            head += chunk
            if b"\r\n\r\n" in head:
                break
    first, _, _ = head.partition(b"\r\n\r\n")
    lines = first.decode().split("\r\n")
    assert lines[0] == "--boundarydonotcross"
    assert [line.split(":")[0] for line in lines[1:]] == list(recorded["parts"][0]["headers"])
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
        refused = await client.get("/streamer/stream")
    assert refused.status_code == 401 and "<center>nginx</center>" in refused.text


async def test_mjpeg_ends_with_an_error_when_the_streamer_stops(emu: Emulator) -> None:
    async with PiKVM(emu.url, passwd="admin") as kvm:
        ws = kvm.ws(stream=True)
        await ws.connect()
        await kvm.streamer.snapshot(allow_offline=True)

        async def watch_until_the_end() -> None:
            async with contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
                await anext(stream)
                await ws.aclose()  # kvmd stops ustreamer a moment after the last viewer
                async for _ in stream:
                    pass

        with pytest.raises(ConnectionClosedError, match="ended the video stream"):
            await watch_until_the_end()


@pytest.mark.slow
async def test_mjpeg_for_a_minute_with_flat_memory(
    emu: Emulator, kvm: PiKVM, watching: PiKVMWebSocket
) -> None:
    loop = asyncio.get_running_loop()
    tracemalloc.start()
    try:
        frames = 0
        samples: list[int] = []
        async with typing(emu, 0.05), contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
            start = loop.time()
            async for frame in stream:
                frames += 1
                assert frame.data.startswith(b"\xff\xd8")
                elapsed = loop.time() - start
                if elapsed >= 10 * (len(samples) + 1):  # a sample every 10 s
                    samples.append(tracemalloc.get_traced_memory()[0])
                if elapsed >= 60:
                    break
    finally:
        tracemalloc.stop()
    assert frames > 60  # more than ustreamer's once a second on a still screen
    # After the first sample (caches warm), what is held does not grow with the frames.
    assert max(samples[1:]) - samples[0] < 2 * 1024 * 1024, samples


async def test_h264_starts_with_a_keyframe_and_decodes_to_the_screen(
    emu: Emulator, kvm: PiKVM, watching: PiKVMWebSocket
) -> None:
    frames = []
    async with typing(emu), contextlib.aclosing(kvm.streamer.h264()) as stream:
        async for frame in stream:
            frames.append(frame)
            if len(frames) == 10:
                break
    assert frames[0].key and frames[0].data.startswith(bytes.fromhex("00000001"))
    assert not all(frame.key for frame in frames)
    decoder = av.CodecContext.create("h264", "r")
    pictures = [picture for frame in frames for picture in decoder.decode(av.Packet(frame.data))]
    assert len(pictures) >= 9 and (pictures[0].width, pictures[0].height) == SIZE


async def test_media_ws_regular_socket_speaks_kvmd_medias_protocol(
    emu: Emulator, watching: PiKVMWebSocket
) -> None:
    recorded = STEPS["media_ws_regular"]["frames"]
    url = emu.url.replace("http://", "ws://") + "/api/media/ws"
    async with connect(url, additional_headers=ADMIN) as ws:
        assert json.loads(await ws.recv()) == recorded[0]["msg"]
        await ws.send(b"\x00")
        assert await ws.recv() == b"\xff"
        await ws.send(
            json.dumps({"event_type": "start", "event": {"type": "video", "format": "h264"}})
        )
        first = await ws.recv()
        assert isinstance(first, bytes) and first[:2] == b"\x01\x01"
        assert first[2:6] == bytes.fromhex(recorded[2]["data_head"])[2:]


@pytest.mark.parametrize("name", ["media_ws_jpeg", "media_ws_unknown"])
async def test_media_ws_refuses_a_format_it_lacks_before_the_upgrade(
    emu: Emulator, name: str
) -> None:
    step = STEPS[name]
    async with httpx.AsyncClient(base_url=emu.url, headers=ADMIN, timeout=10) as client:
        response = await client.get("/api/media/ws", params=step["request"]["params"])
    assert response.status_code == step["status"]
    assert response.json() == step["response"]


async def test_media_state_is_the_recorded_one(emu: Emulator) -> None:
    async with httpx.AsyncClient(base_url=emu.url, headers=ADMIN, timeout=10) as client:
        response = await client.get("/api/media")
    assert response.json() == STEPS["media_state"]["response"]


async def test_record_mjpeg_writes_an_mp4_of_its_frames(
    emu: Emulator, kvm: PiKVM, watching: PiKVMWebSocket, tmp_path: Path
) -> None:
    path = tmp_path / "screen.mp4"
    async with typing(emu):
        written = await kvm.streamer.record(path, 2.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == SIZE
        decoded = sum(1 for _ in container.decode(video=0))
    assert written > 2 and abs(decoded - written) <= 1


async def test_record_h264_remuxes_what_came(
    emu: Emulator, kvm: PiKVM, watching: PiKVMWebSocket, tmp_path: Path
) -> None:
    path = tmp_path / "screen.mp4"
    async with typing(emu):
        written = await kvm.streamer.record(path, 1.0, source="h264")
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        decoded = sum(1 for _ in container.decode(video=0))
    assert written > 2 and abs(decoded - written) <= 1


async def test_record_without_pyav_names_the_extra(
    kvm: PiKVM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'aiopikvm\[video\]'"):
        await kvm.streamer.record(tmp_path / "x.mp4", 1.0)
    assert not (tmp_path / "x.mp4").exists()


async def test_without_signal_the_stream_is_ustreamers_blank_picture() -> None:
    async with (
        Emulator(screen_size=SIZE, streamer_start_delay=0, host_powered=False) as emu,
        PiKVM(emu.url, passwd="admin") as kvm,
        kvm.ws(stream=True),
    ):
        await kvm.streamer.snapshot(allow_offline=True)
        async with contextlib.aclosing(kvm.streamer.mjpeg(extra_headers=True)) as stream:
            frames = [await anext(stream), await anext(stream)]
    assert [frame.headers["x-ustreamer-online"] for frame in frames] == ["false"] * 2
    assert frames[0].image().size == (640, 480)  # ustreamer's capture size with no signal
    assert frames[1].timestamp - frames[0].timestamp > 0.5  # repeated once a second


def test_the_blocking_api_reads_and_records_video(tmp_path: Path) -> None:
    from aiopikvm.sync import PiKVM as SyncPiKVM

    with (
        Emulator.in_thread(screen_size=SIZE, streamer_start_delay=0) as temu,
        SyncPiKVM(temu.url, passwd="admin") as kvm,
        kvm.ws(stream=True),
    ):
        kvm.streamer.snapshot(allow_offline=True)
        frames = kvm.streamer.mjpeg()
        frame = next(frames)
        frames.close()  # the async generator is closed on the loop: the connection too
        assert frame.image().size == SIZE
        units = kvm.streamer.h264()
        assert next(units).key
        units.close()
        assert kvm.streamer.record(tmp_path / "screen.mp4", 0.5) >= 1


async def test_video_over_tls_checks_the_certificate() -> None:
    async with (
        Emulator(tls=True, screen_size=SIZE, streamer_start_delay=0) as emu,
        PiKVM(emu.url, passwd="admin", verify_ssl=emu.ca_file) as kvm,
        kvm.ws(stream=True),
    ):
        await kvm.streamer.snapshot(allow_offline=True)
        async with contextlib.aclosing(kvm.streamer.h264()) as units:
            assert (await anext(units)).key  # wss://, with the client's TLS settings
        async with contextlib.aclosing(kvm.streamer.mjpeg()) as frames:
            assert (await anext(frames)).data.startswith(b"\xff\xd8")
        async with PiKVM(emu.url, passwd="admin") as unverified:  # the system's CAs
            with pytest.raises(TLSError):
                async with contextlib.aclosing(unverified.streamer.h264()) as units:
                    await anext(units)
