"""A raw HTTP/1.1 server on 127.0.0.1:0 that answers as a hostile or broken peer would: a
handler gets each request's head (its body, if any, read and counted) and writes whatever
bytes it likes, as slowly as it likes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

_HEAD_LIMIT = 64 * 1024


@dataclass
class Head:
    method: str
    target: str
    headers: dict[str, str]
    body_size: int = 0


@dataclass
class Seen:
    """What the server was sent, for assertions."""

    heads: list[Head] = field(default_factory=list)


Handler = Callable[[Head, asyncio.StreamWriter], Awaitable[None]]


async def _read_head(reader: asyncio.StreamReader) -> Head | None:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = raw.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return Head(method, target, headers)


async def _drain_body(reader: asyncio.StreamReader, head: Head) -> None:
    remaining = int(head.headers.get("content-length", "0"))
    while remaining > 0:
        chunk = await reader.read(min(remaining, 65536))
        if not chunk:
            return
        remaining -= len(chunk)
        head.body_size += len(chunk)


@contextlib.asynccontextmanager
async def hostile(handler: Handler, *, read_body: bool = True) -> AsyncIterator[tuple[str, Seen]]:
    """``(url, seen)`` of a server answering every request with ``handler``; the handler
    returning ends the connection."""
    seen = Seen()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            head = await _read_head(reader)
            if head is None:
                return
            seen.heads.append(head)
            if read_body:
                await _drain_body(reader, head)
            await handler(head, writer)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            tasks.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, limit=_HEAD_LIMIT)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def head_bytes(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def stall() -> None:
    """Keep the connection open and send nothing more (until the server is closed)."""
    await asyncio.sleep(3600)


async def send_zeros(writer: asyncio.StreamWriter, total: int, *, chunked: bool = False) -> None:
    """``total`` bytes of zeros, as a chunked body's chunks or raw."""
    piece = b"\0" * 65536
    sent = 0
    while sent < total:
        data = piece[: total - sent]
        writer.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        sent += len(data)
        await writer.drain()
