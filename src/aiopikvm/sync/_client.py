"""The blocking :class:`PiKVM`: the async client on an event loop thread of its own."""

from __future__ import annotations

import contextlib
import threading
import weakref
from types import TracebackType
from typing import Self

import httpx

from .. import _client
from .._client_actions import ClientActions
from .._client_vision import ClientVision
from ..errors import PiKVMError
from ..session.config import DEFAULT_MAX_QUEUE
from ..transport.auth import AuthMode
from ..transport.redaction import hidden
from ..transport.retry import RetryPolicy
from ..transport.tls import VerifySSL
from . import _resources as res
from ._loop import LoopThread
from ._websocket import PiKVMWebSocket
from ._wrap import Blocking, Wrapper

_Async = _client.PiKVM


class PiKVM(Wrapper[_client.PiKVM]):
    """A client for one PiKVM, blocking: :class:`aiopikvm.PiKVM`'s constructor, subsystems
    (``kvm.atx``, ``kvm.msd``, ...), methods, models and errors, with ``with`` for
    ``async with`` and :meth:`close` for ``aclose``::

        with PiKVM("https://pikvm.local", user="admin", passwd="admin") as kvm:
            kvm.atx.power_on(wait=True)
            print(kvm.type_text("hello\\n"))

    The async client runs on an event loop in a daemon thread of this client's own,
    started on first use, and all its calls run there: one client may be shared by
    several threads, and used for as many calls as needed (no ``asyncio.run`` per call).
    A Ctrl-C in a call cancels it on the loop, waits (at most 30 s) for its clean-up, and
    goes on. ``progress`` callbacks run on the loop's thread; a blocking call of this
    client from there would wait for itself, and raises :class:`~aiopikvm.InvalidInputError`.

    Left out on purpose: ``stream()``, which gives an ``httpx.Response`` whose body only
    has async readers. Use :meth:`request` (``expect="bytes"`` or ``"text"``),
    ``kvm.msd.iter_download`` or ``kvm.system.stream_log`` (generators here) instead.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str = "admin",
        passwd: str = "",
        totp_secret: str | None = None,
        verify_ssl: VerifySSL = True,
        timeout: float | None = 10.0,
        http_client: httpx.AsyncClient | None = None,
        auth: AuthMode = "headers",
        retries: RetryPolicy | None = None,
    ) -> None:
        # Shown as '***' in a traceback's locals (a bad setting raises below).
        passwd, totp_secret = hidden(passwd), hidden(totp_secret)
        runner = LoopThread("aiopikvm-sync")

        def build() -> _client.PiKVM:
            return _Async(
                url,
                user=user,
                passwd=passwd,
                totp_secret=totp_secret,
                verify_ssl=verify_ssl,
                timeout=timeout,
                http_client=http_client,
                auth=auth,
                retries=retries,
            )

        try:
            kvm = runner.call(build)  # on the loop: what it makes may bind to it
        except BaseException:
            runner.stop()
            raise
        super().__init__(kvm, runner)
        self.url = kvm.url
        self._sessions: set[PiKVMWebSocket] = set()
        self._lock = threading.Lock()
        self.atx = res.Atx(kvm.atx, runner)
        self.auth = res.Auth(kvm.auth, runner)
        self.gpio = res.Gpio(kvm.gpio, runner)
        self.hid = res.Hid(kvm.hid, runner)
        self.msd = res.Msd(kvm.msd, runner)
        self.prometheus = res.Prometheus(kvm.prometheus, runner)
        self.redfish = res.Redfish(kvm.redfish, runner)
        self.streamer = res.Streamer(kvm.streamer, runner)
        self.switch = res.Switch(kvm.switch, runner)
        self.system = res.System(kvm.system, runner)
        # Forgotten without close(): its loop thread is stopped (connections dropped).
        weakref.finalize(self, runner.stop)

    def __repr__(self) -> str:
        return repr(self._async)

    def __enter__(self) -> Self:
        self._runner.run(self._async.__aenter__())  # refuses a closed client
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the sessions of :meth:`ws` still open (releasing their keys), then the
        client (``aclose``: see :meth:`aiopikvm.PiKVM.aclose`), then stop its loop thread.
        Any later call raises :class:`~aiopikvm.ConnectionClosedError`. Safe to call more
        than once."""
        if self._runner.stopped:
            return
        try:
            while True:
                with self._lock:
                    if not self._sessions:
                        break
                    session = self._sessions.pop()
                with contextlib.suppress(PiKVMError):  # the others and the client still close
                    session.close()
            self._runner.run(self._async.aclose(), cancel=False)
        finally:
            self._runner.stop()

    request = Blocking(_Async.request)
    type_text = Blocking(ClientActions.type_text)
    wait_for_text = Blocking(ClientActions.wait_for_text)
    wait_for_screen_change = Blocking(ClientActions.wait_for_screen_change)
    wait_for_screen_stable = Blocking(ClientActions.wait_for_screen_stable)
    screenshot = Blocking(ClientVision.screenshot)
    find_image = Blocking(ClientVision.find_image)
    wait_for_image = Blocking(ClientVision.wait_for_image)
    click_image = Blocking(ClientVision.click_image)
    find_text = Blocking(ClientVision.find_text)
    wait_for_text_box = Blocking(ClientVision.wait_for_text_box)
    click_text = Blocking(ClientVision.click_text)

    def ws(
        self,
        *,
        stream: bool | int = False,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 10.0,
        binary: bool = True,
        max_queue: int = DEFAULT_MAX_QUEUE,
        reconnect: bool | RetryPolicy = False,
    ) -> PiKVMWebSocket:
        """A WebSocket session with this client's credentials and TLS settings, on its
        loop; use it as ``with kvm.ws() as ws:`` (see :meth:`aiopikvm.PiKVM.ws`)."""
        session = self._runner.call(
            lambda: self._async.ws(
                stream=stream,
                open_timeout=open_timeout,
                close_timeout=close_timeout,
                binary=binary,
                max_queue=max_queue,
                reconnect=reconnect,
            )
        )
        wrapper = PiKVMWebSocket._on(session, self._runner, self._forget)
        with self._lock:
            self._sessions.add(wrapper)
        return wrapper

    def _forget(self, session: PiKVMWebSocket) -> None:
        with self._lock:
            self._sessions.discard(session)
