"""``mjpeg()`` and ``h264()`` against a hostile or broken server: every way of making the client
buffer without end or wait for ever ends in our error, and leaving the loop closes the
connection."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from aiopikvm import (
    BadRequestError,
    ConnectionClosedError,
    H264Frame,
    PiKVM,
    PiKVMTimeoutError,
    ProtocolError,
)

from .captures import load
from .hostile_server import Head, head_bytes, hostile, stall
from .hostile_ws import OP_BINARY, OP_TEXT, RawServer, frame

STEPS = {step["name"]: step for step in load("media_stream.json")["steps"]}

MULTIPART = {"Content-Type": "multipart/x-mixed-replace;boundary=boundarydonotcross"}
JPEG = b"\xff\xd8\xff\xe1" + b"\0" * 100


def part(data: bytes = JPEG, stamp: str = "1787389614.327000") -> bytes:
    return (
        b"Content-Type: image/jpeg\r\nContent-Length: %d\r\nX-Timestamp: %s\r\n\r\n%s"
        b"\r\n--boundarydonotcross\r\n" % (len(data), stamp.encode(), data)
    )


async def first_frame(url: str, **options: object) -> None:
    async with (
        PiKVM(url, timeout=5) as kvm,
        contextlib.aclosing(kvm.streamer.mjpeg(**options)) as stream,  # type: ignore[arg-type]
    ):
        async for _ in stream:
            pass


async def test_an_endless_part_header_is_refused_at_its_bound() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\nX-Junk: ")
        for _ in range(1000):
            writer.write(b"a" * 1024)
            await writer.drain()
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(ProtocolError, match="headers are longer than 16384 bytes"):
            await first_frame(url)


async def test_an_oversized_frame_is_refused_before_its_body() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\n")
        writer.write(b"Content-Type: image/jpeg\r\nContent-Length: 10000000000\r\n\r\n")
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(ProtocolError, match="announces 10000000000 bytes"):
            await first_frame(url, max_frame_size=1_000_000)


async def test_a_frame_without_length_is_refused_at_max_frame_size() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\n\r\n")
        for _ in range(1000):
            writer.write(b"\xff" * 4096)
            await writer.drain()
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(ProtocolError, match="larger than 100000 bytes"):
            await first_frame(url, max_frame_size=100_000)


async def test_a_stalled_stream_times_out() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\n" + part())
        await writer.drain()
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(PiKVMTimeoutError, match=r"no whole frame within 0\.3 s"):
            await first_frame(url, idle_timeout=0.3)


async def test_a_trickling_frame_does_not_keep_the_stream_alive() -> None:
    # A byte at a time, each well within the timeout: the frame as a whole is late.
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\n")
        for byte in part():
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)

    async with hostile(handler) as (url, _):
        with pytest.raises(PiKVMTimeoutError, match="no whole frame"):
            await first_frame(url, idle_timeout=0.5)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"--otherboundary\r\n", "does not start with its boundary"),
        (
            b"--boundarydonotcross\r\nContent-Length: 3\r\n\r\nabc\r\n--boundarydonotcross\r\n",
            "not a JPEG",
        ),
        (b"--boundarydonotcross\r\n" + part(stamp="soon"), "X-Timestamp is not a time"),
        (
            b"--boundarydonotcross\r\nContent-Length: 1\r\n\r\nx" + b"y" * 40,
            "not followed by its boundary",
        ),
    ],
)
async def test_a_broken_stream_is_a_protocol_error(body: bytes, match: str) -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + body)
        await writer.drain()
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(ProtocolError, match=match):
            await first_frame(url)


async def test_a_stream_that_is_not_multipart_is_refused() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", {"Content-Type": "image/jpeg"}) + JPEG)
        await stall()

    async with hostile(handler) as (url, _):
        with pytest.raises(ProtocolError, match="not an MJPEG stream"):
            await first_frame(url)


async def test_a_stream_cut_short_is_a_closed_connection_not_an_end() -> None:
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {**MULTIPART, "Connection": "close"}
        writer.write(head_bytes("200 OK", headers) + b"--boundarydonotcross\r\n" + part())

    async with hostile(handler) as (url, _):
        with pytest.raises(ConnectionClosedError, match="ended the video stream"):
            await first_frame(url)


async def test_the_closing_boundary_ends_the_stream_quietly() -> None:
    # At once, though the server keeps the connection open after it.
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        body = b"--boundarydonotcross\r\n" + part()[: -len(b"\r\n")] + b"--\r\n"
        writer.write(head_bytes("200 OK", MULTIPART) + body)
        await writer.drain()
        await stall()

    async with hostile(handler) as (url, _), PiKVM(url) as kvm:
        frames = [frame async for frame in kvm.streamer.mjpeg()]
    assert [frame.timestamp for frame in frames] == [1787389614.327]


@pytest.mark.parametrize("how", ["break", "cancel"])
async def test_leaving_the_stream_closes_the_connection(how: str) -> None:
    gone = asyncio.Event()

    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", MULTIPART) + b"--boundarydonotcross\r\n")
        try:
            for frame in range(100_000):
                writer.write(part(stamp=f"{1787389614 + frame}.0"))
                await writer.drain()
                await asyncio.sleep(0.01)
        except ConnectionError:
            gone.set()

    async def read(kvm: PiKVM, first: asyncio.Event) -> None:
        async with contextlib.aclosing(kvm.streamer.mjpeg()) as stream:
            async for _ in stream:
                first.set()
                if how == "break":
                    break

    async with hostile(handler) as (url, _), PiKVM(url) as kvm:
        first = asyncio.Event()
        task = asyncio.create_task(read(kvm, first))
        await first.wait()
        if how == "cancel":
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        async with asyncio.timeout(10):  # the server's next writes fail: the socket is shut
            await gone.wait()


# ----- H.264 from kvmd-media's socket -------------------------------------------------

KEYFRAME = bytes.fromhex("0000000127") + b"\0" * 50  # an SPS opens a keyframe, as recorded
DELTA = bytes.fromhex("0000000121") + b"\0" * 50


async def h264_frames(url: str, count: int, **options: object) -> list[H264Frame]:
    frames: list[H264Frame] = []
    async with (
        PiKVM(url, timeout=5) as kvm,
        contextlib.aclosing(kvm.streamer.h264(**options)) as stream,  # type: ignore[arg-type]
    ):
        async for frame in stream:
            frames.append(frame)
            if len(frames) == count:
                break
    return frames


async def test_h264_skips_to_the_first_keyframe() -> None:
    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for data in (DELTA, DELTA, KEYFRAME, DELTA):
            writer.write(frame(OP_BINARY, data))
        await stall()

    async with RawServer(script).running() as server:
        frames = await h264_frames(server.url, 2)
    assert [(f.key, f.data) for f in frames] == [(True, KEYFRAME), (False, DELTA)]


async def test_an_oversized_h264_frame_is_refused() -> None:
    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(OP_BINARY, b"", length=10**9))  # announces 1 GB, sends nothing
        await stall()

    async with RawServer(script).running() as server:
        with pytest.raises(ProtocolError, match="larger than 1000 bytes"):
            await h264_frames(server.url, 1, max_frame_size=1000)


async def test_a_stalled_h264_socket_times_out() -> None:
    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(OP_BINARY, KEYFRAME))
        await stall()

    async with RawServer(script).running() as server:
        with pytest.raises(PiKVMTimeoutError, match=r"no frame within 0\.3 s"):
            await h264_frames(server.url, 2, idle_timeout=0.3)


async def test_text_on_the_pure_h264_socket_is_a_protocol_error() -> None:
    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(frame(OP_TEXT, b'{"event_type": "media", "event": {}}'))
        await stall()

    async with RawServer(script).running() as server:
        with pytest.raises(ProtocolError, match="text message"):
            await h264_frames(server.url, 1)


async def test_a_device_without_h264_says_so_with_a_hint() -> None:
    refusal = STEPS["media_ws_unknown"]

    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        body = json.dumps(refusal["response"]).encode()
        headers = {"Content-Type": refusal["content_type"], "Content-Length": str(len(body))}
        writer.write(head_bytes("400 Bad Request", headers) + body)

    async with hostile(handler) as (url, _):
        with pytest.raises(BadRequestError, match=r"Unsupported video type.*mjpeg") as caught:
            await h264_frames(url, 1)
    assert caught.value.error == "ValidatorError"
