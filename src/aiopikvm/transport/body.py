"""Reading an answer's body within bounds, and in one encoding.

Sizes. An answer is read in pieces and counted; past its limit it is refused with
:class:`ProtocolError` (a ``Content-Length`` past it is refused before reading):
:data:`MAX_ANSWER_SIZE` for JSON and text, :data:`MAX_LOG_SIZE` for kvmd's whole log,
:data:`MAX_SNAPSHOT_SIZE` for a JPEG. Of an error answer only the first
:data:`MAX_ERROR_BODY` bytes are read: they are all its message needs. A line of a line
stream (kvmd's log, ``msd/write_remote`` progress) is at most :data:`MAX_LINE_SIZE`.

Compression. Every request asks for ``Accept-Encoding: identity``, and an answer that comes
compressed anyway is refused unread. Neither kvmd nor the nginx in front of it compresses
(kvmd/htserver.py, configs/nginx: no ``gzip``), so nothing is lost; a decoder would let a
1 MB answer inflate to gigabytes in one step, before anything could count it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Final

import httpx

from ..errors import PiKVMError, PiKVMTimeoutError, ProtocolError, RequestInfo
from .http_errors import request_info, seconds_text, transport_error

KiB: Final = 1024
MiB: Final = 1024 * KiB

MAX_ANSWER_SIZE: Final = 4 * MiB
"""A JSON or text answer: kvmd's largest (``/api/info``, ``gpio`` with a big scheme, the
keymaps) are tens of KiB, the largest captured 22 KiB."""
MAX_LOG_SIZE: Final = 64 * MiB
"""kvmd's log as one text (``system.get_log``): its services' journal since boot, which
journald keeps in RAM on a PiKVM. ``seek=`` or ``stream_log`` read more."""
MAX_SNAPSHOT_SIZE: Final = 32 * MiB
"""A JPEG snapshot: a 1920x1200 screen at quality 100 is a few MiB."""
MAX_ERROR_BODY: Final = 64 * KiB
"""What is read of an error answer (kvmd's envelope is a few hundred bytes, nginx's page
under one KiB); the rest is never read."""
MAX_LINE_SIZE: Final = 1 * MiB
"""A line of kvmd's log (journald cuts a line at 48 KiB) or an NDJSON progress record
(about 100 bytes)."""

ANSWER_LIMITS: Final[dict[str, int]] = {
    "json": MAX_ANSWER_SIZE,
    "text": MAX_ANSWER_SIZE,
    "bytes": MAX_SNAPSHOT_SIZE,
}
IDENTITY: Final = ("", "identity")


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit % MiB == 0 else f"{limit // KiB} KiB"


async def body_chunks(
    response: httpx.Response, *, what: str = "data"
) -> AsyncGenerator[bytes, None]:
    """The body of a streamed response in pieces as they arrive; a failure meanwhile is our
    error (``what`` names the pieces in a timeout's message: "no data for 10 s")."""
    info = request_info(response.request)
    chunks = response.aiter_bytes()
    while True:
        failure: PiKVMError | None = None
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except httpx.TimeoutException:
            read = response.request.extensions.get("timeout", {}).get("read")
            failure = PiKVMTimeoutError(
                f"{info}: no {what} for {seconds_text(read)} s", request=info
            )
        except httpx.HTTPError as exc:
            failure = transport_error(exc, info)
        # Raised here, not in the except clause: the httpx error (whose frames hold the
        # request) does not ride along as __context__.
        if failure is not None:
            raise failure
        yield chunk


async def body_lines(
    response: httpx.Response, *, limit: int = MAX_LINE_SIZE, what: str = "data"
) -> AsyncGenerator[str, None]:
    """The body's lines without their ends (``\\n`` or ``\\r\\n``), each at most ``limit``
    bytes: a longer one is refused with :class:`ProtocolError` before more is read."""
    info = request_info(response.request)
    buffer = bytearray()
    async with contextlib.aclosing(body_chunks(response, what=what)) as chunks:
        async for chunk in chunks:
            buffer += chunk
            start = 0
            while (end := buffer.find(b"\n", start)) >= 0:
                yield _line(buffer[start:end])
                start = end + 1
            del buffer[:start]
            if len(buffer) > limit:
                raise ProtocolError(
                    f"{info}: a line longer than {_size(limit)}: not kvmd's", request=info
                )
    if buffer:
        yield _line(buffer)


def _line(raw: bytes | bytearray) -> str:
    return bytes(raw).rstrip(b"\r").decode("utf-8", "replace")


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; more is refused with :class:`ProtocolError`."""
    info = request_info(response.request)
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProtocolError(_too_large(info, limit, f"it announces {declared} bytes"), request=info)
    pieces: list[bytes] = []
    size = 0
    async with contextlib.aclosing(body_chunks(response)) as chunks:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ProtocolError(_too_large(info, limit, "read so far"), request=info)
            pieces.append(chunk)
    return b"".join(pieces)


def _too_large(info: RequestInfo, limit: int, seen: str) -> str:
    return f"{info}: the answer is larger than {_size(limit)} ({seen}), more than kvmd sends"


async def error_body(response: httpx.Response) -> bytes | None:
    """The start of an error answer (None if it came compressed); never all of it."""
    if response.headers.get("content-encoding", "").strip().lower() not in IDENTITY:
        return None
    pieces: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            pieces.append(chunk)
            size += len(chunk)
            if size >= MAX_ERROR_BODY:
                break
    except (httpx.HTTPError, httpx.StreamError):
        # The message makes do with what came (StreamClosed: a caller's event hook
        # raised for the status, and httpx closed the body unread).
        pass
    return b"".join(pieces)[:MAX_ERROR_BODY]
