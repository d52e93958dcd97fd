"""The blocking :class:`PiKVMWebSocket`: the async session, run on a client's loop."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from ..session import websocket as _ws
from ..session.actions import SessionActions
from ..session.config import DEFAULT_MAX_QUEUE
from ..session.pointer import Pointer
from ..transport.redaction import hidden
from ..transport.retry import RetryPolicy
from ..transport.tls import VerifySSL
from ._loop import LoopThread
from ._wrap import Blocking, Entering, Iterating, Wrapper

if TYPE_CHECKING:
    from ..models import DeviceState

_Async = _ws.PiKVMWebSocket


class PiKVMWebSocket(Wrapper[_ws.PiKVMWebSocket]):
    """A session on kvmd's ``/api/ws``, blocking: :class:`aiopikvm.PiKVMWebSocket`'s
    methods, arguments, results and errors, with ``with`` for ``async with``, a generator
    for :meth:`events`, and :meth:`close` for ``aclose``::

        with kvm.ws() as ws:
            ws.send_key("KeyA")
            with ws.held("ShiftLeft"):
                ws.click(100, 200)
            for event in ws.events():
                ...

    Every key and button held through the session is released when the ``with`` block
    ends — normally, by an exception, or by Ctrl-C (the interrupted call is cancelled and
    its clean-up waited for, then the release runs, then the ``KeyboardInterrupt`` goes
    on). Made by ``kvm.ws()``, it runs on that client's loop and is closed by
    ``kvm.close()`` if still open; made here, it has a loop (a thread) of its own. It may
    be used from several threads; ``progress`` callbacks run on the loop's thread, where
    a blocking call of this API raises :class:`~aiopikvm.InvalidInputError`.
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
        # Shown as '***' in a traceback's locals (a bad setting raises below).
        passwd, totp_secret = hidden(passwd), hidden(totp_secret)
        runner = LoopThread("aiopikvm-sync-ws")

        def build() -> _ws.PiKVMWebSocket:
            return _Async(
                url,
                user=user,
                passwd=passwd,
                totp_secret=totp_secret,
                verify_ssl=verify_ssl,
                stream=stream,
                open_timeout=open_timeout,
                close_timeout=close_timeout,
                binary=binary,
                max_queue=max_queue,
                reconnect=reconnect,
            )

        try:
            session = runner.call(build)
        except BaseException:
            runner.stop()
            raise
        self._setup(session, runner, None)
        # Forgotten without close(): its loop thread is stopped (the connection dropped).
        weakref.finalize(self, runner.stop)

    @classmethod
    def _on(
        cls,
        session: _ws.PiKVMWebSocket,
        runner: LoopThread,
        closed: Callable[[PiKVMWebSocket], None],
    ) -> Self:
        """A session on a client's loop; ``closed(self)`` is called once it has closed."""
        self = cls.__new__(cls)
        self._setup(session, runner, closed)
        return self

    def _setup(
        self,
        session: _ws.PiKVMWebSocket,
        runner: LoopThread,
        closed: Callable[[PiKVMWebSocket], None] | None,
    ) -> None:
        super().__init__(session, runner)
        self._closed = closed  # None: this session owns its loop, and stops it
        self._close_lock = threading.Lock()

    def __repr__(self) -> str:
        return repr(self._async)

    # ----- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    connect = Blocking(_Async.connect)

    def close(self) -> None:
        """Release what this session holds, then close (``aclose``): see
        :meth:`aiopikvm.PiKVMWebSocket.aclose`. Safe to call more than once. Not cancelled
        by Ctrl-C: its own bounds (``close_timeout``) end it."""
        if self._runner.stopped:
            return
        try:
            self._runner.run(self._async.aclose(), cancel=False)
        finally:
            with self._close_lock:
                closed, self._closed = self._closed, _done
            if closed is None:
                self._runner.stop()
            else:
                closed(self)

    # ----- events and state ---------------------------------------------------------------

    events = Iterating(_Async.events)
    wait_for = Blocking(SessionActions.wait_for)

    @property
    def state(self) -> DeviceState:
        """See :attr:`aiopikvm.PiKVMWebSocket.state` (read on the session's loop)."""
        return self._runner.call(lambda: self._async.state)

    @property
    def is_open(self) -> bool:
        return self._runner.call(lambda: self._async.is_open)

    @property
    def dropped_events(self) -> int:
        return self._runner.call(lambda: self._async.dropped_events)

    @property
    def reconnects(self) -> int:
        return self._runner.call(lambda: self._async.reconnects)

    # The settings never change: read directly.
    @property
    def url(self) -> str:
        return self._async.url

    @property
    def stream(self) -> bool:
        return self._async.stream

    @property
    def binary(self) -> bool:
        return self._async.binary

    @property
    def open_timeout(self) -> float | None:
        return self._async.open_timeout

    @property
    def close_timeout(self) -> float | None:
        return self._async.close_timeout

    # ----- input --------------------------------------------------------------------------

    @property
    def hid_event_time(self) -> float:
        """See :attr:`aiopikvm.PiKVMWebSocket.hid_event_time`."""
        return self._runner.call(lambda: self._async.hid_event_time)

    @hid_event_time.setter
    def hid_event_time(self, seconds: float) -> None:
        def assign() -> None:
            self._async.hid_event_time = seconds

        self._runner.call(assign)

    @property
    def held_keys(self) -> tuple[str, ...]:
        return self._runner.call(lambda: self._async.held_keys)

    @property
    def held_buttons(self) -> tuple[str, ...]:
        return self._runner.call(lambda: self._async.held_buttons)

    def screen_size(self) -> tuple[int, int]:
        """See :meth:`aiopikvm.PiKVMWebSocket.screen_size`."""
        return self._runner.call(self._async.screen_size)

    wait_for_screen_size = Blocking(_Async.wait_for_screen_size)
    send_key = Blocking(_Async.send_key)
    send_mouse_button = Blocking(_Async.send_mouse_button)
    send_mouse_move = Blocking(_Async.send_mouse_move)
    send_mouse_relative = Blocking(_Async.send_mouse_relative)
    send_mouse_wheel = Blocking(_Async.send_mouse_wheel)
    release_all = Blocking(_Async.release_all)
    ping = Blocking(_Async.ping)
    type_text = Blocking(SessionActions.type_text)
    send_shortcut = Blocking(SessionActions.send_shortcut)
    held = Entering(SessionActions.held)
    move_to = Blocking(Pointer.move_to)
    click = Blocking(Pointer.click)
    drag = Blocking(Pointer.drag)
    scroll = Blocking(Pointer.scroll)


def _done(_: Any) -> None:
    """What a second close() calls: nothing."""
