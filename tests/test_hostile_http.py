"""The HTTP client against hostile peers (raw asyncio servers on loopback): every answer has
a size limit, every call a deadline, every line stream a line-length limit.

The sizes sent here are a few times the client's limits and then the peer stalls, so that a
client without the limit fails by timing out instead of eating the machine's memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
from collections.abc import AsyncIterator

import pytest

from aiopikvm import PiKVM, PiKVMTimeoutError, ProtocolError, ServerError

from .captures import load
from .hostile_server import Head, head_bytes, hostile, send_zeros, stall

MiB = 1024 * 1024
GUARD = 20  # seconds: a regression fails here instead of hanging

JSON = {"Content-Type": "application/json"}


def _envelope(result: object) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


async def _answer(writer: asyncio.StreamWriter, body: bytes, headers: dict[str, str]) -> None:
    writer.write(head_bytes("200 OK", {**headers, "Content-Length": str(len(body))}) + body)
    await writer.drain()


# ----- sizes ---------------------------------------------------------------------------------


async def test_a_json_answer_past_the_limit_is_refused_by_its_length() -> None:
    async def huge(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", {**JSON, "Content-Length": str(1024 * MiB)}))
        await send_zeros(writer, 40 * MiB)
        await stall()

    async with hostile(huge) as (url, _), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ProtocolError, match=r"larger than .* MiB") as caught:
                await kvm.atx.get_state()
    assert "GET http://127.0.0.1" in str(caught.value)


async def test_an_endless_chunked_answer_is_cut_at_the_limit() -> None:
    async def endless(_: Head, writer: asyncio.StreamWriter) -> None:
        writer.write(head_bytes("200 OK", {**JSON, "Transfer-Encoding": "chunked"}))
        await send_zeros(writer, 40 * MiB, chunked=True)
        await stall()

    async with hostile(endless) as (url, _), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ProtocolError, match="larger than"):
                await kvm.request("GET", "atx")
            with pytest.raises(ProtocolError, match="larger than"):
                await kvm.request("GET", "log", expect="text")


async def test_a_snapshot_past_its_limit_is_refused() -> None:
    async def endless(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"}
        writer.write(head_bytes("200 OK", headers) + b"4\r\n\xff\xd8\xff\xe0\r\n")
        await send_zeros(writer, 80 * MiB, chunked=True)
        await stall()

    async with hostile(endless) as (url, _), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ProtocolError, match="larger than"):
                await kvm.streamer.snapshot()


async def test_a_gzip_bomb_is_never_inflated_and_identity_is_asked_for() -> None:
    bomb = gzip.compress(b"\0" * 64 * MiB)  # about 64 KiB on the wire

    async def compressed(_: Head, writer: asyncio.StreamWriter) -> None:
        await _answer(writer, bomb, {**JSON, "Content-Encoding": "gzip"})

    async def compressed_error(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {**JSON, "Content-Encoding": "gzip", "Content-Length": str(len(bomb))}
        writer.write(head_bytes("500 Internal Server Error", headers) + bomb)

    async with hostile(compressed) as (url, seen), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ProtocolError, match="Content-Encoding gzip") as caught:
                await kvm.atx.get_state()
    assert "identity" in str(caught.value)
    assert seen.heads[0].headers["accept-encoding"] == "identity"
    async with hostile(compressed_error) as (url, _), PiKVM(url, passwd="admin") as kvm:
        with pytest.raises(ServerError, match="compressed"):
            await kvm.atx.get_state()


async def test_only_the_start_of_a_giant_error_body_is_read() -> None:
    async def giant(_: Head, writer: asyncio.StreamWriter) -> None:
        headers = {"Content-Type": "text/plain", "Content-Length": str(1024 * MiB)}
        writer.write(head_bytes("500 Internal Server Error", headers) + b"kvmd fell over: ")
        await send_zeros(writer, 40 * MiB)
        await stall()

    async with hostile(giant) as (url, _), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ServerError, match="kvmd fell over") as caught:
                await kvm.atx.get_state()
            with pytest.raises(ServerError):  # on a streamed call too
                await kvm.msd.upload_remote("http://example.invalid/x.iso")
    assert caught.value.status_code == 500 and len(str(caught.value)) < 1000


# ----- deadlines -----------------------------------------------------------------------------


async def _trickle(writer: asyncio.StreamWriter, data: bytes) -> None:
    for index in range(len(data)):
        writer.write(data[index : index + 1])
        await writer.drain()
        await asyncio.sleep(0.05)


async def test_headers_sent_a_byte_at_a_time_hit_the_total_deadline() -> None:
    async def slow_head(_: Head, writer: asyncio.StreamWriter) -> None:
        await _trickle(writer, b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 100_000)

    async with hostile(slow_head) as (url, _), PiKVM(url, passwd="admin", timeout=1) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(PiKVMTimeoutError, match="within 1 s") as caught:
                await kvm.atx.get_state()
    assert caught.value.request is not None and caught.value.request.url.endswith("/api/atx")


async def test_a_body_sent_a_byte_at_a_time_hits_the_total_deadline() -> None:
    async def slow_body(_: Head, writer: asyncio.StreamWriter) -> None:
        body = _envelope(load("atx.json")["result"])
        writer.write(head_bytes("200 OK", {**JSON, "Content-Length": str(len(body))}))
        await _trickle(writer, body)

    async with hostile(slow_body) as (url, _), PiKVM(url, passwd="admin", timeout=1) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(PiKVMTimeoutError, match="within 1 s"):
                await kvm.atx.get_state()
            with pytest.raises(PiKVMTimeoutError, match="within 1 s"):
                await kvm.request("GET", "atx", timeout=1.0)


async def _msd_device(head: Head, writer: asyncio.StreamWriter) -> bool:
    """Answers ``GET /api/msd`` like the device; False for anything else."""
    if head.method == "GET" and head.target == "/api/msd":
        await _answer(writer, json.dumps(load("msd_online.json")).encode(), JSON)
        return True
    return False


async def test_a_transfer_that_stops_moving_hits_the_idle_timeout() -> None:
    async def stalls(head: Head, writer: asyncio.StreamWriter) -> None:
        if await _msd_device(head, writer):
            return
        if head.target.startswith("/api/msd/read"):
            headers = {"Content-Type": "application/octet-stream", "Content-Length": "1000000"}
            writer.write(head_bytes("200 OK", headers) + b"\0" * 1000)
        elif head.target.startswith("/api/msd/write_remote"):
            record = {"ok": True, "result": {"image": {"name": "x", "size": 9, "written": 0}}}
            headers = {"Content-Type": "application/x-ndjson"}
            writer.write(head_bytes("200 OK", headers) + json.dumps(record).encode() + b"\r\n")
        # msd/write: the body was read; the answer never comes
        await stall()

    async with hostile(stalls) as (url, seen), PiKVM(url, passwd="admin", timeout=1) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(PiKVMTimeoutError, match="no data for 1 s"):
                await kvm.msd.download("x.iso", _Sink())
            with pytest.raises(PiKVMTimeoutError, match="no answer within 1 s of the upload"):
                await kvm.msd.upload("x.iso", b"\0" * 300_000)
            with pytest.raises(PiKVMTimeoutError, match="no progress record for"):
                await kvm.msd.upload_remote("http://example.invalid/x.iso")
    assert [head.body_size for head in seen.heads if "msd/write?" in head.target] == [300_000]


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)


async def test_a_log_stream_gets_its_headers_in_time_and_an_idle_timeout_if_asked() -> None:
    async def silent(head: Head, writer: asyncio.StreamWriter) -> None:
        if "seek=5" in head.target:
            writer.write(head_bytes("200 OK", {"Content-Type": "text/plain"}) + b"a line\r\n")
        await stall()

    async with hostile(silent) as (url, _), PiKVM(url, passwd="admin", timeout=1) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(PiKVMTimeoutError, match="within 1 s"):
                await _first_lines(kvm.system.stream_log())
            lines: list[str] = []
            with pytest.raises(PiKVMTimeoutError, match=r"no data for 0\.5 s"):
                await _first_lines(kvm.system.stream_log(5, idle_timeout=0.5), lines)
    assert lines == ["a line"]


async def _first_lines(stream: AsyncIterator[str], into: list[str] | None = None) -> None:
    async with contextlib.aclosing(stream) as lines:  # type: ignore[type-var]
        async for line in lines:
            if into is not None:
                into.append(line)


# ----- line streams --------------------------------------------------------------------------


async def test_a_line_without_an_end_is_refused_in_progress_and_log_streams() -> None:
    async def no_newline(head: Head, writer: asyncio.StreamWriter) -> None:
        if "write_remote" in head.target:
            writer.write(head_bytes("200 OK", {"Content-Type": "application/x-ndjson"}))
        else:
            writer.write(head_bytes("200 OK", {"Content-Type": "text/plain"}) + b"ok\r\n")
        await send_zeros(writer, 4 * MiB)
        await stall()

    async with hostile(no_newline) as (url, _), PiKVM(url, passwd="admin", timeout=3) as kvm:
        async with asyncio.timeout(GUARD):
            with pytest.raises(ProtocolError, match="a line longer than 1 MiB"):
                await _first_lines(kvm.system.stream_log())
            with pytest.raises(ProtocolError, match="longer than"):
                await kvm.msd.upload_remote("http://example.invalid/x.iso")
