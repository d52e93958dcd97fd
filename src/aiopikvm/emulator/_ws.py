"""``GET /api/ws``: sessions, the full-state burst, broadcasts, and client input.

What kvmd does and this copies:

- the first frame is ``loop`` with the version; then the full state of every subsystem is
  broadcast to *every* open session, so existing sessions get the burst again whenever
  a client connects (the order is the recorded one, see :data:`BUNDLE`);
- opening and closing a session clears the HID queue and releases everything on the
  target, and broadcasts ``clients``: the number of open sessions, as the recording
  shows (a lone ``stream=0`` session counts 1; kvmd's source reads as counting only
  ``stream=1`` sessions, but the capture wins). kvmd's stream controller broadcasts it
  every time it wakes: once when a session closes, twice in the burst when one opens (its
  own, and the new session's after ``hid_keymaps``), and also after ``streamer/set_params``
  and ``streamer/reset``, when no session came or went (:meth:`WsHub.announce_clients`);
- bad input is ignored without a word: malformed JSON, unknown event types, invalid
  values, unknown binary operations, truncated frames;
- an empty binary frame ends the session, and so does a well-formed "code mode" key or
  button frame, since the emulator knows no evdev codes (kvmd closes on an unknown one);
- the server pings every ``heartbeat`` seconds and drops a client that does not answer.

Each session has its own outbox drained by a writer task, so a broadcast never waits for a
slow client and every session sees events in the order they were produced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any, Final

from aiohttp import WSMsgType, web

from ..protocol.frames import (
    OP_KEY,
    OP_MOUSE_BUTTON,
    PONG_FRAME,
    PingInput,
    decode_binary,
    decode_json_input,
    encode_event,
)
from ._fault_rules import Tripwire
from ._faults import Faults
from ._hid import Hid
from ._log import Journal
from ._validators import valid_bool

logger = logging.getLogger("aiopikvm.emulator.ws")

VERSION: Final = {"major": 4, "minor": 206}

BUNDLE: Final[tuple[tuple[str, str | None], ...]] = (
    ("clients", None),
    ("gpio", None),
    ("atx", None),
    ("msd", None),
    ("ocr", None),
    ("streamer", None),
    ("info", "auth"),
    ("hid_keymaps", None),
    ("switch", None),
    ("info", "fan"),
    ("clients", None),
    ("hid", None),
    ("info", "node"),
    ("info", "meta"),
    ("info", "uptime"),
    ("info", "health"),
    ("info", "system"),
    ("info", "extras"),
)
"""The burst after ``loop`` as recorded from kvmd 4.206: ``(event_type, info field)``."""

_CODE_MODE: Final = 0x80
_CODE_FRAME_LEN: Final = 4  # op, flags, then a big-endian evdev code

StateProvider = Callable[[str, str | None], dict[str, Any]]
"""``(event_type, info field)`` -> the event to send for that line of the burst."""

_Outgoing = tuple[float, str | bytes] | None  # (when it was sent, the frame)


class WsSession:
    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        stream: bool,
        transport: asyncio.Transport | None = None,
    ) -> None:
        self.ws = ws
        self.stream = stream
        self._transport = transport
        self.received = 0
        self.sent = 0
        self.tripwire: Tripwire | None = None  # set by fault injection: where to drop
        self.lag = 0.0  # set by fault injection: seconds each frame takes to the client
        self._loop = asyncio.get_running_loop()
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name="emulator-ws-writer")

    def send(self, frame: str | bytes) -> None:
        if not self.ws.closed:
            self._outbox.put_nowait((self._loop.time(), frame))

    async def close(self) -> None:
        self._outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer
        await self.ws.close()

    async def _write(self) -> None:
        while (item := await self._outbox.get()) is not None:
            sent_at, frame = item
            if (late := sent_at + self.lag - self._loop.time()) > 0:
                await asyncio.sleep(late)  # on a slow link: in order, each its time late
            try:
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return  # the peer is gone; the reader side notices and cleans up
            self.sent += 1
            if self.tripped("sent"):
                await self.drop(clean=self.tripwire is not None and self.tripwire.clean)
                return

    def tripped(self, counting: str) -> bool:
        wire = self.tripwire
        count = self.received if counting == "received" else self.sent
        return wire is not None and wire.counting == counting and count >= wire.at

    def trip_soon(self) -> None:
        clean = self.tripwire is not None and self.tripwire.clean
        asyncio.get_running_loop().create_task(self.drop(clean=clean))

    async def drop(self, *, clean: bool) -> None:
        """End the session as a dead link does (no close frame), or with kvmd's close."""
        if clean:
            await self.ws.close()
        elif self._transport is not None:
            self._transport.abort()


class WsHub:
    def __init__(
        self,
        hid: Hid,
        state: StateProvider,
        *,
        heartbeat: float,
        journal: Journal,
        faults: Faults | None = None,
    ) -> None:
        self._hid = hid
        self._journal = journal
        self._faults = faults
        self._state = state
        self._heartbeat = heartbeat
        self._sessions: list[WsSession] = []
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` right after a session opens or closes."""
        self._listeners.append(listener)

    @property
    def clients(self) -> int:
        return len(self._sessions)

    @property
    def sessions(self) -> tuple[WsSession, ...]:
        return tuple(self._sessions)

    @property
    def stream_clients(self) -> int:
        return sum(session.stream for session in self._sessions)

    def broadcast(self, event_type: str, event: dict[str, Any]) -> None:
        frame = encode_event(event_type, event)
        for session in self._sessions:
            session.send(frame)

    def announce_clients(self) -> None:
        """What kvmd's stream controller sends each time it wakes (kvmd/apps/kvmd/server.py)."""
        self.broadcast("clients", {"count": self.clients})

    async def close_all(self) -> None:
        for session in list(self._sessions):
            await session.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # Validated before the upgrade, so a bad value is an ordinary 400 answer.
        stream = valid_bool(request.query.get("stream", True))
        ws = web.WebSocketResponse(heartbeat=self._heartbeat)
        await ws.prepare(request)
        session = WsSession(ws, stream=stream, transport=request.transport)
        if self._faults is not None:
            self._faults.ws_opened(session)
        session.send(encode_event("loop", {"version": dict(VERSION)}))
        self._sessions.append(session)
        self._log_session("Registered new client session", session)
        self._hid.clear_events()
        for listener in self._listeners:
            listener()
        try:
            for event_type, field in BUNDLE:
                self.broadcast(event_type, self._state(event_type, field))
            await self._read(session)
        except Exception:
            logger.exception("WebSocket session failed")
        finally:
            self._sessions.remove(session)
            self._log_session("Removed client socket", session)
            self._hid.clear_events()
            for listener in self._listeners:
                listener()
            self.announce_clients()
            await session.close()
        return ws

    def _log_session(self, what: str, session: WsSession) -> None:
        described = f"WsSession(id={id(session)}, {{'stream': {session.stream}}})"
        self._journal.write(
            "kvmd.apps.kvmd.server", f"{what}: {described}; clients now: {self.clients}"
        )

    async def _read(self, session: WsSession) -> None:
        async for message in session.ws:
            if message.type == WSMsgType.TEXT:
                self._on_text(session, message.data)
            elif message.type == WSMsgType.BINARY and message.data:
                if not self._on_binary(session, message.data):
                    return
            else:
                return
            session.received += 1
            if session.tripped("received"):
                await session.drop(clean=session.tripwire is not None and session.tripwire.clean)
                return

    def _on_text(self, session: WsSession, text: str) -> None:
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):  # kvmd logs any parse failure and reads on
            return
        if not isinstance(message, dict):
            return
        event_type = message.get("event_type")
        event = message.get("event")
        if not isinstance(event_type, str) or not isinstance(event, dict):
            return
        if event_type == "ping":
            session.send(encode_event("pong", {}))
            return
        decoded = decode_json_input(event_type, event)
        if decoded is not None and not isinstance(decoded, PingInput):
            self._hid.send_input(decoded)

    def _on_binary(self, session: WsSession, data: bytes) -> bool:
        """Handle one binary frame; ``False`` ends the session."""
        if data[0] in (OP_KEY, OP_MOUSE_BUTTON) and len(data) > 1 and data[1] & _CODE_MODE:
            # A code that does not parse is dropped; one that does is unknown to us.
            return len(data) != _CODE_FRAME_LEN
        decoded = decode_binary(data)
        if isinstance(decoded, PingInput):
            session.send(PONG_FRAME)
        elif decoded is not None:
            self._hid.send_input(decoded)
        return True
