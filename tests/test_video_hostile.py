"""``mjpeg()`` against a hostile or broken stream server: every way of making the client
buffer without end or wait for ever ends in our error, and leaving the loop closes the
connection."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from aiopikvm import ConnectionClosedError, PiKVM, PiKVMTimeoutError, ProtocolError

from .hostile_server import Head, head_bytes, hostile, stall

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
    async def handler(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {**MULTIPART, "Connection": "close"}
        body = b"--boundarydonotcross\r\n" + part()[: -len(b"\r\n")] + b"--\r\n"
        writer.write(head_bytes("200 OK", headers) + body)

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
