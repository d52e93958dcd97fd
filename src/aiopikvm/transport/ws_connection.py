"""websockets' client connection as a session uses it, and the queue its reader takes the
messages from. Imported when a session opens (by :func:`.ws_connect.open_session`): the
client half of websockets costs more to import than the rest of aiopikvm's WebSocket code.

A whole text or binary frame — all of kvmd's — goes from websockets' protocol straight to
the connection's :class:`Inbox`, decoded; websockets' own queue (its ``Assembler``) and
``recv()`` take a few microseconds a message more. Everything else goes the documented
way: a fragmented message, or a text frame that is not UTF-8, is left in websockets' queue
and the inbox holds its place, so that the reader takes it with ``recv()`` in order and
websockets reports its errors as it always does. Its bounds hold: the frame size
(``max_size``) is checked by websockets' protocol before a frame gets here, and the inbox
stops reading the socket as websockets' queue does (see :data:`INBOX_BYTES`).
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from typing import Any, Final

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from .ws_connect import WRITE_BUFFER_LIMIT

INBOX_BYTES: Final = 2**16
"""What one inbox holds (64 KiB: the messages' bytes, and :data:`MESSAGE_COST` for each)
before the connection stops reading the socket, until the reader has taken all but
:data:`INBOX_FLOOR` // 4. A single read of the socket can bring more (as many small frames
as fit in it): they are queued all the same, as websockets' own queue does, and reading
stops after them. (A bound of 16 messages, websockets' ``max_queue``, stopped and resumed
reading every 46 of kvmd's events, one 16 KiB read: ~8 % of a session's CPU, bench
``ingest``.)"""
INBOX_FLOOR: Final = 2**13
"""What one inbox holds (8 KiB, about 16 of kvmd's events) once the inboxes of its event
loop hold :data:`LOOP_BYTES` together: a fleet whose readers fall behind keeps 8 KiB a
session queued, not 64 (bench ``sessions``: 123 -> 85 KiB RSS a session)."""
LOOP_BYTES: Final = 2**21
"""What the inboxes of one event loop hold together (2 MiB) before each stops at
:data:`INBOX_FLOOR`."""
MESSAGE_COST: Final = 128
"""What a queued message costs besides its bytes (its str or bytes object, its tuple and
its place in the deque), so that many tiny frames stop the reading as surely as a few big
ones."""

RECEIVE_BUFFER: Final = 2**14
"""The most one read of the socket takes (16 KiB). asyncio's selector transport asks for
256 KiB (its ``max_size``) and websockets parses a whole read into frames before its
``max_queue`` stops reading: a device's burst then held ~250 KiB per session while 1,000
sessions opened (bench ``sessions``: 316 -> 143 KiB RSS each)."""
KEEPALIVE_INTERVAL: Final = 5.0
"""Seconds between the pings a session sends: below kvmd's heartbeat (aiohttp's, every
15 s), which any frame from the client puts off, so that kvmd never pings a client whose
pong would wait behind a backlog of frames still to read."""
KEEPALIVE_TIMEOUT: Final = 20.0
"""Seconds after a ping with nothing at all received before the link counts as dead
(websockets' own keepalive timed the pong, which waits behind every frame the device sent
before it: under load, 276 of 1,000 live sessions were cut so)."""

_RESUME_BYTES: Final = INBOX_FLOOR // 4
_OPEN: Final = State.OPEN
_TEXT: Final = Opcode.TEXT
_BINARY: Final = Opcode.BINARY
_RECV: Final = (None, 0)
"""The place of a message left in websockets' queue: the reader takes it with ``recv()``."""

Received = tuple[str | bytes, int]
"""A message and the bytes its frames carried."""

_ASSEMBLER: Final = 1  # the reasons to stop reading the socket, as bits
_INBOX: Final = 2


class LoopBacklog:
    """The bytes queued in all the inboxes of one event loop (:meth:`of`)."""

    __slots__ = ("__weakref__", "queued")

    _backlogs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopBacklog] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.queued = 0

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> LoopBacklog:
        backlog = cls._backlogs.get(loop)
        if backlog is None:
            backlog = cls._backlogs[loop] = cls()
        return backlog


class Inbox:
    """One connection's messages, in order, for its one reader: :meth:`pop` what is
    queued, :meth:`next` to wait for more (and to learn how the connection ended)."""

    __slots__ = ("_backlog", "_bytes", "_conn", "_items", "_paused", "_waiter", "closed")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._backlog = LoopBacklog.of(asyncio.get_running_loop())
        self._items: collections.deque[tuple[str | bytes | None, int]] = collections.deque()
        self._bytes = 0  # counted in the loop's backlog too
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put(self, message: str | bytes | None, size: int) -> None:
        items = self._items
        items.append((message, size) if message is not None else _RECV)
        cost = size + MESSAGE_COST
        queued = self._bytes = self._bytes + cost
        backlog = self._backlog
        backlog.queued += cost
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if not self._paused and (
            queued > INBOX_BYTES or (queued > INBOX_FLOOR and backlog.queued > LOOP_BYTES)
        ):
            self._paused = True
            self._conn.hold_reading(_INBOX, True)

    def pop(self) -> Received | None:
        """The next message if it is queued here; ``None`` if there is none, or if it is
        one for :meth:`next` to take from websockets."""
        items = self._items
        if not items:
            return None
        received = items[0]
        if received is _RECV:
            return None
        items.popleft()
        self._taken(received[1] + MESSAGE_COST)
        return received  # type: ignore[return-value]  # not _RECV: a message

    async def next(self) -> Received:
        """The next message, once there is one. Raises websockets' ``ConnectionClosed``
        once the connection has ended and every message before the end was taken."""
        while True:
            items = self._items
            if items:
                if items[0] is not _RECV:
                    received = self.pop()
                    assert received is not None
                    return received
                message = await self._conn.recv()
                # Taken out only now: a reader cancelled in recv() leaves the place kept.
                items.popleft()
                self._taken(MESSAGE_COST)
                return message, _size(message)
            if self.closed:
                # Nothing more comes: recv() raises how it ended, as websockets tells it.
                message = await self._conn.recv()
                return message, _size(message)
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        if not self.closed:
            # What is left is the reader's to take, off the loop's count: from now on it
            # is counted in a backlog of its own.
            self._backlog.queued -= self._bytes
            self._backlog = LoopBacklog()
        self.closed = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _taken(self, cost: int) -> None:
        self._bytes -= cost
        self._backlog.queued -= cost
        if self._paused and self._bytes <= _RESUME_BYTES:
            self._paused = False
            self._conn.hold_reading(_INBOX, False)


def _size(message: str | bytes) -> int:
    if isinstance(message, bytes):
        return len(message)
    return len(message) if message.isascii() else len(message.encode())


class Connection(ClientConnection):
    """websockets' connection, failed when the bytes it has to send pile up, and aborted
    when a closing handshake the device does not finish outlasts ``close_timeout``; its
    messages go to :attr:`inbox`."""

    overflowed = False  # failed by the limit: the session says so

    def __init__(self, protocol: Any, **options: Any) -> None:
        super().__init__(protocol, **options)
        self._close_timeout: float | None = options.get("close_timeout")
        self._closing_timer: asyncio.TimerHandle | None = None
        self._held = 0  # why reading is stopped: _ASSEMBLER, _INBOX bits
        self._received_at = 0.0
        self._keepalive: asyncio.Task[None] | None = None
        self.inbox = Inbox(self)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if hasattr(transport, "max_size"):  # asyncio's selector transport: its read size
            transport.max_size = RECEIVE_BUFFER
        # websockets' queue stops reading the socket for its own reasons, the inbox for
        # its own: reading goes on only when neither holds it (the same attributes in
        # websockets 13 and 17).
        self.recv_messages.pause = lambda: self.hold_reading(_ASSEMBLER, True)
        self.recv_messages.resume = lambda: self.hold_reading(_ASSEMBLER, False)

    def hold_reading(self, reason: int, hold: bool) -> None:
        was = self._held
        self._held = was | reason if hold else was & ~reason
        if self._held and not was:
            self.transport.pause_reading()
        elif was and not self._held:
            self.transport.resume_reading()

    def process_event(self, event: Any) -> None:
        if self.response is not None and type(event) is Frame:
            opcode = event.opcode
            if opcode is _TEXT or opcode is _BINARY:
                if event.fin:
                    data = event.data
                    if opcode is _BINARY:
                        self.inbox.put(bytes(data), len(data))
                        return
                    try:
                        text = (data if type(data) is bytes else bytes(data)).decode()
                    except UnicodeDecodeError:
                        pass  # websockets' recv() says so, in its own way
                    else:
                        self.inbox.put(text, len(data))
                        return
                # Fragmented, or not UTF-8: websockets queues it, the inbox its place.
                super().process_event(event)
                self.inbox.put(None, 0)
                return
        super().process_event(event)  # the handshake, continuations, control frames

    def send_now(self, frame: str | bytes) -> bool:
        """Write one data frame at once through websockets' Sans-I/O protocol (its
        documented ``send_binary``/``send_text`` and ``data_to_send``), as ``send()`` does
        with no await: one layer less for every key press. Only while the connection is
        open and writing is not paused; otherwise nothing is written and it says ``False``:
        ``send()`` then waits or raises, in its own way. (``send()`` also waits for a
        fragmented message being sent: a session never sends one.)"""
        protocol, transport = self.protocol, self.transport
        if protocol.state is not _OPEN or self.paused or transport.is_closing():
            return False
        if isinstance(frame, str):
            protocol.send_text(frame.encode())
        else:
            protocol.send_binary(frame)
        for data in protocol.data_to_send():
            if data:
                transport.write(data)
            elif transport.can_write_eof():  # the end of the stream, as send() would end it
                transport.write_eof()  # (never after a data frame sent while open)
            else:
                transport.close()
        return True

    def start_keepalive(self) -> None:
        """Ping every :data:`KEEPALIVE_INTERVAL`; fail the link (1011) once nothing at all
        came for :data:`KEEPALIVE_TIMEOUT` after a ping."""
        self._keepalive = asyncio.get_running_loop().create_task(
            self._keep_alive(), name="aiopikvm-ws-keepalive"
        )

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        silent_since: float | None = None  # a ping went out then, and nothing came since
        while True:
            await asyncio.sleep(KEEPALIVE_INTERVAL)
            now = loop.time()
            if silent_since is not None and self._received_at >= silent_since:
                silent_since = None  # any frame proves the link alive, a pong or not
            if silent_since is not None and now - silent_since >= KEEPALIVE_TIMEOUT:
                await self.close(1011, "keepalive ping timeout")
                return
            if silent_since is None:
                silent_since = now
            try:
                await self.ping()  # its answer is not awaited: any frame will do
            except websockets.ConnectionClosed:
                return

    def data_received(self, data: bytes) -> None:
        self._received_at = asyncio.get_running_loop().time()
        super().data_received(data)  # answers the pings among the frames, unthrottled
        transport = self.transport
        if not self.overflowed and transport.get_write_buffer_size() > WRITE_BUFFER_LIMIT:
            self.overflowed = True
            transport.abort()
        elif (
            self.state is State.CLOSING
            and self._closing_timer is None
            and self._close_timeout is not None
        ):
            # A close frame went out (a frame too big: 1009) or came in; the device is to
            # close the TCP connection now. websockets holds it to close_timeout only while
            # one of its calls waits on the close, and a reader alone would wait for ever.
            loop = asyncio.get_running_loop()
            self._closing_timer = loop.call_later(self._close_timeout, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing_timer is not None:
            self._closing_timer.cancel()
        if self._keepalive is not None:
            self._keepalive.cancel()
        try:
            super().connection_lost(exc)
        finally:
            self.inbox.close()


class _Refused(Connection):
    """The connection websockets opens to follow a redirect: aborted as it opens, before
    anything (the handshake, the credentials) is written on it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if hasattr(transport, "max_size"):  # asyncio's selector transport: its read size
            transport.max_size = RECEIVE_BUFFER
        self.transport.abort()


class OneConnection:
    """websockets' ``create_connection`` for one connect: the first TCP connection gets a
    :class:`Connection`; a second one would follow a redirect, and is refused."""

    def __init__(self) -> None:
        self.first: Connection | None = None

    def __call__(self, protocol: Any, **options: Any) -> Connection:
        if self.first is None:
            self.first = Connection(protocol, **options)
            return self.first
        return _Refused(protocol, **options)

    def redirect(self) -> tuple[int, str] | None:
        """The status and the target of the redirect the device answered, if it did."""
        response = self.first.response if self.first is not None else None
        if response is None or not 300 <= response.status_code < 400:
            return None
        return response.status_code, response.headers.get("Location", "")
