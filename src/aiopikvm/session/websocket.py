"""``PiKVMWebSocket``: one ``/api/ws`` session — events in, keyboard and mouse out — that
can reopen itself when the connection drops. The public object over the session's parts:
its settings, state, queue, supervisor and input path."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from .._checks import (
    check_bool,
    check_button,
    check_delta,
    check_key,
    check_optional_bool,
    check_position,
    check_timeout,
    check_verify_ssl,
)
from .._typing_defaults import DEFAULT_TYPING_DELAY
from ..errors import InvalidInputError
from ..protocol.frames import MouseMoveInput, MouseRelativeInput, MouseWheelInput
from ..protocol.keys import KEYS
from ..transport.auth import Credentials
from ..transport.retry import RetryPolicy
from ..transport.tls import VerifySSL
from .actions import SessionActions
from .config import DEFAULT_MAX_QUEUE, SessionConfig
from .input import InputPath
from .link import round_trip
from .pointer import Pointer
from .queue import EventQueue
from .state import HidClock, SessionState
from .supervisor import Phase, Supervisor

if TYPE_CHECKING:
    from ..models import DeviceState


class PiKVMWebSocket(SessionActions, Pointer):
    """A session on kvmd's ``/api/ws``: the event stream and HID input.

    Use it as an async context manager; a session opens once (entering it again, even
    after it closed, raises :class:`InvalidInputError`: make a new one). While open, a
    background task reads every frame — so kvmd's keep-alive pings are answered even when
    nobody iterates :meth:`events` — and folds the state events into :attr:`state`.

    Events wait in a queue of ``max_queue`` entries and at most
    :data:`~aiopikvm.session.queue.MAX_QUEUE_BYTES` (their frames' sizes) for
    :meth:`events`; past either, the *oldest* event is dropped and :attr:`dropped_events`
    counts it. Until :meth:`events` is first iterated, only the newest
    :data:`~aiopikvm.session.queue.UNREAD_QUEUE_BYTES` (16 KiB: the connect burst and what
    followed) are kept, so that a session nobody reads costs little. :attr:`state` is
    merged from every event either way, so it stays exact when events are dropped.

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
            SessionConfig.build(
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
        verify: VerifySSL = ssl_context if ssl_context is not None else True
        self._init(SessionConfig.build(url, credentials, verify, **options))
        return self

    def _init(self, config: SessionConfig) -> None:
        self._config = config
        state = SessionState()
        clock = HidClock(DEFAULT_TYPING_DELAY)
        self._queue = EventQueue(config.max_queue)
        self._run = Supervisor(config, state, self._queue, clock)
        self._input = InputPath(config, state, clock, self._run)

    def __repr__(self) -> str:
        user = self._config.credentials.user
        return f"<PiKVMWebSocket {self.url} user={user!r} {self._run.phase.value}>"

    # ----- settings and counters ----------------------------------------------------------

    @property
    def url(self) -> str:
        """The session's ``ws://`` or ``wss://`` URL of ``/api/ws``, with ``?stream=``."""
        return self._config.url

    @property
    def stream(self) -> bool:
        return self._config.stream

    @property
    def binary(self) -> bool:
        return self._config.binary

    @property
    def open_timeout(self) -> float | None:
        return self._config.open_timeout

    @property
    def close_timeout(self) -> float | None:
        return self._config.close_timeout

    @property
    def dropped_events(self) -> int:
        """Events dropped from a full queue (see the class)."""
        return self._queue.dropped

    @property
    def reconnects(self) -> int:
        """Times the session has been connected again after a drop."""
        return self._run.reconnects

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
        return self._run.phase is Phase.OPEN

    async def connect(self) -> None:
        """Open the session (done by ``async with``). The first connect is not retried.

        A session opens once: once it has been open, connecting again raises
        :class:`InvalidInputError` — make a new session instead. One whose opening failed
        may be opened again."""
        await self._run.connect()

    async def aclose(self) -> None:
        """Release what this session holds, then close. Safe to call more than once.

        Bounded: releasing what is held, a last ping (kvmd drops input it has not read
        when a session closes) and the wait for the device's HID to apply what was sent
        take at most ``close_timeout`` together; the closing handshake at most
        ``close_timeout`` more, after which the connection is aborted. The events not yet
        read are discarded: :meth:`events` yields nothing after this."""
        await self._run.aclose(self._input.release_all)

    # ----- events and state ---------------------------------------------------------------

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
        queue, run = self._queue, self._run
        queue.start_reading()  # from now on events wait parsed, up to the full bounds
        while True:
            if queue:
                yield queue.pop()
                continue
            if run.finished:
                if run.close_error is not None:
                    raise run.close_error
                return
            queue.ready.clear()
            await queue.ready.wait()

    @property
    def state(self) -> DeviceState:
        """The device state as merged from every event received so far (see kvmd's merge
        rules). A subsystem is ``None`` until its first event arrives. An event after which
        a subsystem does not have kvmd's shape is logged, and the subsystem keeps its last
        valid state until an event makes it valid again; one that would take a subsystem
        past :data:`~aiopikvm.protocol.merge.MAX_STATE_BYTES` is logged and ignored. After
        a reconnect, it is the new connection's, read afresh. What changed is validated
        when the state is read, so that a stream of events costs no more than reading it."""
        return self._run.state.live.device_state()

    # ----- input --------------------------------------------------------------------------

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
        return self._input.clock.event_time

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
        self._input.clock.event_time = float(seconds)

    async def send_key(self, key: str, state: bool | None = None, *, finish: bool = False) -> None:
        """Press (``state=True``), release (``False``) or tap (``None``) a key.

        ``key`` is a physical key named like ``KeyboardEvent.code`` (``"KeyA"``, ``"Enter"``,
        ``"ShiftLeft"``). ``finish=True`` on a press asks kvmd to release the key right
        after — one frame per tap, and no stuck auto-repeat if the network stalls — except
        for modifiers and PrintScreen, which kvmd leaves down. A tap uses ``finish``.
        While :meth:`type_text` or :meth:`send_shortcut` runs on the session (in another
        task), the key waits for it to end.
        """
        if type(key) is not str or key not in KEYS:
            check_key(key)  # raises; the test above is the hot path's
        if state is not None and state is not True and state is not False:
            check_optional_bool(state, "state")  # raises; the test above is the hot path's
        if finish is not False and finish is not True:
            check_bool(finish, "finish")
        inp = self._input
        lock = inp.lock  # taken after the checks: a bad key is refused at once
        if lock.try_hold():  # nearly always: nobody holds the input, nobody waits
            try:
                await inp.key(key, state, finish=finish)
            finally:
                lock.release()
        else:
            async with lock:
                await inp.key(key, state, finish=finish)

    async def send_mouse_button(self, button: str, state: bool | None = None) -> None:
        """Press (``True``), release (``False``) or click (``None``) ``left``, ``right``,
        ``middle``, ``up`` or ``down`` (the side buttons). Mouse input, too, waits for
        typing running on the session to end."""
        check_button(button)
        check_optional_bool(state, "state")
        await self._button(button, state)

    async def send_mouse_move(self, x: int, y: int) -> None:
        """Move the pointer to an absolute position: -32768..32767 on each axis, (0, 0) is
        the centre of the screen."""
        check_position(x, "x")
        check_position(y, "y")
        await self._input.locked(self._input.encode(MouseMoveInput(x, y)))

    async def send_mouse_relative(self, dx: int, dy: int) -> None:
        """Move the pointer by -127..127 on each axis (for relative mice)."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        await self._input.locked(self._input.encode(MouseRelativeInput(((dx, dy),))))

    async def send_mouse_wheel(self, dx: int, dy: int) -> None:
        """Scroll by -127..127 steps on each axis."""
        check_delta(dx, "dx")
        check_delta(dy, "dy")
        await self._input.locked(self._input.encode(MouseWheelInput(((dx, dy),))))

    async def release_all(self) -> None:
        """Release every key (last pressed first) and button this session holds."""
        async with self._input.lock:
            await self._input.release_all()

    @property
    def held_keys(self) -> tuple[str, ...]:
        """Keys pressed through this session and not released, in the order pressed."""
        return tuple(self._input.state.held_keys)

    @property
    def held_buttons(self) -> tuple[str, ...]:
        return tuple(self._input.state.held_buttons)

    async def ping(self, timeout: float | None = 10.0) -> float:
        """Round-trip time in seconds of a ping answered by kvmd (binary or JSON, as the
        session's input). Raises :class:`PiKVMTimeoutError` if no answer comes within
        ``timeout`` seconds, writing the ping included (a stalled link takes none)."""
        check_timeout(timeout, none_ok=True)
        link = self._run.link
        if link is None:
            raise self._run.not_open()
        started = time.perf_counter()
        await round_trip(self._config, link, timeout)
        return time.perf_counter() - started
