"""Hostile WebSocket servers on loopback, for the tests of what a session puts up with.

:class:`RawServer` is a WebSocket server in a few lines of asyncio: it completes the opening
handshake and then does only what the test's script says — it need not read, answer a ping
or close properly, which no real library lets a server get wrong. For a server that does
read, the tests use ``websockets.asyncio.server.serve``; :func:`answer_pings` makes it
answer a session's pings the way kvmd does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

from websockets.asyncio.server import ServerConnection

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3

OP_TEXT = 0x1
OP_BINARY = 0x2
OP_PING = 0x9

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def frame(opcode: int, payload: bytes, *, length: int | None = None) -> bytes:
    """A final, unmasked frame (server to client); ``length`` may lie about the payload."""
    size = len(payload) if length is None else length
    if size < 126:
        header = struct.pack(">BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack(">BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack(">BBQ", 0x80 | opcode, 127, size)
    return header + payload


class RawServer:
    """Accepts WebSocket upgrades and hands each connection to ``script``. The accepted
    sockets have small receive buffers, so that a client's writes pile up on its side
    as soon as the script stops reading."""

    def __init__(self, script: Script, *, receive_buffer: int = 4096) -> None:
        self._script = script
        self._buffer = receive_buffer
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.url = ""

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
            writer.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.connections += 1
            await self._script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RawServer]:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self._buffer)  # accepted too
        server = await asyncio.start_server(self._accept, sock=listener)
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        try:
            yield self
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def answer_pings(connection: ServerConnection) -> None:
    """Read what the session sends and answer its pings, binary and JSON, as kvmd does."""
    async for message in connection:
        if message == b"\x00":
            await connection.send(b"\xff")
        elif isinstance(message, str) and '"ping"' in message:
            await connection.send('{"event_type":"pong","event":{}}')


def server_url(server: object) -> str:
    """The ``http://`` address of a ``websockets`` server listening on loopback."""
    sockets = server.sockets  # type: ignore[attr-defined]
    return f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
