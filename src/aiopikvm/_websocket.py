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
from typing import Any, Final, Self
from urllib.parse import urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection

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
    encode_json,
    parse_event,
)
from .protocol.keys import FINISH_EXEMPT
from .protocol.merge import merge_event
from .transport.auth import Credentials
from .transport.device_url import split_device_url
from .transport.http import error_from_response, transport_error
from .transport.retry import RetryPolicy
from .transport.tls import VerifySSL, make_ssl_context
from .transport.ws_connect import connect

logger = logging.getLogger("aiopikvm")

DEFAULT_MAX_QUEUE: Final = 1024
RECONNECTED: Final = "reconnected"
"""``event_type`` of the event :meth:`PiKVMWebSocket.events` yields when a ``reconnect``
session is connected again (kvmd has no event of that name)."""

_STATE_TYPES: Final[dict[str, Any]] = {
    name: field.annotation for name, field in DeviceState.model_fields.items()
}
_Frame = str | bytes


def ws_url(url: str, stream: bool) -> str:
    """``https://host[/prefix]`` -> ``wss://host[/prefix]/api/ws?stream=0|1``."""
    parts = split_device_url(url, ("http", "https", "ws", "wss"))
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    path = parts.path.rstrip("/") + "/api/ws"
    return urlunsplit((scheme, parts.netloc, path, f"stream={int(stream)}", ""))


def _check_stream(stream: object) -> bool:
    if isinstance(stream, bool) or (isinstance(stream, int) and stream in (0, 1)):
        return bool(stream)
    raise invalid("stream", "a bool or 0/1", stream)


class _Link:
    """One connection of a session, and what belongs to it alone."""

    __slots__ = ("backlog", "conn", "models", "pings", "raw", "reader")

    def __init__(
        self,
        conn: ClientConnection,
        raw: dict[str, Any],
        models: dict[str, Any],
        *,
        backlog: bool,
    ) -> None:
        self.conn = conn
        self.raw = raw  # the state its events are merged into
        self.models = models  # and the last valid model of each subsystem
        # Events held back until a reconnect knows the connection works; None: pushed.
        self.backlog: list[dict[str, Any]] | None = [] if backlog else None
        # One future per ping written, in order: each answer resolves the oldest.
        self.pings: collections.deque[asyncio.Future[int]] = collections.deque()
        self.reader: asyncio.Task[None] | None = None


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

    Use it as an async context manager. While open, a background task reads every frame —
    so kvmd's keep-alive pings are answered even when nobody iterates :meth:`events` — and
    folds the state events into :attr:`state`.

    Events wait in a queue of ``max_queue`` entries for :meth:`events`; when it is full the
    *oldest* event is dropped and :attr:`dropped_events` counts it. :attr:`state` is merged
    from every event either way, so it stays exact when events are dropped.

    Input is validated before it is sent (kvmd silently ignores what it cannot use) and goes
    out as kvmd's binary frames, or as JSON frames with ``binary=False``. Every key and
    mouse button pressed through the session and not released is released when the
    ``async with`` block ends — normally, by an exception or by cancellation.

    With ``reconnect=True`` (or a :class:`RetryPolicy`), a connection that ends without
    :meth:`aclose` is opened again, with the policy's backoff between failed attempts
    (``True``: :meth:`RetryPolicy.for_reconnects`). An authentication or TLS failure is
    never retried. Each attempt computes fresh credentials (a new TOTP code). Once
    connected again, the keys and buttons held at the drop are released explicitly, the
    device's state is read afresh, and :meth:`events` yields a ``"reconnected"`` event
    before the new connection's events; input sent while reconnecting raises
    :class:`ConnectionClosedError`, and :meth:`type_text` waits and resumes. When the
    attempts run out, :meth:`events` raises :class:`ReconnectFailedError`.
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
        secure = isinstance(url, str) and url.startswith(("https:", "wss:"))
        check_verify_ssl(verify_ssl)
        self._init(
            url,
            Credentials(user, passwd, totp_secret),
            make_ssl_context(verify_ssl) if secure else None,
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
        """A session sharing a :class:`PiKVM`'s credentials and TLS settings."""
        self = cls.__new__(cls)
        self._init(url, credentials, ssl_context, **options)
        return self

    def _init(
        self,
        url: str,
        credentials: Credentials,
        ssl_context: ssl.SSLContext | None,
        *,
        stream: bool | int,
        open_timeout: float | None,
        close_timeout: float | None,
        binary: bool,
        max_queue: int,
        reconnect: bool | RetryPolicy,
    ) -> None:
        check_int(max_queue, "max_queue", low=1, high=MAX_QUEUE)
        check_timeout(open_timeout, "open_timeout", none_ok=True)
        check_timeout(close_timeout, "close_timeout", none_ok=True)
        check_bool(binary, "binary")
        self.url = ws_url(url, _check_stream(stream))
        self.stream = bool(stream)
        self.binary = binary
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self._policy = _reconnect_policy(reconnect)
        self._credentials = credentials
        self._ssl = ssl_context
        self._request = RequestInfo("GET", self.url)
        self._ping_frame = self._encode(PingInput())
        # The open connection; None before connect(), while reconnecting and once closed.
        self._link: _Link | None = None
        self._reader: asyncio.Task[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._opened = asyncio.Event()  # set while open, and once the session is over
        self._models: dict[str, Any] = {}  # the state: each subsystem's last valid model
        self._queue: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_queue)
        self._queue_ready = asyncio.Event()
        self._held_keys: dict[str, None] = {}  # insertion-ordered set
        self._held_buttons: dict[str, None] = {}
        self._closing = False
        self._close_error: ConnectionClosedError | None = None
        self._drop: ConnectionClosedError | None = None
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
        """Open the session (done by ``async with``). The first connect is not retried."""
        if self._reader is not None:
            raise InvalidInputError("this session is already connected; make a new one")
        link = _Link(await self._open(), {}, self._models, backlog=False)
        self._link = link
        self._reader = self._start_reader(link)
        self._opened.set()
        if self._policy is not None:
            self._supervisor = asyncio.create_task(self._supervise(), name="aiopikvm-ws-reconnect")

    async def _open(self) -> ClientConnection:
        try:
            return await connect(
                self.url,
                additional_headers=self._credentials.headers(),  # a fresh TOTP code each time
                ssl=self._ssl,
                open_timeout=self.open_timeout,
                close_timeout=self.close_timeout,
                user_agent_header=f"aiopikvm/{__version__}",
                compression=None,  # frames are tiny; deflate would only cost CPU on the device
                max_queue=None,  # our reader drains it, and applies the queue policy itself
            )
        except websockets.InvalidStatus as exc:
            response = exc.response
            body = bytes(response.body or b"")
            raise error_from_response(response.status_code, body, self._request) from None
        except TimeoutError:
            raise PiKVMTimeoutError(
                f"{self._request}: no WebSocket handshake within {self.open_timeout} s",
                request=self._request,
            ) from None
        except websockets.InvalidURI as exc:
            raise InvalidInputError(f"bad WebSocket URL: {exc}") from None
        except websockets.InvalidProxy as exc:
            # Not str(exc): it shows the proxy URL, credentials included.
            raise InvalidInputError(
                f"{self._request}: the proxy configured in the environment is not usable: {exc.msg}"
            ) from None
        except (websockets.InvalidHandshake, OSError) as exc:
            raise transport_error(exc, self._request) from None

    async def aclose(self) -> None:
        """Release what this session holds, then close. Safe to call more than once."""
        reader = self._reader
        if reader is None or self._closing:
            return
        self._closing = True
        try:
            if self._supervisor is not None:
                self._supervisor.cancel()
                await asyncio.wait([self._supervisor])
            link = self._link
            if link is not None:
                try:
                    await self._release_all()  # closing does not wait for typing to end
                    # kvmd drops input it has queued but not yet read when a session closes;
                    # a ping round trip shows it has read everything sent before it.
                    late = await self.ping(timeout=self.close_timeout)
                    # ... but not that its HID has applied it: give the queue time to drain.
                    # Its HID starts on input when kvmd reads it, which can be up to that
                    # round trip later than it was sent (the ping waited behind it).
                    drain = self._hid_idle_at - time.monotonic()
                    if drain > 0:
                        drain += late
                        cap = self.close_timeout
                        await asyncio.sleep(drain if cap is None else min(drain, cap))
                except PiKVMError as exc:
                    logger.debug("releasing before close failed: %s", exc)
                await link.conn.close()
        finally:
            reader = self._reader
            if reader is not None:
                await asyncio.wait([reader], timeout=self.close_timeout)
                reader.cancel()
            self._finish()

    # ----- reconnecting -------------------------------------------------------------------

    async def _supervise(self) -> None:
        while True:
            reader = self._reader
            assert reader is not None
            await asyncio.wait([reader])
            if self._closing:
                return
            try:
                await self._reconnect(self._drop or self._closed())
            except ReconnectFailedError as error:
                logger.error("%s", error)
                self._close_error = error
                self._finish()
                return

    async def _reconnect(self, drop: ConnectionClosedError) -> None:
        assert self._policy is not None
        logger.warning("%s; reconnecting", drop)
        started = time.monotonic()
        attempts = 0

        async def attempt() -> _Link:
            nonlocal attempts
            attempts += 1
            # The new connection's events wait until it is known to work, so that the marker
            # comes before them and a connection that dies at once leaves no trace.
            link = _Link(await self._open(), {}, {}, backlog=True)
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
                # kvmd sends its state before it answers: after this, link.raw is complete.
                await self._round_trip(link, self.open_timeout)
            except BaseException:
                link.conn.transport.abort()
                raise
            return link

        released = [*self._held_keys, *self._held_buttons]
        try:
            link = await self._policy.retry(attempt)
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
        self._push(
            {
                "event_type": RECONNECTED,
                "event": {
                    "attempts": attempts,
                    "downtime": round(downtime, 3),
                    "code": drop.code,
                    "reason": drop.reason,
                    "released": released,
                },
            }
        )
        for event in link.backlog or ():
            self._push(event)
        link.backlog = None
        self._models = link.models
        self._reader = link.reader
        self._link = link
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
        raw, models = link.raw, link.models
        watch = QueueWatch(stream=self.stream, partial_count=self._partial_count)
        try:
            async for message in link.conn:
                if isinstance(message, bytes):
                    if message == PONG_FRAME:
                        _resolve_ping(link, self._clears)
                    continue
                try:
                    event_type, event = parse_event(message)
                except ProtocolError as exc:
                    logger.warning("ignoring a frame from the device: %s", exc)
                    continue
                if event_type == "pong":
                    _resolve_ping(link, self._clears)
                elif watch.loses_queue(event_type, event):
                    self._clears += 1
                self._partial_count |= watch.partial_count
                if merge_event(raw, event_type, event):
                    try:
                        models[event_type] = parse(
                            _STATE_TYPES[event_type], raw[event_type], f"{event_type!r} state"
                        )
                    except ProtocolError as exc:
                        logger.warning("%s; keeping the last valid %s state", exc, event_type)
                if link.backlog is None:
                    self._push({"event_type": event_type, "event": event})
                else:
                    link.backlog.append({"event_type": event_type, "event": event})
                self._notify_state_waiters()
        except websockets.ConnectionClosed:
            pass  # the close code is read below, however the iteration ended
        finally:
            self._connection_ended(link)

    def _connection_ended(self, link: _Link) -> None:
        conn = link.conn
        code, reason = conn.close_code, conn.close_reason or ""
        why = f"code {code}, {reason}" if reason else f"code {code}"
        error = ConnectionClosedError(
            f"{self._request}: the WebSocket closed ({why})",
            code=code,
            reason=reason,
            request=self._request,
        )
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

    def _finish(self) -> None:
        """Wake everything that waits on the session: it is over."""
        self._opened.set()
        self._queue_ready.set()
        self._notify_state_waiters()
        if self._link is not None:
            _fail_pings(self._link, self._closed())

    def _push(self, event: dict[str, Any]) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.dropped_events += 1
            if self.dropped_events == 1:
                logger.warning(
                    "event queue full (%d): dropping the oldest events; read events() or raise "
                    "max_queue",
                    self._queue.maxlen,
                )
        self._queue.append(event)
        self._queue_ready.set()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every server message as ``{"event_type": ..., "event": {...}}``, in order.

        The first are the full-state burst that follows a connect, then partial updates.
        Ends when the session is closed by this side; raises :class:`ConnectionClosedError`
        if the device or the network closed it.

        With ``reconnect``, it goes on across reconnects: each new connection's events are
        preceded by ``{"event_type": "reconnected", "event": {"attempts": n, "downtime": s,
        "code": c, "reason": r, "released": [...]}}`` — the connects it took, the seconds
        without a connection, the close code and reason of the drop, and the keys and
        buttons that were held and have been released. Then come the new connection's
        full-state burst and its updates. When reconnecting fails, it raises
        :class:`ReconnectFailedError`.
        """
        while True:
            if self._queue:
                yield self._queue.popleft()
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
        valid state until an event makes it valid again. After a reconnect, it is the new
        connection's, read afresh."""
        return DeviceState.model_construct(**self._models)

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

    async def _write(self, link: _Link, frame: _Frame) -> None:
        try:
            await link.conn.send(frame)
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
        session's input). Raises :class:`PiKVMTimeoutError` if no answer comes in time."""
        check_timeout(timeout, none_ok=True)
        link = self._link
        if link is None:
            raise self._not_open()
        started = time.perf_counter()
        await self._round_trip(link, timeout)
        return time.perf_counter() - started

    async def _send_ping(self, link: _Link) -> asyncio.Future[int]:
        """Write a ping; the future gets :attr:`_clears` as it was when the answer came."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        # Queued before the write: its answer may come before the write returns. Never taken
        # out but by an answer or the end of the connection, so answers stay matched.
        link.pings.append(future)
        try:
            await self._write(link, self._ping_frame)
        except BaseException:
            future.cancel()
            raise
        return future

    async def _round_trip(self, link: _Link, timeout: float | None) -> int:
        future = await self._send_ping(link)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise PiKVMTimeoutError(
                f"{self._request}: no answer to a ping within {timeout} s", request=self._request
            ) from None
        finally:
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
