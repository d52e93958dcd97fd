"""``PiKVMWebSocket``: one ``/api/ws`` session — events in, keyboard and mouse out."""

from __future__ import annotations

import asyncio
import collections
import logging
import ssl
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection

from ._exceptions import (
    ConnectionClosedError,
    InvalidInputError,
    PiKVMError,
    PiKVMTimeoutError,
    ProtocolError,
    RequestInfo,
)
from ._version import __version__
from ._ws_actions import SessionActions
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
from .transport.http import error_from_response, transport_error
from .transport.tls import VerifySSL, make_ssl_context
from .transport.ws_connect import connect

logger = logging.getLogger("aiopikvm")

DEFAULT_MAX_QUEUE: Final = 1024

_STATE_TYPES: Final[dict[str, Any]] = {
    name: field.annotation for name, field in DeviceState.model_fields.items()
}


def ws_url(url: str, stream: bool) -> str:
    """``https://host[/prefix]`` -> ``wss://host[/prefix]/api/ws?stream=0|1``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "ws", "wss") or not parts.hostname:
        raise InvalidInputError(f"not a device URL: {url!r} (expected https://host)")
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    path = parts.path.rstrip("/") + "/api/ws"
    return urlunsplit((scheme, parts.netloc, path, f"stream={int(stream)}", ""))


def _check_stream(stream: object) -> bool:
    if isinstance(stream, bool) or (isinstance(stream, int) and stream in (0, 1)):
        return bool(stream)
    raise InvalidInputError(f"stream must be a bool or 0/1, got {stream!r}")


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
    ) -> None:
        self._init(
            url,
            Credentials(user, passwd, totp_secret),
            make_ssl_context(verify_ssl) if url.startswith(("https:", "wss:")) else None,
            stream=stream,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            binary=binary,
            max_queue=max_queue,
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
    ) -> None:
        if isinstance(max_queue, bool) or not isinstance(max_queue, int) or max_queue < 1:
            raise InvalidInputError(f"max_queue must be a positive int, got {max_queue!r}")
        self.url = ws_url(url, _check_stream(stream))
        self.stream = bool(stream)
        self.binary = binary
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self._credentials = credentials
        self._ssl = ssl_context
        self._request = RequestInfo("GET", self.url)
        self._conn: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._raw_state: dict[str, Any] = {}
        self._models: dict[str, Any] = {}
        self._queue: collections.deque[dict[str, Any]] = collections.deque(maxlen=max_queue)
        self._queue_ready = asyncio.Event()
        self._pings: collections.deque[asyncio.Future[None]] = collections.deque()
        self._held_keys: dict[str, None] = {}  # insertion-ordered set
        self._held_buttons: dict[str, None] = {}
        self._closing = False
        self._close_error: ConnectionClosedError | None = None
        self.dropped_events = 0

    def __repr__(self) -> str:
        status = "open" if self.is_open else "closed"
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
        return self._conn is not None and self._reader is not None and not self._reader.done()

    async def connect(self) -> None:
        """Open the session (done by ``async with``)."""
        if self._conn is not None:
            raise InvalidInputError("this session is already connected; make a new one")
        try:
            self._conn = await connect(
                self.url,
                additional_headers=self._credentials.headers(),
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
        except (websockets.InvalidHandshake, OSError) as exc:
            raise transport_error(exc, self._request) from None
        self._reader = asyncio.create_task(self._read_loop(self._conn), name="aiopikvm-ws-reader")

    async def aclose(self) -> None:
        """Release what this session holds, then close. Safe to call more than once."""
        conn = self._conn
        if conn is None or self._closing:
            return
        self._closing = True
        try:
            if self.is_open:
                try:
                    await self.release_all()
                    # kvmd drops input it has queued but not yet read when a session closes; a
                    # ping round trip shows it has read everything sent before it.
                    await self.ping(timeout=self.close_timeout)
                except PiKVMError as exc:
                    logger.debug("releasing before close failed: %s", exc)
            await conn.close()
        finally:
            if self._reader is not None:
                await asyncio.wait([self._reader], timeout=self.close_timeout)
                self._reader.cancel()
            self._wake_all()

    # ----- reading ------------------------------------------------------------------------

    async def _read_loop(self, conn: ClientConnection) -> None:
        try:
            async for message in conn:
                if isinstance(message, bytes):
                    if message == PONG_FRAME:
                        self._resolve_ping()
                    continue
                try:
                    event_type, event = parse_event(message)
                except ProtocolError as exc:
                    logger.warning("ignoring a frame from the device: %s", exc)
                    continue
                if event_type == "pong":
                    self._resolve_ping()
                if merge_event(self._raw_state, event_type, event):
                    self._models.pop(event_type, None)
                self._push({"event_type": event_type, "event": event})
                self._notify_state_waiters()
        except websockets.ConnectionClosed:
            pass  # the close code is read below, however the iteration ended
        finally:
            if not self._closing:
                code, reason = conn.close_code, conn.close_reason or ""
                why = f"code {code}, {reason}" if reason else f"code {code}"
                self._close_error = ConnectionClosedError(
                    f"{self._request}: the WebSocket closed ({why})",
                    code=code,
                    reason=reason,
                    request=self._request,
                )
                logger.warning("%s", self._close_error)
            self._wake_all()

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

    def _wake_all(self) -> None:
        self._queue_ready.set()
        self._notify_state_waiters()
        error = self._close_error or ConnectionClosedError(
            f"{self._request}: the session was closed", request=self._request
        )
        while self._pings:
            future = self._pings.popleft()
            if not future.done():
                future.set_exception(error)

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every server message as ``{"event_type": ..., "event": {...}}``, in order.

        The first are the full-state burst that follows a connect, then partial updates.
        Ends when the session is closed by this side; raises :class:`ConnectionClosedError`
        if the device or the network closed it.
        """
        while True:
            if self._queue:
                yield self._queue.popleft()
                continue
            if self._reader is None or self._reader.done():
                if self._close_error is not None:
                    raise self._close_error
                return
            self._queue_ready.clear()
            await self._queue_ready.wait()

    @property
    def state(self) -> DeviceState:
        """The device state as merged from every event received so far (see kvmd's merge
        rules). A subsystem is ``None`` until its first event arrives."""
        models = {}
        for name, raw in self._raw_state.items():
            model = self._models.get(name)
            if model is None:
                model = parse(_STATE_TYPES[name], raw, f"{name!r} state")
                self._models[name] = model
            models[name] = model
        return DeviceState.model_construct(**models)

    # ----- input --------------------------------------------------------------------------

    async def _send(self, message: Input) -> None:
        frame = encode_binary(message) if self.binary else encode_json(message)
        conn = self._conn
        if conn is None or not self.is_open:
            raise self._close_error or ConnectionClosedError(
                f"{self._request}: the session is not open", request=self._request
            )
        try:
            await conn.send(frame)
        except websockets.ConnectionClosed as exc:
            raise ConnectionClosedError(
                f"{self._request}: the WebSocket closed while sending",
                code=exc.rcvd.code if exc.rcvd else None,
                request=self._request,
            ) from None

    async def send_key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """Press (``state=True``), release (``False``) or tap (``None``) a key.

        ``key`` is a physical key named like ``KeyboardEvent.code`` (``"KeyA"``, ``"Enter"``,
        ``"ShiftLeft"``). ``finish=True`` on a press asks kvmd to release the key right
        after — one frame per tap, and no stuck auto-repeat if the network stalls — except
        for modifiers and PrintScreen, which kvmd leaves down. A tap uses ``finish``.
        """
        if state is None:
            await self._send(KeyInput(key, True, finish=True))
            if key in FINISH_EXEMPT:
                await self._send(KeyInput(key, False))
            self._held_keys.pop(key, None)  # the tap ends with the key up, held or not
            return
        await self._send(KeyInput(key, state, finish))
        if state and not (finish and key not in FINISH_EXEMPT):
            self._held_keys[key] = None
        elif not state:
            self._held_keys.pop(key, None)

    async def send_mouse_button(self, button: str, state: bool | None = None) -> None:
        """Press (``True``), release (``False``) or click (``None``) ``left``, ``right``,
        ``middle``, ``up`` or ``down`` (the side buttons)."""
        if state is None:
            await self._send(MouseButtonInput(button, True))
            await self._send(MouseButtonInput(button, False))
            self._held_buttons.pop(button, None)
            return
        await self._send(MouseButtonInput(button, state))
        if state:
            self._held_buttons[button] = None
        else:
            self._held_buttons.pop(button, None)

    async def send_mouse_move(self, x: int, y: int) -> None:
        """Move the pointer to an absolute position: -32768..32767 on each axis, (0, 0) is
        the centre of the screen."""
        await self._send(MouseMoveInput(x, y))

    async def send_mouse_relative(self, dx: int, dy: int) -> None:
        """Move the pointer by -127..127 on each axis (for relative mice)."""
        await self._send(MouseRelativeInput(((dx, dy),)))

    async def send_mouse_wheel(self, dx: int, dy: int) -> None:
        """Scroll by -127..127 steps on each axis."""
        await self._send(MouseWheelInput(((dx, dy),)))

    async def release_all(self) -> None:
        """Release every key (last pressed first) and button this session holds."""
        for key in reversed(list(self._held_keys)):
            await self.send_key(key, False)
        for button in list(self._held_buttons):
            await self.send_mouse_button(button, False)

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
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings.append(future)
        started = time.perf_counter()
        try:
            await self._send(PingInput())
            async with asyncio.timeout(timeout):
                await future
        except TimeoutError:
            raise PiKVMTimeoutError(
                f"{self._request}: no answer to a ping within {timeout} s", request=self._request
            ) from None
        finally:
            if future in self._pings:
                self._pings.remove(future)
        return time.perf_counter() - started

    def _resolve_ping(self) -> None:
        while self._pings:
            future = self._pings.popleft()
            if not future.done():
                future.set_result(None)
                return
