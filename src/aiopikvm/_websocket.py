"""``PiKVMWebSocket``: one ``/api/ws`` session — events in, keyboard and mouse out — that
can reopen itself when the connection drops."""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Self
from urllib.parse import SplitResult, urlunsplit

import websockets

from ._checks import (
    MAX_QUEUE,
    check_bool,
    check_button,
    check_delta,
    check_int,
    check_key,
    check_optional_bool,
    check_position,
    check_timeout,
    check_verify_ssl,
    invalid,
)
from ._queue_watch import QueueWatch
from ._version import __version__
from ._ws_actions import DEFAULT_TYPING_DELAY, SessionActions
from .errors import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    ProtocolError,
    ReconnectFailedError,
    RequestInfo,
)
from .models import DeviceState
from .models._base import parse
from .protocol.frames import (
    PONG_FRAME,
    Input,
    KeyInput,
    MouseButtonInput,
    MouseMoveInput,
    MouseRelativeInput,
    MouseWheelInput,
    PingInput,
    encode_binary,
    encode_event,
    encode_json,
    parse_event,
)
from .protocol.keys import FINISH_EXEMPT
from .protocol.merge import MergedState
from .transport.auth import Credentials
from .transport.device_url import split_device_url
from .transport.retry import RetryPolicy
from .transport.tls import VerifySSL, make_ssl_context
from .transport.ws_connect import WRITE_BUFFER_LIMIT, open_session

if TYPE_CHECKING:
    from .transport.ws_connection import Connection

logger = logging.getLogger("aiopikvm")

DEFAULT_MAX_QUEUE: Final = 1024
MAX_QUEUE_BYTES: Final = 4 * 2**20
"""The most the events waiting for :meth:`PiKVMWebSocket.events` may add up to, counted as
the frames' sizes as received (4 MiB: four of the biggest frames a session accepts)."""
YIELD_EVERY: Final = 32
"""Frames the reader takes in a row before it lets the rest of the event loop run."""
LOGGED_FIRST: Final = 3
"""Warnings of one kind logged per connection; the rest are counted, and the count logged
when the connection ends."""
RECONNECTED: Final = "reconnected"
"""``event_type`` of the event :meth:`PiKVMWebSocket.events` yields when a ``reconnect``
session is connected again (kvmd has no event of that name)."""

_SCHEMES: Final = ("http", "https", "ws", "wss")
_STATE_TYPES: Final[dict[str, Any]] = {
    name: field.annotation for name, field in DeviceState.model_fields.items()
}
_Frame = str | bytes
_Queued = tuple[dict[str, Any], int]  # an event and the size of its frame


def ws_url(url: str, stream: bool) -> str:
    """``https://host[/prefix]`` -> ``wss://host[/prefix]/api/ws?stream=0|1``."""
    return _ws_url(split_device_url(url, _SCHEMES), stream)


def _ws_url(parts: SplitResult, stream: bool) -> str:
    scheme = "wss" if _is_secure(parts) else "ws"
    path = parts.path.rstrip("/") + "/api/ws"
    return urlunsplit((scheme, parts.netloc, path, f"stream={int(stream)}", ""))


def _is_secure(parts: SplitResult) -> bool:
    return parts.scheme in ("https", "wss")  # urlsplit gives the scheme in lower case


def _check_stream(stream: object) -> bool:
    if isinstance(stream, bool) or (isinstance(stream, int) and stream in (0, 1)):
        return bool(stream)
    raise invalid("stream", "a bool or 0/1", stream)


class _Tally:
    """Warnings of one kind on one connection: the first few logged, the rest counted."""

    __slots__ = ("count", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self.count = 0

    def warn(self, message: str) -> None:
        self.count += 1
        if self.count < LOGGED_FIRST:
            logger.warning("%s", message)
        elif self.count == LOGGED_FIRST:
            logger.warning("%s (more %s are counted, not logged)", message, self.what)

    def summary(self, request: RequestInfo) -> None:
        if self.count > LOGGED_FIRST:
            logger.warning("%s: %d %s on this connection in all", request, self.count, self.what)


class _LiveState:
    """What one connection knows of the device: its events merged, and the last valid
    model of each subsystem — validated when the state is read, and only what changed."""

    __slots__ = ("invalid", "merged", "models")

    def __init__(self) -> None:
        self.merged = MergedState()
        self.models: dict[str, Any] = {}
        self.invalid = _Tally("events that left a state without kvmd's shape")

    def validated(self) -> dict[str, Any]:
        changed = self.merged.changed
        while changed:
            name = changed.pop()
            raw = self.merged.value(name)
            try:
                self.models[name] = parse(_STATE_TYPES[name], raw, f"{name!r} state")
            except ProtocolError as exc:
                self.invalid.warn(f"{exc}; keeping the last valid {name} state")
        return self.models


class _Link:
    """One connection of a session, and what belongs to it alone."""

    __slots__ = ("backlog", "conn", "live", "malformed", "pings", "reader", "refused", "sending")

    def __init__(self, conn: Connection, *, backlog: bool) -> None:
        self.conn = conn
        self.live = _LiveState()  # the state its events are merged into
        # Events held back until a reconnect knows the connection works; None: pushed.
        self.backlog: list[_Queued] | None = [] if backlog else None
        # One future per ping written, in order: each answer resolves the oldest.
        self.pings: collections.deque[asyncio.Future[int]] = collections.deque()
        self.reader: asyncio.Task[None] | None = None
        # One send at a time: a send waiting inside websockets has already added its frame
        # to the bytes waiting to be sent; sends waiting here, on a stalled link, add none.
        self.sending = asyncio.Lock()
        self.malformed = _Tally("malformed frames")
        self.refused = _Tally("state events past the size limit")


def _reconnect_policy(reconnect: object) -> RetryPolicy | None:
    if isinstance(reconnect, RetryPolicy):
        return reconnect
    if reconnect is True:
        return RetryPolicy.for_reconnects()
    if reconnect is False:
        return None
    raise invalid("reconnect", "a bool or a RetryPolicy", reconnect)


class PiKVMWebSocket(SessionActions):
    """A session on kvmd's ``/api/ws``: the event stream and HID input.

    Use it as an async context manager; a session opens once (entering it again, even
    after it closed, raises :class:`InvalidInputError`: make a new one). While open, a
    background task reads every frame — so kvmd's keep-alive pings are answered even when
    nobody iterates :meth:`events` — and folds the state events into :attr:`state`.

    Events wait in a queue of ``max_queue`` entries and at most :data:`MAX_QUEUE_BYTES`
    (their frames' sizes) for :meth:`events`; past either, the *oldest* event is dropped
    and :attr:`dropped_events` counts it. :attr:`state` is merged from every event either
    way, so it stays exact when events are dropped.

    Input is validated before it is sent (kvmd silently ignores what it cannot use) and goes
    out as kvmd's binary frames, or as JSON frames with ``binary=False``. Every key and
    mouse button pressed through the session and not released is released when the
    ``async with`` block ends — normally, by an exception or by cancellation.

    What a device or a link can make it do is bounded: a frame is at most
    :data:`~aiopikvm.transport.ws_connect.MAX_FRAME_SIZE` (bigger: closed, code 1009);
    each subsystem of :attr:`state` at most :data:`~aiopikvm.protocol.merge.MAX_STATE_BYTES`;
    the bytes waiting to be sent at most
    :data:`~aiopikvm.transport.ws_connect.WRITE_BUFFER_LIMIT` (a device that floods pings
    and reads no answer is dropped). Every send — a key, a mouse event, a ping — waits at
    most ``close_timeout`` for the link to take its frame, and raises
    :class:`PiKVMTimeoutError` when a stalled link does not (the frame may still arrive if
    the link recovers, so a key whose press or release timed out counts as held, and is
    released again at the end). :meth:`ping`'s ``timeout`` covers writing the ping too.
    Closing is bounded as :meth:`aclose` says.

    With ``reconnect=True`` (or a :class:`RetryPolicy`), a connection that ends without
    :meth:`aclose` is opened again, with the policy's backoff between failed attempts
    (``True``: :meth:`RetryPolicy.for_reconnects`). An authentication or TLS failure is
    never retried. Each attempt computes fresh credentials (a new TOTP code). Once
    connected again, the keys and buttons held at the drop are released explicitly, the
    device's state is read afresh, and :meth:`events` yields a ``"reconnected"`` event
    before the new connection's events; input sent while reconnecting raises
    :class:`ConnectionClosedError`, and :meth:`type_text` waits and resumes. A new
    connection that drops within the policy's ``stable_after`` seconds does not end the
    outage: it counts as a failed attempt, and the backoff goes on. When the attempts run
    out, :meth:`events` raises :class:`ReconnectFailedError`.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str = "admin",
        passwd: str = "",
        totp_secret: str | None = None,
        verify_ssl: VerifySSL = True,
        stream: bool | int = False,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        binary: bool = True,
        max_queue: int = DEFAULT_MAX_QUEUE,
        reconnect: bool | RetryPolicy = False,
    ) -> None:
        check_verify_ssl(verify_ssl)
        self._init(
            url,
            Credentials(user, passwd, totp_secret),
            verify_ssl,
            stream=stream,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            binary=binary,
            max_queue=max_queue,
            reconnect=reconnect,
        )

    @classmethod
    def _for_client(
        cls,
        url: str,
        credentials: Credentials,
        ssl_context: ssl.SSLContext | None,
        **options: Any,
    ) -> PiKVMWebSocket:
        """A session sharing a :class:`PiKVM`'s credentials and TLS settings (its context
        is None only for an ``http://`` URL, which makes no TLS context here either)."""
        self = cls.__new__(cls)
        self._init(url, credentials, ssl_context if ssl_context is not None else True, **options)
        return self

    def _init(
        self,
        url: str,
        credentials: Credentials,
        verify_ssl: VerifySSL,
        *,
        stream: bool | int,
        open_timeout: float | None,
        close_timeout: float | None,
        binary: bool,
        max_queue: int,
        reconnect: bool | RetryPolicy,
    ) -> None:
        """The one way a session is made: the URL parsed once, and TLS decided from it."""
        check_int(max_queue, "max_queue", low=1, high=MAX_QUEUE)
        check_timeout(open_timeout, "open_timeout", none_ok=True)
        check_timeout(close_timeout, "close_timeout", none_ok=True)
        check_bool(binary, "binary")
        parts = split_device_url(url, _SCHEMES)
        self.url = _ws_url(parts, _check_stream(stream))
        self.stream = bool(stream)
        self.binary = binary
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self._policy = _reconnect_policy(reconnect)
        self._credentials = credentials
        self._ssl = make_ssl_context(verify_ssl) if _is_secure(parts) else None
        self._request = RequestInfo("GET", self.url)
        self._ping_frame = self._encode(PingInput())
        # The open connection; None before connect(), while reconnecting and once closed.
        self._link: _Link | None = None
        self._reader: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._opening = False
        self._opened = asyncio.Event()  # set while open, and once the session is over
        self._live = _LiveState()  # the state, as the current connection knows it
        self._queue: collections.deque[_Queued] = collections.deque()
        self._max_queue = max_queue
        self._queued_bytes = 0
        self._queue_ready = asyncio.Event()
        self._held_keys: dict[str, None] = {}  # insertion-ordered set
        self._held_buttons: dict[str, None] = {}
        self._closing = False
        self._close_error: ConnectionClosedError | None = None
        self._drop: ConnectionClosedError | None = None
        self._reconnected_at: float | None = None  # when the last reconnect succeeded
        # How many times kvmd may have dropped its queued input and released every key, as
        # far as this session can tell: a session opened or closed (see QueueWatch), or a
        # reconnect. Typing compares it to notice the input it sent being thrown away.
        self._clears = 0
        self._partial_count = False  # the device's `clients` count leaves sessions out
        # When the device's HID will have applied everything sent, if it takes `_event_time`
        # per event (`hid_event_time`; typing states its own pace in `_typing_pace`). kvmd
        # throws away what is still queued when the session closes, so closing waits for it.
        self._event_time = DEFAULT_TYPING_DELAY
        self._typing_pace: float | None = None
        self._hid_idle_at = 0.0
        self.dropped_events = 0
        self.reconnects = 0

    def __repr__(self) -> str:
        if self.is_open:
            status = "open"
        elif self._finished:
            status = "closed"
        else:
            status = "reconnecting"
        return f"<PiKVMWebSocket {self.url} user={self._credentials.user!r} {status}>"

    # ----- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Shielded: a second cancellation while we release keys must not leave them held.
        await asyncio.shield(asyncio.ensure_future(self.aclose()))

    @property
    def is_open(self) -> bool:
        """Whether the session is connected now (False while it reconnects)."""
        return self._link is not None

    @property
    def _finished(self) -> bool:
        """Whether the session is over for good: never opened, closed, or beyond reconnecting."""
        reader, supervisor = self._reader, self._supervisor
        return reader is None or (reader.done() and (supervisor is None or supervisor.done()))

    async def connect(self) -> None:
        """Open the session (done by ``async with``). The first connect is not retried.

        A session opens once: once it has been open, connecting again raises
        :class:`InvalidInputError` — make a new session instead. One whose opening failed
        may be opened again."""
        if self._reader is not None:
            if self._finished:
                raise InvalidInputError(
                    "this session is closed, and a session opens only once: make a new one "
                    "(kvm.ws() or PiKVMWebSocket(...))"
                )
            raise InvalidInputError("this session is already open")
        if self._opening:
            raise InvalidInputError("this session is already opening")
        self._opening = True
        try:
            link = _Link(await self._open(), backlog=False)
        finally:
            self._opening = False
        self._link = link
        self._live = link.live
        self._reader = self._start_reader(link)
        self._opened.set()
        if self._policy is not None:
            self._supervisor = asyncio.create_task(self._supervise(), name="aiopikvm-ws-reconnect")

    async def _open(self) -> Connection:
        return await open_session(
            self.url,
            self._credentials,  # headers made inside, with a fresh TOTP code each time
            ssl_context=self._ssl,
            open_timeout=self.open_timeout,
            close_timeout=self.close_timeout,
            user_agent=f"aiopikvm/{__version__}",
            request=self._request,
        )

    async def aclose(self) -> None:
        """Release what this session holds, then close. Safe to call more than once.

        Bounded: releasing what is held, a last ping (kvmd drops input it has not read
        when a session closes) and the wait for the device's HID to apply what was sent
        take at most ``close_timeout`` together; the closing handshake at most
        ``close_timeout`` more, after which the connection is aborted. The events not yet
        read are discarded: :meth:`events` yields nothing after this."""
        reader = self._reader
        if reader is None or self._closing:
            return
        self._closing = True
        self._queue.clear()
        self._queued_bytes = 0
        try:
            if self._supervisor is not None:
                self._supervisor.cancel()
                await asyncio.wait([self._supervisor])
            link = self._link
            if link is not None:
                await self._goodbye(link)
                await self._close_link(link)
        finally:
            reader = self._reader
            if reader is not None:
                await asyncio.wait([reader], timeout=self.close_timeout)
                reader.cancel()
            self._finish()

    async def _goodbye(self, link: _Link) -> None:
        """Release what is held, and let the device take it in: within ``close_timeout``."""
        loop = asyncio.get_running_loop()
        deadline = None if self.close_timeout is None else loop.time() + self.close_timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._release_all()  # closing does not wait for typing to end
                # kvmd drops input it has queued but not yet read when a session closes;
                # a ping round trip shows it has read everything sent before it.
                started = loop.time()
                await self._round_trip(link, None)
                late = loop.time() - started
        except (PiKVMError, TimeoutError) as exc:
            logger.debug("releasing before close failed: %s", exc or "close_timeout passed")
            return
        # ... but not that its HID has applied it: give the queue time to drain. Its HID
        # starts on input when kvmd reads it, which can be up to that round trip later than
        # it was sent (the ping waited behind it).
        drain = self._hid_idle_at - time.monotonic()
        if drain > 0:
            drain += late
        if deadline is not None:
            drain = min(drain, deadline - loop.time())
        if drain > 0:
            await asyncio.sleep(drain)

    async def _close_link(self, link: _Link) -> None:
        """The closing handshake, within ``close_timeout``; past it, the connection is
        aborted (websockets' own ``close_timeout`` does not cover a stalled send)."""
        try:
            async with asyncio.timeout(self.close_timeout):
                await link.conn.close()
        except TimeoutError:
            logger.warning(
                "%s: the closing handshake did not finish within close_timeout (%s s); "
                "the connection was aborted",
                self._request,
                self.close_timeout,
            )
            link.conn.transport.abort()

    # ----- reconnecting -------------------------------------------------------------------

    async def _supervise(self) -> None:
        assert self._policy is not None
        stable_after = self._policy.stable_after
        tried = 0  # attempts of the outage so far, when a new connection did not stay up
        while True:
            reader = self._reader
            assert reader is not None
            await asyncio.wait([reader])
            if self._closing:
                return
            reconnected_at = self._reconnected_at
            up = None if reconnected_at is None else time.monotonic() - reconnected_at
            if up is None or up >= stable_after:
                tried = 0  # it stayed up: this is a new outage
            try:
                tried = await self._reconnect(self._drop or self._closed(), tried, up)
            except ReconnectFailedError as error:
                logger.error("%s", error)
                self._close_error = error
                self._finish()
                return

    async def _reconnect(self, drop: ConnectionClosedError, tried: int, up: float | None) -> int:
        """Connect again; the attempts of the outage so far (``tried`` and these)."""
        policy = self._policy
        assert policy is not None
        if tried:
            if tried >= policy.attempts:
                raise ReconnectFailedError(
                    f"{drop.message}; reconnecting failed after {tried} attempt(s): each new "
                    f"connection dropped within stable_after ({policy.stable_after} s)",
                    code=drop.code,
                    reason=drop.reason,
                    attempts=tried,
                    last_error=drop,
                    request=self._request,
                )
            logger.warning(
                "%s, %.2f s after reconnecting (less than stable_after, %s s): attempt %d of "
                "%d after a backoff",
                drop,
                up or 0.0,
                policy.stable_after,
                tried + 1,
                policy.attempts,
            )
        else:
            logger.warning("%s; reconnecting", drop)
        started = time.monotonic()
        attempts = tried

        async def attempt() -> _Link:
            nonlocal attempts
            attempts += 1
            # The new connection's events wait until it is known to work, so that the marker
            # comes before them and a connection that dies at once leaves no trace.
            link = _Link(await self._open(), backlog=True)
            self._start_reader(link)
            try:
                # kvmd released everything when the old connection closed; say so explicitly
                # before anything else is typed.
                for key in reversed(list(self._held_keys)):
                    await self._write(link, self._encode(KeyInput(key, False)))
                    self._held_keys.pop(key, None)
                for button in list(self._held_buttons):
                    await self._write(link, self._encode(MouseButtonInput(button, False)))
                    self._held_buttons.pop(button, None)
                # kvmd sends its state before it answers: after this, the state is complete.
                await self._round_trip(link, self.open_timeout)
            except BaseException:
                link.conn.transport.abort()
                raise
            return link

        released = [*self._held_keys, *self._held_buttons]
        try:
            link = await policy.retry(attempt, tried=tried)
        except PiKVMError as error:
            raise ReconnectFailedError(
                f"{drop.message}; reconnecting failed after {attempts} attempt(s): {error}",
                code=drop.code,
                reason=drop.reason,
                attempts=attempts,
                last_error=error,
                request=self._request,
            ) from None
        downtime = time.monotonic() - started
        marker = {
            "attempts": attempts,
            "downtime": round(downtime, 3),
            "code": drop.code,
            "reason": drop.reason,
            "released": released,
        }
        self._push(
            {"event_type": RECONNECTED, "event": marker}, len(encode_event(RECONNECTED, marker))
        )
        for event, size in link.backlog or ():
            self._push(event, size)
        link.backlog = None
        self._live = link.live
        self._reader = link.reader
        self._link = link
        self._reconnected_at = time.monotonic()
        self._clears += 1
        self._hid_idle_at = 0.0  # kvmd threw its queue away with the old connection
        self.reconnects += 1
        self._opened.set()
        self._notify_state_waiters()
        logger.warning(
            "%s: reconnected after %d attempt(s), %.1f s without a connection",
            self._request,
            attempts,
            downtime,
        )
        return attempts

    async def _until_open(self) -> _Link:
        """The open connection, once there is one; raises when the session is over."""
        while True:
            link = self._link
            if link is not None:
                return link
            if self._finished:
                raise self._closed()
            await self._opened.wait()

    # ----- reading ------------------------------------------------------------------------

    def _start_reader(self, link: _Link) -> asyncio.Task[None]:
        link.reader = asyncio.create_task(self._read_loop(link), name="aiopikvm-ws-reader")
        return link.reader

    async def _read_loop(self, link: _Link) -> None:
        merged = link.live.merged
        inbox = link.conn.inbox
        watch = QueueWatch(stream=self.stream, partial_count=self._partial_count)
        closed: websockets.ConnectionClosed | None = None
        frames = 0
        try:
            while True:
                received = inbox.pop() or await inbox.next()
                message, size = received
                frames += 1
                if frames % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # a flood of frames must not starve the loop
                if isinstance(message, bytes):
                    if message == PONG_FRAME:
                        _resolve_ping(link, self._clears)
                    continue
                try:
                    event_type, event = parse_event(message)
                except ProtocolError as exc:
                    link.malformed.warn(f"ignoring a frame from the device: {exc}")
                    continue
                if event_type == "pong":
                    _resolve_ping(link, self._clears)
                elif watch.loses_queue(event_type, event):
                    self._clears += 1
                self._partial_count |= watch.partial_count
                try:
                    merged.merge(event_type, event, message)
                except ProtocolError as exc:
                    link.refused.warn(f"{self._request}: {exc}")
                queued = {"event_type": event_type, "event": event}
                if link.backlog is None:
                    self._push(queued, size)
                else:
                    link.backlog.append((queued, size))
                self._notify_state_waiters()
        except websockets.ConnectionClosed as exc:
            closed = exc
        finally:
            self._connection_ended(link, closed)

    def _connection_ended(self, link: _Link, closed: websockets.ConnectionClosed | None) -> None:
        for tally in (link.malformed, link.refused, link.live.invalid):
            tally.summary(self._request)
        error = self._close_error_of(link, closed)
        _fail_pings(link, error)
        if link is not self._link:
            return  # a reconnect's attempt: the attempt sees it fail
        self._link = None
        if self._closing:
            self._finish()
        elif self._policy is None:
            self._close_error = error
            logger.warning("%s", error)
            self._finish()
        else:
            self._drop = error
            self._opened.clear()
            self._notify_state_waiters()

    def _close_error_of(
        self, link: _Link, closed: websockets.ConnectionClosed | None
    ) -> ConnectionClosedError:
        """How the connection ended: the close frame received, or else the one this side
        sent (a frame too big: 1009), or else none (1006, the link died)."""
        sent_by_us = False
        code: int | None
        if closed is not None and closed.rcvd is not None:
            code, reason = closed.rcvd.code, closed.rcvd.reason
        elif closed is not None and closed.sent is not None:
            code, reason, sent_by_us = closed.sent.code, closed.sent.reason, True
        else:  # no close frame either way: the link died (or the reader was stopped)
            code, reason = (1006 if closed is not None else None), ""
        why = f"code {code}, {reason}" if reason else f"code {code}"
        if sent_by_us:
            why += "; sent by this side"
        if getattr(link.conn, "overflowed", False):
            why += (
                "; the device kept sending pings and read none of the answers (more than "
                f"{WRITE_BUFFER_LIMIT} bytes waited to be sent)"
            )
        return ConnectionClosedError(
            f"{self._request}: the WebSocket closed ({why})",
            code=code,
            reason=reason,
            request=self._request,
        )

    def _finish(self) -> None:
        """Wake everything that waits on the session: it is over."""
        self._opened.set()
        self._queue_ready.set()
        self._notify_state_waiters()
        if self._link is not None:
            _fail_pings(self._link, self._closed())

    def _push(self, event: dict[str, Any], size: int) -> None:
        if self._closing:
            return  # nobody will read it: events() yields nothing after aclose()
        queue = self._queue
        queue.append((event, size))
        self._queued_bytes += size
        while len(queue) > self._max_queue or (
            self._queued_bytes > MAX_QUEUE_BYTES and len(queue) > 1
        ):
            self._queued_bytes -= queue.popleft()[1]
            self.dropped_events += 1
            if self.dropped_events == 1:
                logger.warning(
                    "event queue full (%d events or %d bytes): dropping the oldest events; "
                    "read events() or raise max_queue",
                    self._max_queue,
                    MAX_QUEUE_BYTES,
                )
        self._queue_ready.set()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every server message as ``{"event_type": ..., "event": {...}}``, in order.

        The first are the full-state burst that follows a connect, then partial updates.
        Ends when the session is closed by this side; raises :class:`ConnectionClosedError`
        if the device or the network closed it — after the events received before that.
        Once :meth:`aclose` has begun it yields nothing more: the events not yet read
        describe a session that is over, and are discarded.

        With ``reconnect``, it goes on across reconnects: each new connection's events are
        preceded by ``{"event_type": "reconnected", "event": {"attempts": n, "downtime": s,
        "code": c, "reason": r, "released": [...]}}`` — the connects tried in this outage,
        the seconds without a connection, the close code and reason of the drop, and the
        keys and buttons that were held and have been released. Then come the new
        connection's full-state burst and its updates. When reconnecting fails, it raises
        :class:`ReconnectFailedError`.
        """
        while True:
            if self._queue:
                event, size = self._queue.popleft()
                self._queued_bytes -= size
                yield event
                continue
            if self._finished:
                if self._close_error is not None:
                    raise self._close_error
                return
            self._queue_ready.clear()
            await self._queue_ready.wait()

    @property
    def state(self) -> DeviceState:
        """The device state as merged from every event received so far (see kvmd's merge
        rules). A subsystem is ``None`` until its first event arrives. An event after which
        a subsystem does not have kvmd's shape is logged, and the subsystem keeps its last
        valid state until an event makes it valid again; one that would take a subsystem
        past :data:`~aiopikvm.protocol.merge.MAX_STATE_BYTES` is logged and ignored. After
        a reconnect, it is the new connection's, read afresh. What changed is validated
        when the state is read, so that a stream of events costs no more than reading it."""
        return DeviceState.model_construct(**self._live.validated())

    # ----- input --------------------------------------------------------------------------

    def _encode(self, message: Input) -> _Frame:
        return encode_binary(message) if self.binary else encode_json(message)

    @property
    def hid_event_time(self) -> float:
        """Seconds the device's HID takes per input event (a key's press or release, a
        mouse event); 0.025 unless set, what kvmd's slowest backends need (a CH9329 chip at
        9600 baud).

        kvmd throws away the input still queued for its HID when a session closes, and
        nothing it sends says when that queue is empty, so closing waits until input sent
        at this pace can have been applied (at most ``close_timeout``), counted from when
        it was sent. On a USB OTG PiKVM whose host takes a report every millisecond, 0.0015
        lets a session close soon after a burst of raw input. Leave a margin: the HID starts
        on input only once kvmd has read it, which a burst delays; a value as small as the
        device's time, or smaller, loses the end of such a burst. :meth:`type_text` paces
        itself with its ``delay``.
        """
        return self._event_time

    @hid_event_time.setter
    def hid_event_time(self, seconds: float) -> None:
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 <= seconds < float("inf")
        ):
            raise InvalidInputError(
                f"hid_event_time must be a number of seconds >= 0, got {seconds!r}"
            )
        self._event_time = float(seconds)

    async def _send(self, frame: _Frame, events: int = 1) -> None:
        link = self._link
        if link is None:
            raise self._not_open()
        # Counted before the send: a cancelled send may still reach the device.
        pace = self._event_time if self._typing_pace is None else self._typing_pace
        self._hid_idle_at = max(self._hid_idle_at, time.monotonic()) + events * pace
        await self._write(link, frame)

    async def _write(self, link: _Link, frame: _Frame, *, bounded: bool = True) -> None:
        """Send ``frame``, waiting at most ``close_timeout`` for the link to take it (not
        ``bounded``: the caller's own deadline covers the write)."""
        try:
            async with asyncio.timeout(self.close_timeout if bounded else None), link.sending:
                await link.conn.send(frame)
        except TimeoutError:
            # websockets has handed the frame over whole before it waits for room: it may
            # still arrive, if the link recovers.
            raise PiKVMTimeoutError(
                f"{self._request}: the link took no frame within close_timeout "
                f"({self.close_timeout} s): it is stalled; what was sent may still arrive",
                request=self._request,
            ) from None
        except websockets.ConnectionClosed as exc:
            raise ConnectionClosedError(
                f"{self._request}: the WebSocket closed while sending",
                code=exc.rcvd.code if exc.rcvd else None,
                request=self._request,
            ) from None

    def _not_open(self) -> ConnectionClosedError:
        if self._finished:
            return self._closed()
        return ConnectionClosedError(
            f"{self._request}: the session is reconnecting", request=self._request
        )

    async def send_key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """Press (``state=True``), release (``False``) or tap (``None``) a key.

        ``key`` is a physical key named like ``KeyboardEvent.code`` (``"KeyA"``, ``"Enter"``,
        ``"ShiftLeft"``). ``finish=True`` on a press asks kvmd to release the key right
        after — one frame per tap, and no stuck auto-repeat if the network stalls — except
        for modifiers and PrintScreen, which kvmd leaves down. A tap uses ``finish``.
        While :meth:`type_text` or :meth:`send_shortcut` runs on the session (in another
        task), the key waits for it to end.
        """
        check_key(key)
        check_optional_bool(state, "state")
        check_bool(finish, "finish")
        async with self._lock():  # before waiting: a bad key is refused at once
            await self._key(key, state, finish=finish)

    async def _key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """:meth:`send_key` without the input lock: for those who hold it, and clean-ups."""
        # A key counts as held from before its press is sent until after its release is: a
        # cancelled send may still reach the device.
        if state is None:
            press = self._encode(KeyInput(key, True, finish=True))
            if key in FINISH_EXEMPT:  # kvmd leaves it down: the tap needs a release
                release = self._encode(KeyInput(key, False))
                self._held_keys[key] = None
                await self._send(press)
                await self._send(release)
            else:
                await self._send(press, events=2)  # kvmd adds the release
            self._held_keys.pop(key, None)  # the tap ends with the key up, held or not
            return
        frame = self._encode(KeyInput(key, state, finish))
        if state and not (finish and key not in FINISH_EXEMPT):
            self._held_keys[key] = None
        await self._send(frame, events=2 if state and finish and key not in FINISH_EXEMPT else 1)
        if not state:
            self._held_keys.pop(key, None)

    async def send_mouse_button(self, button: str, state: bool | None = None) -> None:
        """Press (``True``), release (``False``) or click (``None``) ``left``, ``right``,
        ``middle``, ``up`` or ``down`` (the side buttons). Mouse input, too, waits for
        typing running on the session to end."""
        check_button(button)
        check_optional_bool(state, "state")
        async with self._lock():
            await self._mouse_button(button, state)

    async def _mouse_button(self, button: str, state: bool | None = None) -> None:
        press = self._encode(MouseButtonInput(button, True))
        release = self._encode(MouseButtonInput(button, False))
        if state is not False:
            self._held_buttons[button] = None  # before the press: see send_key
            await self._send(press)
        if state is not True:
            await self._send(release)
            self._held_buttons.pop(button, None)

    async def send_mouse_move(self, x: int, y: int) -> None:
        """Move the pointer to an absolute position: -32768..32767 on each axis, (0, 0) is
        the centre of the screen."""
        check_position(x, "x")
        check_position(y, "y")
        await self._send_locked(self._encode(MouseMoveInput(x, y)))

    async def send_mouse_relative(self, dx: int, dy: int) -> None:
        """Move the pointer by -127..127 on each axis (for relative mice)."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        await self._send_locked(self._encode(MouseRelativeInput(((dx, dy),))))

    async def send_mouse_wheel(self, dx: int, dy: int) -> None:
        """Scroll by -127..127 steps on each axis."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        await self._send_locked(self._encode(MouseWheelInput(((dx, dy),))))

    async def _send_locked(self, frame: _Frame) -> None:
        async with self._lock():
            await self._send(frame)

    async def release_all(self) -> None:
        """Release every key (last pressed first) and button this session holds."""
        async with self._lock():
            await self._release_all()

    async def _release_all(self) -> None:
        for key in reversed(list(self._held_keys)):
            await self._key(key, False)
        for button in list(self._held_buttons):
            await self._mouse_button(button, False)

    @property
    def held_keys(self) -> tuple[str, ...]:
        """Keys pressed through this session and not released, in the order pressed."""
        return tuple(self._held_keys)

    @property
    def held_buttons(self) -> tuple[str, ...]:
        return tuple(self._held_buttons)

    async def ping(self, timeout: float | None = 10.0) -> float:
        """Round-trip time in seconds of a ping answered by kvmd (binary or JSON, as the
        session's input). Raises :class:`PiKVMTimeoutError` if no answer comes within
        ``timeout`` seconds, writing the ping included (a stalled link takes none)."""
        check_timeout(timeout, none_ok=True)
        link = self._link
        if link is None:
            raise self._not_open()
        started = time.perf_counter()
        await self._round_trip(link, timeout)
        return time.perf_counter() - started

    async def _send_ping(self, link: _Link, *, bounded: bool = True) -> asyncio.Future[int]:
        """Write a ping (see :meth:`_write`); the future gets :attr:`_clears` as it was when
        the answer came."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Queued before the write: its answer may come before the write returns. Never taken
        # out but by an answer or the end of the connection, so answers stay matched.
        link.pings.append(future)
        try:
            await self._write(link, self._ping_frame, bounded=bounded)
        except BaseException:
            future.cancel()
            raise
        return future

    async def _round_trip(self, link: _Link, timeout: float | None) -> int:
        """A ping written and answered, both within ``timeout``."""
        future: asyncio.Future[int] | None = None
        try:
            async with asyncio.timeout(timeout):
                future = await self._send_ping(link, bounded=False)
                return await future
        except TimeoutError:
            raise PiKVMTimeoutError(
                f"{self._request}: no answer to a ping within {timeout} s", request=self._request
            ) from None
        finally:
            if future is not None:
                future.cancel()  # its answer, if it comes, is still matched to it


def _resolve_ping(link: _Link, clears: int) -> None:
    if link.pings:
        future = link.pings.popleft()
        if not future.done():  # cancelled: nobody waits for this answer any more
            future.set_result(clears)


def _fail_pings(link: _Link, error: ConnectionClosedError) -> None:
    while link.pings:
        future = link.pings.popleft()
        if not future.done():
            future.set_exception(error)
