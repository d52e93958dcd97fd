"""One device as the server holds it: its client, and the one WebSocket session every tool
call shares — opened on first use with ``stream=1`` (so the video runs for screenshots and
OCR without a session per call, whose opening and closing would make kvmd drop queued
input), reconnecting when the link drops, opened afresh once it is over for good."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Final

from ..errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    ScreenTimeoutError,
    UnavailableError,
)
from ._picture import DEFAULT_MAX_SIDE, Geometry, scaled
from ._safety import RateLimit, Safety, Takeover

if TYPE_CHECKING:
    from .. import PiKVM, PiKVMWebSocket

VIDEO_TIMEOUT: Final = 10.0
"""Seconds to wait for the streamer's first picture, or its report of the screen's size."""
VIDEO_RETRY: Final = 0.25
PING_TIMEOUT: Final = 5.0
RECONNECT_WAIT: Final = 30.0
"""Seconds an input call waits for a dropped session to reconnect."""


class Device:
    """A device the tools drive: ``kvm`` for requests, :meth:`session` for input and the
    live state."""

    def __init__(
        self,
        name: str,
        kvm: PiKVM,
        *,
        layout: str = "en-us",
        safety: Safety | None = None,
        max_side: int = DEFAULT_MAX_SIDE,
    ) -> None:
        safety = safety or Safety()
        self.name, self.kvm, self.layout, self.max_side = name, kvm, layout, max_side
        self.takeover = Takeover(safety.human_idle)
        self.rate = RateLimit(safety.rate, safety.burst)
        self.geometry: Geometry | None = None
        """The geometry of the last screenshot, which pointer coordinates refer to."""
        self._ws: PiKVMWebSocket | None = None
        self._watch: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.reconnects = 0

    async def session(self) -> PiKVMWebSocket:
        async with self._lock:
            if self._ws is None or self._watch is None or self._watch.done():
                await self._drop()
                ws = self.kvm.ws(stream=True, reconnect=True)
                await ws.connect()
                self._ws = ws
                self._watch = asyncio.create_task(self._follow(ws), name=f"mcp-{self.name}")
            return self._ws

    async def _follow(self, ws: PiKVMWebSocket) -> None:
        # Reading the events is how the session says it is over (they end, or raise once
        # reconnecting fails); the state is merged from them either way.
        with contextlib.suppress(PiKVMError):
            async for event in ws.events():
                if event["event_type"] == "reconnected":
                    self.reconnects += 1

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        if ws is not None:
            with contextlib.suppress(PiKVMError):
                await ws.aclose()

    async def aclose(self) -> None:
        async with self._lock:
            await self._drop()
        await self.kvm.aclose()

    # ----- the screen ---------------------------------------------------------------------

    async def snapshot(self, timeout: float = VIDEO_TIMEOUT) -> bytes:
        """The screen now (JPEG), waiting up to ``timeout`` for the video to come up."""
        await self.session()  # its stream=1 keeps the streamer running
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                return await self.kvm.streamer.snapshot()
            except UnavailableError:
                if loop.time() >= deadline:
                    raise ScreenTimeoutError(
                        f"no picture from the video streamer within {timeout} s: is the host "
                        "on, and its display awake? (see power_status)"
                    ) from None
            await asyncio.sleep(VIDEO_RETRY)

    async def picture(self, jpeg: bytes) -> tuple[bytes, Geometry]:
        """``jpeg`` scaled for the agent; pointer coordinates refer to it from now on."""
        picture, geometry = await asyncio.to_thread(scaled, jpeg, self.max_side)
        self.geometry = geometry
        return picture, geometry

    async def screen_size(self) -> tuple[int, int]:
        """The screen's size as the streamer reports it, waiting for its first report."""
        ws = await self.session()
        return await ws.wait_for_screen_size(timeout=VIDEO_TIMEOUT)

    async def pointer_geometry(self) -> Geometry:
        """The geometry pointer coordinates refer to: the last screenshot's, while the
        screen keeps its size."""
        screen = await self.screen_size()
        if self.geometry is not None:
            if (self.geometry.screen_width, self.geometry.screen_height) == screen:
                return self.geometry
            self.geometry = None
            raise InvalidInputError(
                f"the screen is {screen[0]}x{screen[1]} now, not as in your last screenshot: "
                "take a new screenshot and read the coordinates off it"
            )
        return Geometry.for_screen(screen, self.max_side)

    # ----- who else is there --------------------------------------------------------------

    async def human(self) -> str | None:
        """Why input must stop now (a human is using the device), or None."""
        ws = await self.session()
        try:
            await ws.ping(timeout=PING_TIMEOUT)  # the events sent before it have been read
        except ConnectionClosedError:
            # The link dropped: wait for the session to reconnect, then ask again (a
            # session over for good raises here, and the next call opens a new one).
            await ws.wait_for(lambda _: ws.is_open, timeout=RECONNECT_WAIT)
            await ws.ping(timeout=PING_TIMEOUT)
        clients = ws.state.clients
        sessions = clients.count if clients is not None else 1
        inactivity = await self.kvm.hid.get_inactivity()
        return self.takeover.observe(sessions, inactivity)
