"""A TCP relay between a client and the emulator that can stall, as a congested link does.

While stalled it reads nothing from the client, so the client's socket buffers fill and
its sends wait for room: the moment a WebSocket ``send`` can be cancelled halfway. Its
socket buffers are small, so that takes kilobytes, not megabytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiopikvm import PiKVMWebSocket

_BUFFER = 4096


class StallingLink:
    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(_BUFFER):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        for pair in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._relay(*pair))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[StallingLink]:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)  # accepted ones too
        self._server = await asyncio.start_server(self._accept, sock=listener, limit=_BUFFER)
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        try:
            yield self
        finally:
            self.resume()
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def fill_until_stalled(ws: PiKVMWebSocket) -> None:
    """Send harmless frames until one has to wait: the socket buffers are full."""
    sent = 0

    async def flood() -> None:
        nonlocal sent
        while True:
            await ws.send_mouse_move(0, 0)
            sent += 1

    filler = asyncio.create_task(flood())
    last = -1
    while sent != last:
        last = sent
        await asyncio.sleep(0.01)
    filler.cancel()
